// emitIdl on the real metadata: the IDL of the background task interfaces (golden output, byte for
// byte, in test/fixtures/generator/idl/; UPDATE_GOLDEN=1 rewrites it), its key lines, the WinRT
// array shapes, the errors, and — where Wine's widl is on PATH — that widl compiles it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { emitIdl, inputHashes } from '../../lib/generator/index.js';
import { Metadata } from '../../lib/winmd/index.js';
import { WINMD_DIR, withInputs } from '../support/winmd.js';
import { removeTree } from '../support/files.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const golden = join(root, 'test', 'fixtures', 'generator', 'idl', 'background.idl');
const update = process.env.UPDATE_GOLDEN === '1';
// Another Windows version's metadata gives other output, so the golden comparison needs the pinned inputs.
const pinned = WINMD_DIR !== null && inputHashes(WINMD_DIR) === readFileSync(join(root, 'winmd', 'SHA256SUMS'), 'utf8');

const NS = 'Windows.ApplicationModel.Background.';
const BACKGROUND = ['IBackgroundTask', 'IBackgroundTaskInstance', 'IBackgroundTaskDeferral', 'BackgroundTaskCanceledEventHandler', 'IBackgroundTaskRegistration'].map((n) => NS + n);

let loaded: Metadata | undefined;
const metadata = (): Metadata => (loaded ??= Metadata.load(WINMD_DIR!));
let backgroundIdl: string | undefined;
const background = (): string => (backgroundIdl ??= emitIdl(metadata(), BACKGROUND));

/** The block that defines `name` (from its `[object, …]` line to its closing brace). */
function definition(idl: string, name: string): string {
  const match = new RegExp(`\\[object, uuid\\([0-9A-F-]+\\), pointer_default\\(unique\\)\\]\\ninterface ${name} : \\w+\\n\\{\\n[^}]*\\}`).exec(idl);
  assert.ok(match, `${name} is defined`);
  return match![0];
}

// ---------------------------------------------------------------------------------------------

const output = withInputs(suite('emitIdl: the background task interfaces'));

const GOLDEN = 'matches test/fixtures/generator/idl/background.idl byte for byte';
if (!pinned) {
  if (WINMD_DIR) console.log('  note: the .winmd inputs are not the pinned ones of winmd/SHA256SUMS: the golden IDL comparison is skipped');
  output.skip(GOLDEN);
} else {
  output(GOLDEN, () => {
    if (update) {
      mkdirSync(dirname(golden), { recursive: true });
      writeFileSync(golden, background());
    }
    assert.ok(existsSync(golden), `no expected output in ${golden}: run with UPDATE_GOLDEN=1`);
    assert.fixture(background(), readFileSync(golden, 'utf8'));
  });
}

output('starts with the import, then forward declarations, enums and structs, then the definitions', () => {
  const idl = background();
  assert.ok(idl.startsWith('import "inspectable.idl";\n'));
  const firstForward = idl.indexOf('\ninterface IBackgroundTask;\n');
  const firstTypedef = idl.indexOf('\ntypedef ');
  const firstDefinition = idl.indexOf('\n[object, ');
  assert.ok(firstForward > 0 && firstForward < firstTypedef && firstTypedef < firstDefinition, 'forwards < typedefs < definitions');
  const forwards = [...idl.matchAll(/^interface (\w+);$/gm)].map((m) => m[1]);
  const defined = [...idl.matchAll(/^interface (\w+) : \w+$/gm)].map((m) => m[1]);
  assert.equal(forwards, defined, 'every interface is declared ahead and defined, in the same order');
});

output('the closure: roots, the handlers and event args they reach, runtime classes as default interfaces', () => {
  const idl = background();
  const defined = [...idl.matchAll(/^interface (\w+) : \w+$/gm)].map((m) => m[1]).sort();
  assert.equal(defined, [
    'BackgroundTaskCanceledEventHandler',
    'BackgroundTaskCompletedEventHandler',
    'BackgroundTaskProgressEventHandler',
    'IBackgroundTask',
    'IBackgroundTaskCompletedEventArgs',
    'IBackgroundTaskDeferral',
    'IBackgroundTaskInstance',
    'IBackgroundTaskProgressEventArgs',
    'IBackgroundTaskRegistration',
  ]);
  assert.not.match(idl, /\bBackgroundTaskRegistration\*/, 'the runtime class is never named');
  assert.ok(idl.includes('    HRESULT get_Task([out, retval] IBackgroundTaskRegistration** result);'));
  assert.ok(idl.includes('    HRESULT GetDeferral([out, retval] IBackgroundTaskDeferral** result);'));
});

