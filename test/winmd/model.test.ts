// The model over the real metadata: types by name, kinds, members in metadata order, signatures,
// WinRT attributes, and named types resolved across files.
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatType, Metadata, type NamedTypeSig, TableId, type TypeDef, type TypeSig, walk } from '../../lib/winmd/index.js';
import { WINRT_ENUMS } from '../../lib/winmd/winrt-attributes.js';
import { WINMD_DIR, withInputs } from '../support/winmd.js';

let loaded: Metadata | undefined;
/** All the files, loaded once for the whole file. */
const metadata = (): Metadata => (loaded ??= Metadata.load(WINMD_DIR!));

function type(fullName: string): TypeDef {
  const found = metadata().type(fullName);
  assert.ok(found, `${fullName} is defined`);
  return found!;
}
const named = (fullName: string, isValueType = false): NamedTypeSig => {
  const dot = fullName.lastIndexOf('.');
  return { kind: 'named', namespace: fullName.slice(0, dot), name: fullName.slice(dot + 1), fullName, isValueType };
};
const methodNames = (t: TypeDef): string[] => t.methods.map((m) => m.name);
const UNIVERSAL = 'Windows.Foundation.UniversalApiContract';

// ---------------------------------------------------------------------------------------------

const lookup = withInputs(suite('Metadata: files, namespaces, types'));

lookup('loads every .winmd of the folder, in name order', () => {
  const files = metadata().files.map((f) => f.name);
  assert.ok(files.length >= 10);
  assert.equal(files, [...files].sort());
  assert.ok(files.includes('Windows.Foundation.winmd') && files.includes('Windows.ApplicationModel.winmd'));
});

lookup('namespaces are sorted and types(namespace) keeps file order', () => {
  const namespaces = metadata().namespaces();
  assert.equal(namespaces, [...namespaces].sort());
  assert.ok(namespaces.includes('Windows.Foundation') && namespaces.includes('Windows.ApplicationModel.Background'));
  assert.not.ok(namespaces.includes(''), '<Module> is not a type');
  const foundation = metadata().types('Windows.Foundation');
  assert.ok(foundation.length > 50);
  assert.ok(foundation.every((t) => t.namespace === 'Windows.Foundation' && t.file === 'Windows.Foundation.winmd'));
  const tokens = foundation.map((t) => t.token);
  assert.equal(tokens, [...tokens].sort((a, b) => a - b));
  assert.equal(metadata().types('No.Such.Namespace'), []);
});

lookup('type(fullName) finds generic types by their backtick name', () => {
  assert.is(type('Windows.Foundation.IAsyncOperation`1').name, 'IAsyncOperation`1');
  assert.is(metadata().type('Windows.Foundation.IAsyncOperation'), undefined);
  assert.is(metadata().type('System.Object'), undefined);
  assert.is(type('Windows.Foundation.Point').fullName, 'Windows.Foundation.Point');
});

lookup('a subset of the files: what they do not define resolves as external', () => {
  const background = Metadata.load([join(WINMD_DIR!, 'Windows.ApplicationModel.winmd')]);
  const statics = background.type('Windows.ApplicationModel.Background.IBackgroundExecutionManagerStatics')!;
  const returns = statics.methods[0]!.signature.returnType!;
  assert.equal(background.resolve(returns), { kind: 'external', namespace: 'Windows.Foundation', name: 'IAsyncOperation`1', fullName: 'Windows.Foundation.IAsyncOperation`1' });
  // Enum arguments of attributes defined in a file that is not loaded still decode (as Int32).
  assert.is(background.type('Windows.ApplicationModel.Background.BackgroundTaskBuilder')!.threading, 'MTA');
});

lookup.run();

// ---------------------------------------------------------------------------------------------

const kinds = withInputs(suite('TypeDef kinds and basics'));

kinds('interface, class, enum, struct, delegate, attribute, contract', () => {
  assert.is(type('Windows.Foundation.IAsyncAction').kind, 'interface');
  assert.is(type('Windows.ApplicationModel.Background.BackgroundTaskBuilder').kind, 'class');
  assert.is(type('Windows.Foundation.AsyncStatus').kind, 'enum');
  assert.is(type('Windows.Foundation.Point').kind, 'struct');
  assert.is(type('Windows.Foundation.AsyncActionCompletedHandler').kind, 'delegate');
  assert.is(type('Windows.Foundation.Metadata.ActivatableAttribute').kind, 'attribute');
  assert.is(type(UNIVERSAL).kind, 'contract');
});

