// packageManifest and `winbg package init`: every manifest winbg writes validates against
// Microsoft's package manifest schemas (../shared/appx-schema/validate, xmllint), and every bad
// input is refused, naming the option and the rule, before anything is written.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode } from 'fast-png';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkManifest, logoPng, packageManifest, serverArguments, unsignedPublisher, type PackageManifestOptions } from '../../lib/manifest/index.js';
import { packageCommand } from '../../lib/manifest/package-command.js';
import { ManifestUsageError } from '../../lib/manifest/options.js';
import { parseXml, type XmlElement } from '../../lib/manifest/xml.js';
import { removeTree } from '../support/files.js';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const validator = join(projectRoot, '..', 'shared', 'appx-schema', 'validate');
// The validator is a shell script over Linux's xmllint: not something a Windows process (Wine's
// node.exe) can start. The portable tier runs these on Linux; CI requires them there.
const canValidate = process.platform === 'linux' && existsSync(validator) && spawnSync('xmllint', ['--version'], { stdio: 'ignore' }).status === 0;
// Required in CI where the schemas are there (our CI; GitHub's checkout has no ../shared).
const required = process.env.CI === 'true' && process.platform === 'linux' && existsSync(join(projectRoot, '..', 'shared'));
const skipReason = process.platform !== 'linux' ? `the schema validator runs on Linux (this is ${process.platform})` : !existsSync(validator) ? `${validator} is missing` : 'xmllint is missing (apt-get install libxml2-utils)';
if (!canValidate) console.log(`  (package manifests not validated: ${skipReason})`);

/** Validates `xml` with Microsoft's schemas; returns xmllint's complaint, or null when it validates. */
function schemaErrors(xml: string): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'winbg-appx-'));
  try {
    const file = join(dir, 'AppxManifest.xml');
    writeFileSync(file, xml);
    const result = spawnSync(validator, [file], { encoding: 'utf8' });
    return result.status === 0 ? null : `${result.stdout}${result.stderr}`.trim();
  } finally {
    removeTree(dir);
  }
}

const BASE: PackageManifestOptions = {
  name: 'Winbg.Test',
  displayName: 'winbg test',
  publisherDisplayName: 'winbg developers',
  executable: 'winbg-node.exe',
  script: 'app.js',
  tasks: [{ clsid: '14C5882B-35D3-41BE-86B2-5106269B97E6', displayName: 'primes' }],
};

const schema = suite('package manifests validate against Microsoft\'s schemas');
const validating = canValidate ? schema : schema.skip;

const cases: [string, PackageManifestOptions][] = [
  ['sparse (the default), unsigned', BASE],
  ['full layout', { ...BASE, layout: 'full' }],
  ['several tasks', { ...BASE, tasks: [{ clsid: '14C5882B-35D3-41BE-86B2-5106269B97E6' }, { clsid: '{6B0A5E3C-0D7E-4B61-9F5A-2C8B1E4D7A90}', displayName: 'second' }, { clsid: '0b7e3c2a-8f61-4d5e-9a0c-3e1f5b7d9c24' }] }],
  ['names that need escaping', {
    ...BASE, displayName: 'Tom & Jerry\'s <"fast"> primes', publisherDisplayName: 'A & B, Ltd <x>', description: 'counts & writes "primes" <fast>',
    tasks: [{ clsid: BASE.tasks[0]!.clsid, displayName: '<primes> & "more"' }], script: 'dist\\my app & co.js',
  }],
  ['a signed publisher, version, architecture, deno, an absolute script', { ...BASE, publisher: 'CN=Contoso Software, O=Contoso Corporation, C=US', version: '2.10.0.65535', architecture: 'arm64', runtime: 'deno', executable: 'bin\\winbg-deno.exe', script: 'C:\\Apps\\Contoso Primes\\app.ts' }],
  ['a quoted publisher', { ...BASE, publisherDisplayName: 'A "quoted" one', publisher: 'CN="A ""quoted"" one", O=Contoso' }],
  ['bun, neutral, another activation argument and application id', { ...BASE, runtime: 'bun', architecture: 'neutral', activationArgument: '/serve', applicationId: 'Contoso.Tasks' }],
];
for (const [name, options] of cases) {
  validating(name, () => {
    const { xml } = packageManifest(options);
    assert.is(schemaErrors(xml), null);
  });
}

