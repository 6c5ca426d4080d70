// Type signatures and parameterized interface IIDs, from the Windows Runtime type system
// specification ("Guid generation for parameterized types"): an instantiation's IID is a UUID
// version 5 (RFC 4122, SHA-1) of the UTF-8 signature
//   pinterface({piid};arg1;arg2…)
// in the namespace 11f47ad5-7b73-42c0-abae-878b1e16adee, where each argument is written as:
//   primitives i1 u1 i2 u2 i4 u4 i8 u8 f4 f8 b1 c2 string g16, Object cinterface(IInspectable),
//   an interface {iid}, a delegate delegate({iid}), a runtime class rc(Name;default-interface),
//   an enum enum(Name;i4|u4), a struct struct(Name;field;field…), an instantiation pinterface(…).
// GUIDs inside signatures are lower case with braces.
import { createRequire } from 'node:module';
import { Guid } from '../com/guid.js';

/**
 * node:crypto's createHash, loaded on the first IID computed: node:crypto (with the streams its
 * hashes are made of) is the largest built-in winbg uses, and a served task that instantiates no
 * generic interface never needs it.
 */
let sha1: ((data: readonly Uint8Array[]) => Uint8Array) | undefined;
function sha1Of(data: readonly Uint8Array[]): Uint8Array {
  if (!sha1) {
    const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
    sha1 = (parts) => {
      const hash = createHash('sha1');
      for (const part of parts) hash.update(part);
      return hash.digest();
    };
  }
  return sha1(data);
}

const NAMESPACE = Guid.parse('11f47ad5-7b73-42c0-abae-878b1e16adee');

/** The signature of each WinRT primitive type, by its WinRT name. */
export const PRIMITIVE_SIGNATURES: Readonly<Record<string, string>> = {
  Int8: 'i1', UInt8: 'u1', Int16: 'i2', UInt16: 'u2', Int32: 'i4', UInt32: 'u4', Int64: 'i8', UInt64: 'u8',
  Single: 'f4', Double: 'f8', Boolean: 'b1', Char16: 'c2', String: 'string', Guid: 'g16', Object: 'cinterface(IInspectable)',
};

/** `{iid}` as signatures write it. */
export function guidSignature(iid: Guid): string {
  return iid.format({ braces: true, lowercase: true });
}

/** The signature of an instantiation of the parameterized type with IID `piid`. */
export function pinterfaceSignature(piid: Guid, args: readonly string[]): string {
  return `pinterface(${guidSignature(piid)};${args.join(';')})`;
}

/** The IID of a type whose signature is `signature` (UUID v5 under the WinRT namespace). */
export function iidFromSignature(signature: string): Guid {
  // RFC 4122 §4.3: hash the namespace in network byte order, then the name.
  const namespace = bigEndian(NAMESPACE.bytes);
  const hash = sha1Of([namespace, Buffer.from(signature, 'utf8')]);
  const uuid = new Uint8Array(hash.subarray(0, 16));
  uuid[6] = (uuid[6]! & 0x0f) | 0x50; // version 5
  uuid[8] = (uuid[8]! & 0x3f) | 0x80; // RFC 4122 variant
  return Guid.fromBytes(bigEndian(uuid)); // back to GUID struct order (little-endian Data1-3)
}

/** Swaps Data1, Data2 and Data3 between the GUID struct's little-endian order and RFC 4122's. */
function bigEndian(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes);
  out.set([bytes[3]!, bytes[2]!, bytes[1]!, bytes[0]!, bytes[5]!, bytes[4]!, bytes[7]!, bytes[6]!], 0);
  return out;
}