kinds('extends: System bases are external references', () => {
  const builder = type('Windows.ApplicationModel.Background.BackgroundTaskBuilder');
  assert.equal(builder.extends, named('System.Object'));
  assert.equal(metadata().resolve(builder.extends!), { kind: 'external', namespace: 'System', name: 'Object', fullName: 'System.Object' });
  assert.is(type('Windows.Foundation.IAsyncAction').extends, null);
  assert.is(type('Windows.Foundation.AsyncStatus').extends?.kind === 'named' && (type('Windows.Foundation.AsyncStatus').extends as NamedTypeSig).fullName, 'System.Enum');
  assert.is(type('Windows.Foundation.Point').isValueType, true);
  assert.is(type('Windows.Foundation.IAsyncAction').isValueType, false);
  assert.is(type('Windows.Foundation.IAsyncAction').isWindowsRuntime, true);
});

kinds('IAsyncAction: GUID, methods in vtable order, property accessors', () => {
  const action = type('Windows.Foundation.IAsyncAction');
  assert.is(action.guid, '5A648006-843A-4DA9-865B-9D26E5DFAD7B');
  assert.equal(methodNames(action), ['put_Completed', 'get_Completed', 'GetResults']);
  assert.equal(action.interfaces.map((i) => i.type), [named('Windows.Foundation.IAsyncInfo')]);
  const [completed] = action.properties;
  assert.is(completed?.name, 'Completed');
  assert.equal(completed?.type, named('Windows.Foundation.AsyncActionCompletedHandler'));
  assert.is(completed?.getter, action.methods[1]);
  assert.is(completed?.setter, action.methods[0]);
  assert.is(action.methods[1]!.isSpecialName, true);
  assert.is(action.methods[2]!.isSpecialName, false);
  assert.is(action.methods[1]!.signature.returnParam?.name, 'handler');
  assert.is(action.methods[1]!.signature.returnParam?.sequence, 0);
  assert.is(action.methods[2]!.signature.returnParam, null);
});

kinds('AsyncStatus: enum members and their constants, Int32 underlying', () => {
  const status = type('Windows.Foundation.AsyncStatus');
  const members = Object.fromEntries(status.fields.filter((f) => f.isStatic && f.isLiteral).map((f) => [f.name, f.constant]));
  assert.equal(members, { Started: 0, Completed: 1, Canceled: 2, Error: 3 });
  assert.equal(status.underlyingType, { kind: 'primitive', name: 'Int32' });
  assert.is(status.fields[0]!.name, 'value__');
  assert.ok(status.fields.filter((f) => f.isStatic).every((f) => f.type.kind === 'named' && f.type.fullName === status.fullName));
  assert.is(status.isFlags, false);
});

kinds('a flags enum has UInt32 underlying and FlagsAttribute', () => {
  const options = type('Windows.ApplicationModel.AddResourcePackageOptions');
  assert.is(options.isFlags, true);
  assert.equal(options.underlyingType, { kind: 'primitive', name: 'UInt32' });
  assert.equal(options.fields.filter((f) => f.isStatic).map((f) => [f.name, f.constant]), [['None', 0], ['ForceTargetAppShutdown', 1], ['ApplyUpdateIfAvailable', 2]]);
});

kinds('Point: a struct with fields X and Y of type Single', () => {
  const point = type('Windows.Foundation.Point');
  assert.equal(point.fields.map((f) => [f.name, f.type, f.constant]), [
    ['X', { kind: 'primitive', name: 'Single' }, null],
    ['Y', { kind: 'primitive', name: 'Single' }, null],
  ]);
  assert.equal(point.methods, []);
  assert.is(point.underlyingType, null);
});

kinds('IAsyncOperation`1: one generic parameter, VAR 0 in its signatures', () => {
  const operation = type('Windows.Foundation.IAsyncOperation`1');
  assert.equal(operation.genericParams, ['TResult']);
  assert.equal(methodNames(operation), ['put_Completed', 'get_Completed', 'GetResults']);
  assert.equal(operation.methods[2]!.signature.returnType, { kind: 'var', index: 0 });
  const handler = operation.methods[0]!.signature.params[0]!;
  assert.is(handler.name, 'handler');
  assert.is(handler.isIn, true);
  assert.equal(handler.type, { kind: 'generic', type: named('Windows.Foundation.AsyncOperationCompletedHandler`1'), args: [{ kind: 'var', index: 0 }] });
  assert.is(formatType(handler.type, operation.genericParams), 'Windows.Foundation.AsyncOperationCompletedHandler`1<TResult>');
  assert.is(operation.guid, '9FC2B0BB-E446-44E2-AA61-9CAB8F636AF2');
});

kinds.run();

// ---------------------------------------------------------------------------------------------