validating('the validator does refuse a manifest that breaks the schema (so the cases above prove something)', () => {
  const { xml } = packageManifest({ ...BASE, architecture: 'x64' });
  const broken = xml.replace('<Resources>', '<Resources><Unknown/>');
  assert.match(schemaErrors(broken) ?? '', /Unknown|not expected/);
  assert.match(schemaErrors(xml.replace('ProcessorArchitecture="x64"', 'ProcessorArchitecture="amd64"')) ?? '', /ProcessorArchitecture/);
});

if (required && !canValidate) {
  schema('the schema validator is there in CI', () => assert.unreachable(`package manifests must be validated in CI: ${skipReason}`));
}
schema.run();

const content = suite('what the manifest says');

/** Every element of a parsed document, depth first. */
function elementsOf(xml: string): XmlElement[] {
  const all: XmlElement[] = [];
  const walk = (element: XmlElement): void => {
    all.push(element);
    element.children.forEach(walk);
  };
  walk(parseXml(xml).root);
  return all;
}

const attributesOf = (element: XmlElement): Record<string, string> => Object.fromEntries(element.attributes.map((a) => [a.name, a.value]));

/** The manifest parsed back: the attributes of the first element of each name. */
function read(xml: string): (element: string) => Record<string, string> {
  const elements = elementsOf(xml);
  return (name) => {
    const found = elements.find((e) => e.name === name);
    if (!found) throw new Error(`no ${name}`);
    return attributesOf(found);
  };
}

content('sparse: AllowExternalContent, mediumIL win32App, the capabilities, the unsigned publisher; COM starts the launcher with the script first', () => {
  const manifest = packageManifest(BASE);
  const attributes = read(manifest.xml);
  assert.equal(attributes('Identity'), { Name: 'Winbg.Test', Publisher: 'CN=winbg developers, OID.2.25.311729368913984317654407730594956997722=1', Version: '1.0.0.0', ProcessorArchitecture: 'neutral' }, 'a sparse package holds no binary: neutral');
  assert.is(read(packageManifest({ ...BASE, layout: 'full' }).xml)('Identity').ProcessorArchitecture, process.arch === 'arm64' ? 'arm64' : process.arch === 'ia32' ? 'x86' : 'x64', 'a full one holds the launcher: this machine\'s');
  assert.match(manifest.xml, /<uap10:AllowExternalContent>true<\/uap10:AllowExternalContent>/);
  assert.equal(attributes('Application'), { Id: 'App', Executable: 'winbg-node.exe', 'uap10:TrustLevel': 'mediumIL', 'uap10:RuntimeBehavior': 'win32App' });
  assert.is(attributes('uap:VisualElements').AppListEntry, 'none');
  assert.equal([...manifest.xml.matchAll(/rescap:Capability Name="(\w+)"/g)].map((m) => m[1]), ['runFullTrust', 'unvirtualizedResources']);
  assert.equal(attributes('com:ExeServer').Arguments, '"app.js" -StartSampleTaskServer');
  assert.is(manifest.arguments, '"app.js" -StartSampleTaskServer');
  assert.equal(attributes('TargetDeviceFamily').MinVersion, '10.0.19041.0');
});

content('full: no external content; several tasks are one ExeServer with a class each, in order', () => {
  const manifest = packageManifest({ ...BASE, layout: 'full', tasks: [{ clsid: '14C5882B-35D3-41BE-86B2-5106269B97E6' }, { clsid: '6B0A5E3C-0D7E-4B61-9F5A-2C8B1E4D7A90', displayName: 'second' }] });
  assert.not.match(manifest.xml, /AllowExternalContent/);
  assert.is(read(manifest.xml)('Application')['uap10:RuntimeBehavior'], 'packagedClassicApp', 'a Desktop Bridge app');
  const classes = elementsOf(manifest.xml).filter((e) => e.name === 'com:Class').map(attributesOf);
  assert.equal(classes, [{ Id: '14C5882B-35D3-41BE-86B2-5106269B97E6', DisplayName: 'task 1' }, { Id: '6B0A5E3C-0D7E-4B61-9F5A-2C8B1E4D7A90', DisplayName: 'second' }]);
});

