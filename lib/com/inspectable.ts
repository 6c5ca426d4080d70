// The three IInspectable methods (inspectable.idl), callable on any ComPtr of a WinRT object.
import type { Pointer } from '../ffi/koffi.js';
import { taskMemFree } from '../ffi/task-memory.js';
import { Guid } from './guid.js';
import { callMethod, type ComPtr } from './pointer.js';
import { IInspectable } from './unknown.js';

function call(target: ComPtr<any>, index: number): unknown {
  using inspectable = target.as(IInspectable);
  return callMethod(inspectable, IInspectable.methods[index]!, []);
}

/** IInspectable::GetIids: the WinRT interfaces the object implements. */
export function getIids(target: ComPtr<any>): Guid[] {
  const [count, array] = call(target, 0) as [number, Pointer | null];
  const iids: Guid[] = [];
  try {
    for (let i = 0; i < count; i++) iids.push(Guid.read(array! + BigInt(i * 16)));
  } finally {
    taskMemFree(array); // allocated by the callee with CoTaskMemAlloc
  }
  return iids;
}

/** IInspectable::GetRuntimeClassName, e.g. 'Windows.ApplicationModel.Background.TimeTrigger'. */
export function getRuntimeClassName(target: ComPtr<any>): string {
  return call(target, 1) as string;
}

/** IInspectable::GetTrustLevel (0 BaseTrust, 1 PartialTrust, 2 FullTrust). */
export function getTrustLevel(target: ComPtr<any>): number {
  return call(target, 2) as number;
}
