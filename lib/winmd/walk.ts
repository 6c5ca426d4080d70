// Reads every part of a model once: every type, member, signature and attribute argument, and
// resolves every named type. For benchmarks (parse speed) and for the fuzz tests, which must reach
// the parts the model decodes lazily.
import type { AttributeArg, AttributeArgType, AttributeValue } from './attributes.js';
import type { Attribute } from './members.js';
import type { Metadata } from './model.js';
import type { TypeSig } from './type-sig.js';

export interface WalkCounts {
  files: number;
  bytes: number;
  types: number;
  fields: number;
  methods: number;
  params: number;
  properties: number;
  events: number;
  interfaces: number;
  attributes: number;
  attributeArgs: number;
  /** TypeSig nodes visited, nested ones included. */
  typeSigs: number;
  /** Named types that a loaded file defines, and those it does not (System.*, other files). */
  resolved: number;
  external: number;
}

/**
 * Walks the whole model and counts what it met.
 *
 * @example
 * const counts = walk(Metadata.load(dir)); // { files: 21, types: …, methods: …, … }
 */
export function walk(metadata: Metadata): WalkCounts {
  const counts: WalkCounts = {
    files: metadata.files.length,
    bytes: metadata.files.reduce((sum, f) => sum + f.bytes.length, 0),
    types: 0,
    fields: 0,
    methods: 0,
    params: 0,
    properties: 0,
    events: 0,
    interfaces: 0,
    attributes: 0,
    attributeArgs: 0,
    typeSigs: 0,
    resolved: 0,
    external: 0,
  };

  const sig = (type: TypeSig | null, depth = 0): void => {
    if (!type) return;
    counts.typeSigs++;
    for (const modifier of type.modifiers ?? []) sig(modifier.type, depth + 1);
    switch (type.kind) {
      case 'named':
      case 'generic': {
        const resolved = metadata.resolve(type);
        if (resolved?.kind === 'external') counts.external++;
        else counts.resolved++;
        if (type.kind === 'generic') {
          sig(type.type, depth + 1);
          for (const arg of type.args) sig(arg, depth + 1);
        }
        break;
      }
      case 'array':
        sig(type.element, depth + 1);
        break;
      case 'byref':
      case 'pointer':
        sig(type.type, depth + 1);
        break;
    }
  };
  const argType = (type: AttributeArgType): void => {
    if (type.kind === 'enum') sig(type.type);
    else if (type.kind === 'array') argType(type.element);
  };
  const value = (v: AttributeValue): void => {
    if (Array.isArray(v)) for (const item of v as AttributeValue[]) value(item);
    else if (v !== null && typeof v === 'object') {
      const item = v as TypeSig | AttributeArg;
      if ('kind' in item) sig(item);
      else {
        argType(item.type);
        value(item.value);
      }
    }
  };
  const attributes = (list: readonly Attribute[]): void => {
    for (const attribute of list) {
      counts.attributes++;
      for (const param of attribute.params) sig(param);
      for (const arg of [...attribute.args, ...attribute.named]) {
        counts.attributeArgs++;
        argType(arg.type);
        value(arg.value);
      }
    }
  };

  for (const type of metadata.types()) {
    counts.types++;
    void type.kind;
    void type.genericParams;
    sig(type.extends);
    attributes(type.attributes);
    // The WinRT readings of the attributes, and the enum's underlying type.
    void [type.guid, type.activatable, type.statics, type.composable, type.exclusiveTo, type.version];
    void [type.contractVersion, type.deprecated, type.marshalingBehavior, type.threading, type.underlyingType];
    for (const field of type.fields) {
      counts.fields++;
      sig(field.type);
      attributes(field.attributes);
    }
    for (const method of type.methods) {
      counts.methods++;
      attributes(method.attributes);
      void [method.overload, method.isDefaultOverload];
      const signature = method.signature;
      sig(signature.returnType);
      for (const param of [...signature.params, ...(signature.returnParam ? [signature.returnParam] : [])]) {
        counts.params++;
        sig(param.type);
        attributes(param.attributes);
      }
    }
    for (const property of type.properties) {
      counts.properties++;
      sig(property.type);
      attributes(property.attributes);
    }
    for (const event of type.events) {
      counts.events++;
      sig(event.type);
      attributes(event.attributes);
    }
    for (const impl of type.interfaces) {
      counts.interfaces++;
      sig(impl.type);
      attributes(impl.attributes);
      void impl.isDefault;
    }
  }
  return counts;
}