content('the ExeServer arguments per runtime: the script first, quoted; deno runs it with -A', () => {
  assert.is(serverArguments('node', 'app.js'), '"app.js" -StartSampleTaskServer');
  assert.is(serverArguments('bun', 'dist\\app.js', '/serve'), '"dist\\app.js" /serve');
  assert.is(serverArguments('deno', 'app.ts'), 'run -A "app.ts" -StartSampleTaskServer');
});

content('escaped text reads back as given', () => {
  const displayName = 'Tom & Jerry\'s <"fast"> primes';
  const attributes = read(packageManifest({ ...BASE, displayName }).xml);
  assert.is(attributes('uap:VisualElements').DisplayName, displayName);
  assert.is(unsignedPublisher('A, B'), 'CN="A, B", OID.2.25.311729368913984317654407730594956997722=1');
});

content.run();

const refused = suite('bad input is refused, naming the option and the rule');
const refusals: [string, Partial<Record<keyof PackageManifestOptions, unknown>>, RegExp][] = [
  ['a name with an underscore', { name: 'Winbg_Test' }, /^packageManifest: name may contain only letters.*ST_PackageName.*"Winbg_Test"/],
  ['a name too short', { name: 'ab' }, /^packageManifest: name must be 3–50 characters long \(it has 2\)/],
  ['a publisher that is no distinguished name', { publisher: 'Contoso' }, /^packageManifest: publisher must be a distinguished name/],
  ['a publisher joined without the space', { publisher: 'CN=A,O=B' }, /^packageManifest: publisher must be a distinguished name/],
  ['a version of three parts', { version: '1.0.0' }, /^packageManifest: version must be four numbers from 0 to 65535/],
  ['a version part over 65535', { version: '1.0.0.65536' }, /^packageManifest: version must be four numbers/],
  ['a version with a leading zero', { version: '1.01.0.0' }, /^packageManifest: version must be four numbers/],
  ['an architecture Windows does not name so', { architecture: 'amd64' }, /^packageManifest: architecture must be x64, x86, arm64 or neutral; got "amd64"/],
  ['a layout that is neither', { layout: 'msix' }, /^packageManifest: layout must be 'sparse' or 'full'/],
  ['an executable with a drive letter', { executable: 'C:\\app\\winbg-node.exe' }, /^packageManifest: executable cannot contain/],
  ['an executable in upper case', { executable: 'winbg-node.EXE' }, /^packageManifest: executable must end with \.exe in lower case/],
  ['a runtime winbg does not know', { runtime: 'python' }, /^packageManifest: runtime must be node, bun or deno/],
  ['a script ending in a backslash', { script: 'dist\\' }, /^packageManifest: script must name a file, not end with \\/],
  ['a script with a trailing space', { script: 'app.js ' }, /^packageManifest: script must not start or end with white space/],
  ['a display name with a trailing space', { displayName: 'winbg test ' }, /^packageManifest: displayName must not start or end with white space/],
  ['a display name over two lines', { displayName: 'winbg\ntest' }, /^packageManifest: displayName cannot contain a line break/],
  ['a publisher display name with a trailing space', { publisherDisplayName: 'winbg ' }, /^packageManifest: publisherDisplayName must not start or end with white space/],
  ['a description with a tab', { description: 'counts\tprimes' }, /^packageManifest: description cannot contain control characters/],
  ['a task name with a leading space', { tasks: [{ clsid: '14C5882B-35D3-41BE-86B2-5106269B97E6', displayName: ' primes' }] }, /^packageManifest: tasks\[0\]\.displayName must not start or end with white space/],
  ['an executable with %', { executable: '%APP%\\winbg-node.exe' }, /^packageManifest: executable cannot contain %/],
  ['an executable with a .. segment', { executable: 'bin\\..\\winbg-node.exe' }, /^packageManifest: executable must be folders and a file name joined by \\, without empty, \. or \.\. segments/],
  ['an executable with /', { executable: 'bin/winbg-node.exe' }, /^packageManifest: executable must separate folders with \\, not \//],
  ['an unsigned publisher from a name with a quote', { publisherDisplayName: 'A "b"' }, /^packageManifest: publisherDisplayName cannot make the unsigned publisher/],
  ['an activation argument with a quote', { activationArgument: '-a"b' }, /^packageManifest: activationArgument must be one argument without white space or double quotes/],
  ['a script with a quote', { script: 'a"b.js' }, /^packageManifest: script cannot contain a double quote/],
  ['no tasks', { tasks: [] }, /^packageManifest: tasks must be a non-empty array/],
  ['a task without a GUID', { tasks: [{ clsid: 'primes' }] }, /^packageManifest: tasks\[0\]\.clsid: clsid must be a GUID/],
  ['two tasks of one CLSID', { tasks: [{ clsid: '14C5882B-35D3-41BE-86B2-5106269B97E6' }, { clsid: '{14c5882b-35d3-41be-86b2-5106269b97e6}' }] }, /^packageManifest: tasks\[1\]\.clsid is the CLSID of task 1 too/],
  ['a display name with a backslash', { displayName: 'a\\b' }, /^packageManifest: displayName cannot contain \\/],
  ['an empty publisher display name', { publisherDisplayName: ' ' }, /^packageManifest: publisherDisplayName must be a non-empty string/],
  ['an application id with a hyphen', { applicationId: 'my-app' }, /^packageManifest: applicationId must be names that start with a letter/],
  ['an activation argument with a space', { activationArgument: '-a b' }, /^packageManifest: activationArgument must be one argument/],
];
for (const [name, change, message] of refusals) {
  refused(name, () => {
    assert.throws(() => packageManifest({ ...BASE, ...change } as PackageManifestOptions), (error: unknown) => error instanceof TypeError && message.test(error.message));
  });
}
refused.run();

const beyond = suite('checkManifest: what Windows checks beyond the schema');
const CLSID = '14C5882B-35D3-41BE-86B2-5106269B97E6';
const errorsOf = (xml: string, clsid = CLSID): string[] => checkManifest(xml, { clsid }).findings.filter((f) => f.level === 'error').map((f) => f.message);

beyond('what packageManifest writes passes, for every runtime and both layouts, each task\'s CLSID', () => {
  for (const runtime of ['node', 'bun', 'deno'] as const) {
    for (const layout of ['sparse', 'full'] as const) {
      const { xml } = packageManifest({ ...BASE, runtime, layout, executable: `winbg-${runtime}.exe`, tasks: [{ clsid: CLSID }, { clsid: '6B0A5E3C-0D7E-4B61-9F5A-2C8B1E4D7A90' }] });
      assert.equal(errorsOf(xml), [], `${runtime} ${layout}`);
      assert.equal(errorsOf(xml, '6B0A5E3C-0D7E-4B61-9F5A-2C8B1E4D7A90'), [], `${runtime} ${layout}, the second task`);
    }
  }
});

beyond('node.exe (or a winbg launcher) whose Arguments start with the activation argument: node would refuse it', () => {
  const { xml } = packageManifest(BASE);
  for (const exe of ['node.exe', 'winbg-node.exe', 'bin\\Node.exe']) {
    const broken = xml.replace(/Executable="winbg-node\.exe" Arguments="[^"]*"/, `Executable="${exe}" Arguments="-StartSampleTaskServer"`);
    assert.ok(broken !== xml);
    assert.match(errorsOf(broken).join('\n'), /start with -StartSampleTaskServer, not the script: COM would start .* -StartSampleTaskServer -Embedding, which node refuses \(exit 9, bad option\); put the script first: the arguments "app\.js" -StartSampleTaskServer/);
  }
  const other = xml.replace(/Executable="winbg-node\.exe" Arguments="[^"]*"/, 'Executable="app.exe" Arguments="-StartSampleTaskServer"');
  assert.equal(errorsOf(other), [], 'any other executable takes its arguments as it likes');
});

beyond('deno.exe: without run, a warning (no permissions for koffi); a node option before the script, a warning; the activation argument first, an error', () => {
  const { xml } = packageManifest({ ...BASE, runtime: 'deno', executable: 'deno.exe' });
  assert.equal(errorsOf(xml), []);
  const warnings = (text: string): string[] => checkManifest(text, { clsid: CLSID }).findings.filter((f) => f.level === 'warning').map((f) => f.message);
  assert.match(warnings(xml.replace('run -A &quot;', '&quot;')).join('\n'), /do not start with run: deno would run the script without the permissions koffi needs/);
  const node = packageManifest(BASE).xml;
  const withOption = node.replace('Arguments="&quot;app.js', 'Arguments="--enable-source-maps &quot;app.js');
  assert.equal(errorsOf(withOption), [], 'a node option before the script is a valid command line');
  assert.match(warnings(withOption).join('\n'), /start with the option --enable-source-maps: make sure the script comes before -StartSampleTaskServer/);
});

beyond('a CLSID declared twice', () => {
  const { xml } = packageManifest({ ...BASE, tasks: [{ clsid: CLSID }, { clsid: '6B0A5E3C-0D7E-4B61-9F5A-2C8B1E4D7A90' }] });
  const twice = xml.replace('</com:ExeServer>', '  <com:Class Id="6B0A5E3C-0D7E-4B61-9F5A-2C8B1E4D7A90" DisplayName="again"/>\n</com:ExeServer>');
  assert.match(errorsOf(twice).join('\n'), /the CLSID 6B0A5E3C-0D7E-4B61-9F5A-2C8B1E4D7A90 is declared twice \(lines \d+ and \d+\)/);
});

beyond('a package with external location whose application is not mediumIL win32App', () => {
  const { xml } = packageManifest(BASE);
  assert.match(errorsOf(xml.replace('uap10:RuntimeBehavior="win32App"', 'uap10:RuntimeBehavior="packagedClassicApp"')).join('\n'), /AllowExternalContent is true .* needs uap10:TrustLevel="mediumIL" and uap10:RuntimeBehavior="win32App"; it has TrustLevel="mediumIL" and RuntimeBehavior="packagedClassicApp"/);
  assert.match(errorsOf(xml.replace(' uap10:TrustLevel="mediumIL"', '')).join('\n'), /it has no TrustLevel and RuntimeBehavior="win32App"/);
  const full = packageManifest({ ...BASE, layout: 'full' }).xml;
  assert.equal(errorsOf(full), [], 'a full package may be packagedClassicApp');
});

beyond.run();

const command = suite('winbg package init');
let dir = '';
command.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'winbg-package-'));
});
command.after.each(() => removeTree(dir));