output('interfaces: IID, IInspectable base, ABI names in vtable order, [out, retval]', () => {
  const idl = background();
  assert.is(definition(idl, 'IBackgroundTask'), [
    '[object, uuid(7D13D534-FD12-43CE-8C22-EA1FF13C06DF), pointer_default(unique)]',
    'interface IBackgroundTask : IInspectable',
    '{',
    '    HRESULT Run([in] IBackgroundTaskInstance* taskInstance);',
    '}',
  ].join('\n'));
  const instance = definition(idl, 'IBackgroundTaskInstance');
  assert.ok(instance.startsWith('[object, uuid(865BDA7A-21D8-4573-8F32-928A1B0641F6), pointer_default(unique)]\ninterface IBackgroundTaskInstance : IInspectable\n'));
  assert.equal([...instance.matchAll(/HRESULT (\w+)\(/g)].map((m) => m[1]), [
    'get_InstanceId', 'get_Task', 'get_Progress', 'put_Progress', 'get_TriggerDetails', 'add_Canceled', 'remove_Canceled', 'get_SuspendedCount', 'GetDeferral',
  ]);
  assert.ok(instance.includes('HRESULT get_InstanceId([out, retval] GUID* result);'));
  assert.ok(instance.includes('HRESULT put_Progress([in] UINT32 value);'));
  assert.ok(instance.includes('HRESULT get_TriggerDetails([out, retval] IInspectable** result);'));
  assert.ok(instance.includes('HRESULT add_Canceled([in] BackgroundTaskCanceledEventHandler* cancelHandler, [out, retval] EventRegistrationToken* result);'));
  assert.ok(instance.includes('HRESULT remove_Canceled([in] EventRegistrationToken cookie);'));
  const registration = definition(idl, 'IBackgroundTaskRegistration');
  assert.ok(registration.includes('HRESULT get_Name([out, retval] HSTRING* result);'));
  assert.ok(registration.includes('HRESULT Unregister([in] boolean cancelTask);'));
});

output('delegates: IUnknown base and their one Invoke', () => {
  assert.is(definition(background(), 'BackgroundTaskCanceledEventHandler'), [
    '[object, uuid(A6C4BAC0-51F8-4C57-AC3F-156DD1680C4F), pointer_default(unique)]',
    'interface BackgroundTaskCanceledEventHandler : IUnknown',
    '{',
    '    HRESULT Invoke([in] IBackgroundTaskInstance* sender, [in] BackgroundTaskCancellationReason reason);',
    '}',
  ].join('\n'));
  assert.ok(definition(background(), 'BackgroundTaskCompletedEventHandler').includes('HRESULT Invoke([in] IBackgroundTaskRegistration* sender, [in] IBackgroundTaskCompletedEventArgs* args);'));
});

output('enums as v1_enum with prefixed members; EventRegistrationToken as a struct', () => {
  const idl = background();
  assert.ok(idl.includes('typedef [v1_enum] enum BackgroundTaskCancellationReason\n{\n    BackgroundTaskCancellationReason_Abort = 0,\n'));
  assert.ok(idl.includes('    BackgroundTaskCancellationReason_EnergySaver = 11\n} BackgroundTaskCancellationReason;'));
  assert.ok(idl.includes('typedef struct EventRegistrationToken\n{\n    INT64 Value;\n} EventRegistrationToken;'));
});

output('is deterministic and does not depend on the order of the roots', () => {
  assert.is(emitIdl(Metadata.load(WINMD_DIR!), [...BACKGROUND].reverse()), background());
});

// ---------------------------------------------------------------------------------------------

const shapes = withInputs(suite('emitIdl: arrays and value types'));

shapes('pass and receive arrays, with the size named after the array', () => {
  const idl = emitIdl(metadata(), ['Windows.Security.Cryptography.ICryptographicBufferStatics']);
  assert.ok(idl.includes('HRESULT CreateFromByteArray([in] UINT32 __valueSize, [in, size_is(__valueSize)] BYTE* value, [out, retval] IBuffer** result);'));
  assert.ok(idl.includes('HRESULT CopyToByteArray([in] IBuffer* buffer, [out] UINT32* __valueSize, [out, size_is(, *__valueSize)] BYTE** value);'));
  assert.ok(idl.includes('HRESULT ConvertStringToBinary([in] HSTRING value, [in] BinaryStringEncoding encoding, [out, retval] IBuffer** result);'));
});

shapes('fill arrays', () => {
  const idl = emitIdl(metadata(), ['Windows.Devices.I2c.II2cDevice']);
  assert.ok(idl.includes('HRESULT Read([in] UINT32 __bufferSize, [out, size_is(__bufferSize)] BYTE* buffer);'));
  assert.ok(idl.includes('HRESULT WriteRead([in] UINT32 __writeBufferSize, [in, size_is(__writeBufferSize)] BYTE* writeBuffer, [in] UINT32 __readBufferSize, [out, size_is(__readBufferSize)] BYTE* readBuffer);'));
  assert.match(idl, /typedef struct I2cTransferResult\n\{\n {4}I2cTransferStatus Status;\n {4}UINT32 BytesTransferred;\n\} I2cTransferResult;/);
  assert.ok(idl.indexOf('enum I2cTransferStatus') < idl.indexOf('struct I2cTransferResult'), 'an enum comes before the struct that holds it');
});

shapes('an array return value is received: [out] size, [out, retval] array', () => {
  const idl = emitIdl(metadata(), ['Windows.ApplicationModel.IAppInfo4']);
  assert.ok(idl.includes('HRESULT get_SupportedFileExtensions([out] UINT32* __resultSize, [out, retval, size_is(, *__resultSize)] HSTRING** result);'));
});

shapes('an UInt32 (flags) enum value past Int32 is written in hex', () => {
  const idl = emitIdl(metadata(), ['Windows.ApplicationModel.Contacts.IContactQueryTextSearch']);
  assert.match(idl, /typedef \[v1_enum\] enum ContactQuerySearchFields\n\{\n {4}ContactQuerySearchFields_None = 0,/);
  assert.ok(idl.includes('    ContactQuerySearchFields_All = 0xffffffff\n} ContactQuerySearchFields;'));
});

// ---------------------------------------------------------------------------------------------

const errors = withInputs(suite('emitIdl: errors name what was wrong'));

errors('an unknown root', () => {
  assert.throws(() => emitIdl(metadata(), [`${NS}IBackgroundTask`, 'Windows.Nowhere.INothing']), /unknown root Windows\.Nowhere\.INothing/);
});

errors('no roots', () => {
  assert.throws(() => emitIdl(metadata(), []), /no roots/);
});

errors('a runtime class as a root: pass the interface', () => {
  assert.throws(
    () => emitIdl(metadata(), [`${NS}BackgroundTaskRegistration`]),
    (e: Error) =>
      e.message.includes(`root ${NS}BackgroundTaskRegistration is a runtime class`) &&
      e.message.includes('pass the interface') &&
      e.message.includes(`${NS}IBackgroundTaskRegistration`),
  );
});

errors('an enum or struct as a root', () => {
  assert.throws(() => emitIdl(metadata(), [`${NS}BackgroundTaskCancellationReason`]), /BackgroundTaskCancellationReason is an enum, not an interface or delegate/);
  assert.throws(() => emitIdl(metadata(), ['Windows.Foundation.EventRegistrationToken']), /EventRegistrationToken is a struct, not an interface or delegate/);
});

errors('a generic root', () => {
  assert.throws(() => emitIdl(metadata(), ['Windows.Foundation.IAsyncOperation`1']), /root Windows\.Foundation\.IAsyncOperation`1 is a parameterized \(generic\) interface; generics are not supported by emitIdl/);
});

errors('a generic in a method signature names the method and the type', () => {
  assert.throws(
    () => emitIdl(metadata(), ['Windows.System.IAppUriHandlerRegistration2']),
    (e: Error) =>
      e.message.includes('method Windows.System.IAppUriHandlerRegistration2.GetAllHosts') &&
      e.message.includes('Windows.Foundation.Collections.IVector`1<Windows.System.AppUriHandlerHost>') &&
      e.message.includes('generics (parameterized interfaces and delegates) are not supported by emitIdl'),
  );
});

errors('a generic deeper in the closure, and a generic required interface', () => {
  // IDataReader.LoadAsync returns the class DataReaderLoadOperation, whose default interface is IAsyncOperation<UInt32>.
  assert.throws(() => emitIdl(metadata(), ['Windows.Storage.Streams.IDataReader']), /method Windows\.Storage\.Streams\.IDataReader\.LoadAsync .*IAsyncOperation`1<UInt32>.*not supported by emitIdl/);
  assert.throws(() => emitIdl(metadata(), ['Windows.Foundation.Collections.IPropertySet']), /IPropertySet \(a required interface\) uses the parameterized type Windows\.Foundation\.Collections\.IObservableMap`2<String, Object>/);
});

errors('two types with the same short name', () => {
  assert.throws(
    () => emitIdl(metadata(), ['Windows.Media.IPlaybackRateChangeRequestedEventArgs', 'Windows.Media.PlayTo.IPlaybackRateChangeRequestedEventArgs']),
    /Windows\.Media\.IPlaybackRateChangeRequestedEventArgs and Windows\.Media\.PlayTo\.IPlaybackRateChangeRequestedEventArgs have the same short name/,
  );
});

// ---------------------------------------------------------------------------------------------

const command = withInputs(suite('winbg idl'));

command('prints the IDL, writes it with --out, and exits 1 on bad input and 2 on misuse', () => {
  const cli = join(root, '.build', 'lib', 'cli.js');
  // Node runs the CLI whatever runtime runs the tests (deno would need `run` and permissions).
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  const node = g.Bun || g.Deno ? 'node' : process.execPath;
  const run = (...args: string[]) => spawnSync(node, [cli, 'idl', ...args], { encoding: 'utf8' });
  const printed = run('--winmd', WINMD_DIR!, ...BACKGROUND);
  if (printed.error || printed.status === null) return; // no node on PATH, or pipes unreadable (Wine)
  assert.is(printed.status, 0, printed.stderr);
  assert.is(printed.stdout, background());
  const dir = mkdtempSync(join(tmpdir(), 'winbg-idl-'));
  try {
    const out = join(dir, 'task.idl');
    const written = run(`${NS}IBackgroundTask`, '--out', out, '--winmd', WINMD_DIR!);
    assert.is(written.status, 0, written.stderr);
    assert.is(written.stdout, `IDL of 1 root written to ${out}\n`);
    assert.is(readFileSync(out, 'utf8'), emitIdl(metadata(), [`${NS}IBackgroundTask`]));
  } finally {
    removeTree(dir);
  }
  const bad = run('--winmd', WINMD_DIR!, `${NS}BackgroundTaskRegistration`);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /^winbg: emitIdl: root Windows\.ApplicationModel\.Background\.BackgroundTaskRegistration is a runtime class/);
  const none = run('--winmd', WINMD_DIR!);
  assert.is(none.status, 2);
  assert.match(none.stderr, /^idl needs at least one type name/);
  assert.match(none.stderr, /winbg idl <TypeName>\.\.\. \[--winmd DIR\] \[--out FILE\]/);
  assert.is(run('--winmd', WINMD_DIR!, '--bogus', `${NS}IBackgroundTask`).status, 2);
  assert.match(run(`${NS}IBackgroundTask`, '--out').stderr, /^--out needs a value/);
});

// ---------------------------------------------------------------------------------------------

const widl = suite('emitIdl: Wine widl compiles the output');
const hasWidl = WINMD_DIR !== null && spawnSync('widl', ['-V'], { encoding: 'utf8' }).status === 0;
const WINE_IDL_INCLUDE = '/usr/include/wine/wine/windows';

if (!hasWidl || !existsSync(join(WINE_IDL_INCLUDE, 'inspectable.idl'))) {
  widl.skip('widl -p and -h accept the background IDL (needs widl on PATH: apt-get install wine64-tools, and the .winmd inputs)');
} else {
  widl('widl -p and -h accept the background IDL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'winbg-idl-'));
    try {
      writeFileSync(join(dir, 'background.idl'), background());
      for (const [flag, out] of [['-p', 'background_p.c'], ['-h', 'background.h']] as const) {
        const run = spawnSync('widl', ['-m64', `-I${WINE_IDL_INCLUDE}`, flag, '-o', out, 'background.idl'], { cwd: dir, encoding: 'utf8' });
        assert.is(run.status, 0, `widl ${flag}: ${run.stderr}`);
        assert.ok(existsSync(join(dir, out)), `${out} written`);
      }
      assert.ok(readFileSync(join(dir, 'background.h'), 'utf8').includes('IBackgroundTask'));
    } finally {
      removeTree(dir);
    }
  });
}

output.run();
shapes.run();
errors.run();
command.run();
widl.run();
