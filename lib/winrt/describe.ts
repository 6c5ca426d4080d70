// `winbg describe`: a projected type's ABI — vtable slots after IUnknown/IInspectable, with ABI
// and metadata names — as the projection registered it.
import { descriptorOf, resolveType, type MethodDescriptor, type ParamDescriptor, type ResolvedType } from './index.js'; // the whole of winrt/: one chunk of the bundle

export interface Description {
  readonly name: string;
  readonly kind: 'class' | 'interface' | 'delegate' | 'enum' | 'struct';
  readonly iid: string | null;
  readonly base: string | null;
  readonly methods: readonly {
    readonly name: string;
    readonly metadataName: string;
    readonly params: readonly { readonly name: string; readonly type: string; readonly direction: 'in' | 'out'; readonly array?: 'pass' | 'fill' | 'receive' }[];
    readonly returns: string | null;
  }[];
  readonly values?: Readonly<Record<string, number>>;
  readonly fields?: readonly { readonly name: string; readonly type: string }[];
  readonly signature: string;
}

function param([name, type, flow]: ParamDescriptor): Description['methods'][number]['params'][number] {
  const direction = flow === 'out' || flow === 'receive' || flow === 'fill' ? 'out' : 'in';
  return flow === 'pass' || flow === 'fill' || flow === 'receive' ? { name, type: `${type}[]`, direction, array: flow } : { name, type, direction };
}

function method([name, params, returns, metadataName]: MethodDescriptor): Description['methods'][number] {
  return { name, metadataName: metadataName ?? name, params: params.map(param), returns: returns ?? null };
}

/**
 * Describes a projected type by name in WinRT notation.
 * @throws TypeError for names no loaded projection defines.
 */
export function describe(typeName: string): Description {
  const type: ResolvedType = resolveType(typeName);
  switch (type.kind) {
    case 'class': {
      const defaultInterface = type.descriptor.default ? (resolveType(type.descriptor.default) as ResolvedType & { kind: 'interface' }) : null;
      return {
        name: type.name, kind: 'class', iid: defaultInterface?.iface.iid.toString() ?? null, base: type.descriptor.default,
        methods: defaultInterface ? (defaultInterface.descriptor as { methods: readonly MethodDescriptor[] }).methods.map(method) : [],
        signature: type.signature,
      };
    }
    case 'interface':
      return { name: type.name, kind: 'interface', iid: type.iface.iid.toString(), base: 'IInspectable', methods: (type.descriptor as { methods: readonly MethodDescriptor[] }).methods.map(method), signature: type.signature };
    case 'delegate': {
      const descriptor = type.descriptor as { params: readonly ParamDescriptor[]; returns?: string | null };
      return { name: type.name, kind: 'delegate', iid: type.iface.iid.toString(), base: 'IUnknown', methods: [method(['Invoke', descriptor.params, descriptor.returns ?? null])], signature: type.signature };
    }
    case 'enum':
      return { name: type.name, kind: 'enum', iid: null, base: null, methods: [], values: type.values, signature: type.signature };
    case 'struct':
      return { name: type.name, kind: 'struct', iid: null, base: null, methods: [], fields: (descriptorOf(type.name) as { fields: readonly (readonly [string, string])[] }).fields.map(([name, field]) => ({ name, type: field })), signature: type.signature };
    default:
      throw new TypeError(`${typeName} is a primitive type; describe takes runtime classes, interfaces, delegates, enums and structs`);
  }
}