command('writes the manifest and its logos (real PNGs of the sizes the manifest names); refuses to overwrite without --force', async () => {
  const result = await packageCommand(['init', '--name', 'Winbg.Test', '--task', '14C5882B-35D3-41BE-86B2-5106269B97E6=primes', '--script', 'app.js'], { cwd: dir });
  assert.is(result.exitCode, 0);
  assert.match(result.output, /wrote package[\\/]AppxManifest\.xml/);
  assert.match(result.output, /COM starts: winbg-node\.exe ".*app\.js" -StartSampleTaskServer -Embedding/);
  // COM starts the server in System32: a sparse package names its script by its absolute path.
  assert.match(readFileSync(join(dir, 'package', 'AppxManifest.xml'), 'utf8'), new RegExp(`Arguments="&quot;${join(dir, 'app.js').replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}&quot; -StartSampleTaskServer"`));
  const xml = readFileSync(join(dir, 'package', 'AppxManifest.xml'), 'utf8');
  assert.match(xml, /<com:Class Id="14C5882B-35D3-41BE-86B2-5106269B97E6" DisplayName="primes"\/>/);
  if (canValidate) assert.is(schemaErrors(xml), null);
  for (const [file, size] of [['StoreLogo.png', 50], ['Square150x150Logo.png', 150], ['Square44x44Logo.png', 44]] as const) {
    const image = decode(readFileSync(join(dir, 'package', 'Assets', file)));
    assert.equal([image.width, image.height, image.channels], [size, size, 4], file);
  }
  const again = packageCommand(['init', '--name', 'Winbg.Test', '--task', '14C5882B-35D3-41BE-86B2-5106269B97E6', '--script', 'app.js'], { cwd: dir });
  await again.then(() => assert.unreachable('an existing manifest is kept'), (error: unknown) => {
    assert.instance(error, ManifestUsageError);
    assert.match((error as Error).message, /AppxManifest\.xml exists; --force replaces it/);
  });
  const forced = await packageCommand(['init', '--name', 'Winbg.Other', '--task', '14C5882B-35D3-41BE-86B2-5106269B97E6', '--script', 'app.js', '--force', '--full'], { cwd: dir });
  assert.is(forced.exitCode, 0);
  assert.match(readFileSync(join(dir, 'package', 'AppxManifest.xml'), 'utf8'), /Name="Winbg\.Other"/);
});