const background = withInputs(suite('BackgroundTaskBuilder and friends'));

background('BackgroundTaskBuilder: activatable, default interface, statics, threading', () => {
  const builder = type('Windows.ApplicationModel.Background.BackgroundTaskBuilder');
  assert.equal(builder.activatable, [{ version: 0x10000, contract: UNIVERSAL }]);
  assert.equal(builder.defaultInterface, named('Windows.ApplicationModel.Background.IBackgroundTaskBuilder'));
  assert.equal(builder.interfaces.filter((i) => i.isDefault).length, 1);
  assert.is(builder.interfaces[0]!.isDefault, true);
  assert.is(builder.interfaces[1]!.isDefault, false);
  assert.equal(builder.statics.map((s) => s.type), [named('Windows.ApplicationModel.Background.IBackgroundTaskBuilderStatics')]);
  assert.is(builder.statics[0]!.contract, UNIVERSAL);
  assert.is(builder.threading, 'MTA');
  assert.is(builder.marshalingBehavior, 'Standard');
  assert.equal(builder.contractVersion, { contract: UNIVERSAL, version: 0x10000 });
  assert.is(builder.guid, null);
  assert.ok(builder.isSealed);
});

background('IBackgroundTaskBuilder: exclusive to the class, with its own GUID', () => {
  const iface = type('Windows.ApplicationModel.Background.IBackgroundTaskBuilder');
  assert.is(iface.guid, '0351550E-3E64-4572-A93A-84075A37C917');
  assert.equal(iface.exclusiveTo, named('Windows.ApplicationModel.Background.BackgroundTaskBuilder'));
});

background('IBackgroundTaskBuilder5.SetTaskEntryPointClsid takes a System.Guid', () => {
  const iface = type('Windows.ApplicationModel.Background.IBackgroundTaskBuilder5');
  const [method] = iface.methods;
  assert.is(method?.name, 'SetTaskEntryPointClsid');
  assert.is(method?.signature.returnType, null);
  const [param] = method!.signature.params;
  assert.equal(param?.type, named('System.Guid', true));
  assert.is(param?.isIn, true);
  assert.equal(metadata().resolve(param!.type), { kind: 'external', namespace: 'System', name: 'Guid', fullName: 'System.Guid' });
});

background('cross-file TypeRefs resolve through the model', () => {
  const statics = type('Windows.ApplicationModel.Background.IBackgroundExecutionManagerStatics');
  const request = statics.methods.find((m) => m.name === 'RequestAccessAsync')!;
  const returns = request.signature.returnType as TypeSig;
  assert.is(formatType(returns), 'Windows.Foundation.IAsyncOperation`1<Windows.ApplicationModel.Background.BackgroundAccessStatus>');
  const operation = metadata().resolve(returns);
  assert.ok(operation && operation.kind === 'interface');
  assert.is((operation as TypeDef).file, 'Windows.Foundation.winmd');
  assert.is(operation, type('Windows.Foundation.IAsyncOperation`1'));
  const user = type('Windows.ApplicationModel.Background.IBackgroundTaskInstance4').methods.find((m) => m.name === 'get_User')!;
  const resolved = metadata().resolve(user.signature.returnType!) as TypeDef;
  assert.is(resolved.fullName, 'Windows.System.User');
  assert.is(resolved.file, 'Windows.System.winmd');
  assert.is(resolved.kind, 'class');
});

background('OverloadAttribute and DefaultOverloadAttribute', () => {
  const trigger = type('Windows.ApplicationModel.Background.IDeviceServicingTrigger');
  assert.equal(trigger.methods.map((m) => [m.name, m.overload, m.signature.params.length]), [
    ['RequestAsync', 'RequestAsyncSimple', 2],
    ['RequestAsync', 'RequestAsyncWithArguments', 3],
  ]);
  assert.ok(trigger.methods.every((m) => m.isDefaultOverload));
  assert.is(type('Windows.Foundation.IAsyncAction').methods[0]!.overload, null);
  assert.is(type('Windows.Foundation.IAsyncAction').methods[0]!.isDefaultOverload, false);
});

background('events: type and add/remove accessors', () => {
  const registration = type('Windows.ApplicationModel.Background.BackgroundTaskRegistration');
  const completed = registration.events.find((e) => e.name === 'Completed')!;
  assert.equal(completed.type, named('Windows.ApplicationModel.Background.BackgroundTaskCompletedEventHandler'));
  assert.is(completed.adder?.name, 'add_Completed');
  assert.is(completed.remover?.name, 'remove_Completed');
  assert.is(completed.adder?.declaringType, registration);
});

background.run();

// ---------------------------------------------------------------------------------------------

