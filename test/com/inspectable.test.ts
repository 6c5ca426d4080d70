// IInspectable on JS objects: GetIids, GetRuntimeClassName, GetTrustLevel (inspectable.idl).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createObject, E_POINTER, getIids, getRuntimeClassName, getTrustLevel, Guid, S_OK, takeHString, TrustLevel } from '../../lib/com/index.js';
import { taskMemFree } from '../../lib/ffi/task-memory.js';
import { ICalculator, INamed } from '../support/interfaces.js';
import { callSlot, IID, Memory, queryInterface, readBytes, readInt32, readPointer, readUint32, release } from '../support/native.js';

class Person {
  static interfaces = [INamed, ICalculator];
  get_Name(): string {
    return 'p';
  }
}

const test = suite('IInspectable');
const memory = new Memory();
test.after.each(() => memory.free());

function inspectable(ptr: bigint): bigint {
  const out = memory.alloc(8);
  assert.is(queryInterface(ptr, memory.guid(IID.IInspectable), out), S_OK);
  return readPointer(out)!;
}

test('GetIids lists the WinRT interfaces in a CoTaskMem array the caller frees', () => {
  const obj = createObject(new Person()).detach();
  const self = inspectable(obj);
  const count = memory.alloc(4), array = memory.alloc(8);
  assert.is(callSlot(self, 3, 'int32_t', ['void *', 'void *'], count, array), S_OK);
  assert.is(readUint32(count), 1, 'ICalculator derives from IUnknown only, so it is not listed');
  const iids = readPointer(array)!;
  assert.ok(Guid.fromBytes(readBytes(iids, 16)).equals(INamed.iid));
  taskMemFree(iids);
  release(self);
  release(obj);
});

test('GetRuntimeClassName defaults to the first WinRT interface and can be set', () => {
  using named = createObject(new Person());
  assert.is(getRuntimeClassName(named), 'INamed');
  using custom = createObject(new Person(), undefined, { runtimeClassName: 'Sample.Person' });
  const self = inspectable(custom.pointer);
  const name = memory.alloc(8);
  assert.is(callSlot(self, 4, 'int32_t', ['void *'], name), S_OK);
  assert.is(takeHString(readPointer(name)), 'Sample.Person');
  release(self);
});

test('GetTrustLevel is BaseTrust', () => {
  using named = createObject(new Person());
  const level = memory.alloc(4, 0xcc);
  const self = inspectable(named.pointer);
  assert.is(callSlot(self, 5, 'int32_t', ['void *'], level), S_OK);
  assert.is(readInt32(level), TrustLevel.BaseTrust);
  assert.is(getTrustLevel(named), TrustLevel.BaseTrust);
  release(self);
});

test('NULL out-pointers give E_POINTER', () => {
  using named = createObject(new Person());
  const self = inspectable(named.pointer);
  assert.is(callSlot(self, 3, 'int32_t', ['void *', 'void *'], memory.alloc(4), null), E_POINTER);
  assert.is(callSlot(self, 4, 'int32_t', ['void *'], null), E_POINTER);
  assert.is(callSlot(self, 5, 'int32_t', ['void *'], null), E_POINTER);
  release(self);
});

test('getIids() reads and frees the array', () => {
  using named = createObject(new Person());
  const iids = getIids(named);
  assert.is(iids.length, 1);
  assert.is(iids[0]!.toString(), INamed.iid.toString());
});

test.run();