command('the tasks a module exports, one class each; the module is the script', async () => {
  const lib = new URL('../../lib/tasks/index.js', import.meta.url).href;
  writeFileSync(join(dir, 'tasks.mjs'), `import { defineBackgroundTask } from ${JSON.stringify(lib)};
export const primes = defineBackgroundTask({ clsid: '14C5882B-35D3-41BE-86B2-5106269B97E6', name: 'primes', run() {} });
export const sweep = defineBackgroundTask({ clsid: '6B0A5E3C-0D7E-4B61-9F5A-2C8B1E4D7A90', name: 'sweep', run() {} });
export const notATask = 42;\n`);
  await packageCommand(['init', '--name', 'Winbg.Test', '--module', 'tasks.mjs', '--runtime', 'deno', '--out', 'pkg'], { cwd: dir });
  const xml = readFileSync(join(dir, 'pkg', 'AppxManifest.xml'), 'utf8');
  assert.equal([...xml.matchAll(/<com:Class Id="([^"]+)" DisplayName="([^"]+)"/g)].map((m) => [m[1], m[2]]), [['14C5882B-35D3-41BE-86B2-5106269B97E6', 'primes'], ['6B0A5E3C-0D7E-4B61-9F5A-2C8B1E4D7A90', 'sweep']]);
  assert.match(xml, /Executable="winbg-deno\.exe" Arguments="run -A &quot;[^&]*tasks\.mjs&quot; -StartSampleTaskServer"/);
});

