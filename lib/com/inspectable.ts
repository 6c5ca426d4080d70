// The three IInspectable methods (inspectable.idl), callable on any ComPtr of a WinRT object.
import type { Pointer } from '../ffi/koffi.js';
import { taskMemFree } from '../ffi/task-memory.js';
import { Guid } from './guid.js';
import { ComError } from './hresult.js';
import { takeHString } from './hstring.js';
import { ComPtr } from './pointer.js';
import { IInspectable } from './unknown.js';

function call(target: ComPtr<any>, index: number, ...outs: unknown[]): void {
  const method = IInspectable.methods[index]!;
  using inspectable = target.as(IInspectable);
  const hr = ComPtr.functionOf(inspectable, method)(inspectable.pointer, ...outs) as number;
  ComError.check(hr, `IInspectable::${method.name}`);
}

/** IInspectable::GetIids: the WinRT interfaces the object implements. */
export function getIids(target: ComPtr<any>): Guid[] {
  const count: [number] = [0];
  const array: [Pointer | null] = [null];
  call(target, 0, count, array);
  const iids: Guid[] = [];
  try {
    for (let i = 0; i < count[0]; i++) iids.push(Guid.read(array[0]! + BigInt(i * 16)));
  } finally {
    taskMemFree(array[0]); // allocated by the callee with CoTaskMemAlloc
  }
  return iids;
}

/** IInspectable::GetRuntimeClassName, e.g. 'Windows.ApplicationModel.Background.TimeTrigger'. */
export function getRuntimeClassName(target: ComPtr<any>): string {
  const name: [Pointer | null] = [null];
  call(target, 1, name);
  return takeHString(name[0]);
}

/** IInspectable::GetTrustLevel (0 BaseTrust, 1 PartialTrust, 2 FullTrust). */
export function getTrustLevel(target: ComPtr<any>): number {
  const level: [number] = [0];
  call(target, 2, level);
  return level[0];
}