const details = withInputs(suite('signature and attribute details'));

details('const by-reference Guid parameters (IsConst: a modopt in the real files, not a modreq)', () => {
  const equals = type('Windows.Foundation.GuidHelper').methods.find((m) => m.name === 'Equals')!;
  for (const param of equals.signature.params) {
    assert.is(param.isConst, true);
    assert.is(param.type.kind, 'byref');
    assert.equal(param.type.modifiers?.map((m) => [m.required, m.type.fullName]), [[false, 'System.Runtime.CompilerServices.IsConst']]);
    assert.is(formatType(param.type), 'const ref System.Guid');
  }
  assert.is(type('Windows.Foundation.IAsyncAction').methods[0]!.signature.params[0]!.isConst, false);
});

details('out arrays are BYREF SZARRAY parameters with the Out flag', () => {
  const getter = type('Windows.Foundation.IPropertyValue').methods.find((m) => m.name === 'GetUInt8Array')!;
  const [value] = getter.signature.params;
  assert.is(value?.isOut, true);
  assert.is(value?.isIn, false);
  assert.equal(value?.type, { kind: 'byref', type: { kind: 'array', element: { kind: 'primitive', name: 'UInt8' } } });
});

details('composable classes and overridable interfaces', () => {
  const dependencyObject = type('Windows.UI.Xaml.DependencyObject');
  assert.equal(dependencyObject.composable, [{ type: named('Windows.UI.Xaml.IDependencyObjectFactory'), compositionType: 'Protected', version: 0x10000, contract: UNIVERSAL }]);
  const application = type('Windows.UI.Xaml.Application');
  assert.equal(application.interfaces.filter((i) => i.isOverridable).map((i) => formatType(i.type)), ['Windows.UI.Xaml.IApplicationOverrides', 'Windows.UI.Xaml.IApplicationOverrides2']);
});

details('deprecated types, and contract versions on the contracts themselves', () => {
  const preview = type('Windows.AI.MachineLearning.Preview.FeatureElementKindPreview');
  assert.equal(preview.deprecated.map((d) => [d.type, d.version, d.contract]), [['Deprecate', 0x20000, 'Windows.AI.MachineLearning.Preview.MachineLearningPreviewContract']]);
  assert.match(preview.deprecated[0]!.message, /TensorKind/);
  const universal = type(UNIVERSAL).contractVersion;
  assert.ok(universal && universal.contract === undefined && universal.version >= 0x10000);
});

details('attributes: names, constructor parameters, decoded arguments', () => {
  const builder = type('Windows.ApplicationModel.Background.BackgroundTaskBuilder');
  const statics = builder.attributes.find((a) => a.typeName === 'StaticAttribute')!;
  assert.is(statics.name, 'Windows.Foundation.Metadata.StaticAttribute');
  assert.is(statics.namespace, 'Windows.Foundation.Metadata');
  assert.equal(statics.params.map((p) => formatType(p)), ['System.Type', 'UInt32', 'String']);
  assert.equal(statics.args.map((a) => a.type.kind), ['type', 'primitive', 'primitive']);
  assert.equal(statics.named, []);
  // In Windows.Foundation.winmd the attribute types are TypeDefs of the same file.
  const action = type('Windows.Foundation.IAsyncAction').attributes.map((a) => a.name);
  assert.ok(action.includes('Windows.Foundation.Metadata.GuidAttribute'));
});

details('the WinRT enum names in winrt-attributes.ts are those of the metadata', () => {
  for (const [fullName, names] of Object.entries(WINRT_ENUMS)) {
    const definition = type(fullName);
    const members = Object.fromEntries(definition.fields.filter((f) => f.isStatic).map((f) => [f.constant, f.name]));
    assert.equal(members, Object.fromEntries(Object.entries(names)), fullName);
  }
});

details('walk() meets every type and member the tables hold', () => {
  const counts = walk(metadata());
  const rows = (id: TableId): number => metadata().files.reduce((sum, f) => sum + f.rows(id), 0);
  assert.is(counts.files, metadata().files.length);
  assert.is(counts.types, rows(TableId.TypeDef) - metadata().files.length); // less one <Module> each
  assert.is(counts.methods, rows(TableId.MethodDef));
  assert.is(counts.fields, rows(TableId.Field));
  assert.is(counts.properties, rows(TableId.Property));
  assert.is(counts.events, rows(TableId.Event));
  assert.is(counts.interfaces, rows(TableId.InterfaceImpl));
  assert.is(counts.attributes, rows(TableId.CustomAttribute));
  assert.ok(counts.external > 0 && counts.resolved > counts.external);
});

details.run();