command('misuse is refused before anything is written, naming the option', async () => {
  writeFileSync(join(dir, 'fake.exe'), 'not an executable');
  const attempts: [string[], RegExp][] = [
    [['init', '--name', 'Winbg.Test', '--task', '14C5882B-35D3-41BE-86B2-5106269B97E6', '--script', 'a.js', '--launcher-from', 'fake.exe'], /^--launcher-from fake\.exe: not a Windows executable \(PE\)/],
    [['init', '--task', '14C5882B-35D3-41BE-86B2-5106269B97E6', '--script', 'a.js'], /needs --name/],
    [['init', '--name', 'Winbg.Test', '--script', 'a.js'], /needs the tasks/],
    [['init', '--name', 'Winbg.Test', '--task', '14C5882B-35D3-41BE-86B2-5106269B97E6'], /needs --script/],
    [['init', '--name', 'Winbg_Test', '--task', '14C5882B-35D3-41BE-86B2-5106269B97E6', '--script', 'a.js'], /^--name may contain only letters/],
    [['init', '--name', 'Winbg.Test', '--task', 'nope', '--script', 'a.js'], /^task 1 clsid must be a GUID/],
    [['init', '--name', 'Winbg.Test', '--task', '14C5882B-35D3-41BE-86B2-5106269B97E6', '--script', 'a.js', '--version', '1'], /^--version must be four numbers/],
    [['init', '--name', 'Winbg.Test', '--task', '14C5882B-35D3-41BE-86B2-5106269B97E6', '--script', 'a.js', '--runtime', 'python'], /^--runtime must be node, bun or deno/],
    [['init', '--name', 'Winbg.Test', '--module', 'missing.mjs'], /^cannot load .*missing\.mjs to read its tasks: .*give a module that defines and exports the tasks/],
    [['init', '--name', 'Winbg.Test', '--task', '14C5882B-35D3-41BE-86B2-5106269B97E6', '--script', 'a.js', '--launcher-from', 'package.test.js'], /^--launcher-from .* does not exist/],
    [['init', '--name', 'Winbg.Test', '--bogus', 'x'], /unknown option --bogus for package init/],
    [['init', '--full=yes'], /--full takes no value/],
    [['publish'], /unknown package command publish/],
    [[], /package needs a command: init/],
  ];
  for (const [args, message] of attempts) {
    await packageCommand(args, { cwd: dir }).then(
      () => assert.unreachable(`${args.join(' ')} was accepted`),
      (error: unknown) => {
        assert.instance(error, ManifestUsageError, `${args.join(' ')}: ${String(error)}`);
        assert.match((error as Error).message, message, args.join(' '));
      },
    );
  }
  assert.not.ok(existsSync(join(dir, 'package')), 'nothing was written');
});

command('logoPng: an RGBA square; sizes outside 16–1024 are refused', () => {
  const image = decode(logoPng(64));
  assert.equal([image.width, image.height, image.channels, image.depth], [64, 64, 4, 8]);
  assert.throws(() => logoPng(8), /size must be an integer from 16 to 1024; got 8/);
});

command.run();
