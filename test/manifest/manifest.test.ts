// `winbg manifest`: the windows.comServer block COM needs to start a packaged task's process
// ("Create and register a winmain background task", step 1 of "Add the support code to
// instantiate the COM class"), and the check of an existing AppxManifest.xml.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Guid } from '../../lib/com/guid.js';
import {
  COM_NAMESPACE, DEFAULT_ACTIVATION_ARGUMENT, checkManifest, comServerExtension, parseXml, type ManifestCheck,
  type ManifestFinding,
} from '../../lib/manifest/index.js';
import { ManifestUsageError, manifestCommand } from '../../lib/manifest/command.js';
import { commandLineArguments } from '../../lib/manifest/check.js';
import { attributeValue, descendants } from '../../lib/manifest/xml.js';
import { removeTree } from '../support/files.js';

const here = dirname(fileURLToPath(import.meta.url));

// The seed document's sample.
const CLSID = '14C5882B-35D3-41BE-86B2-5106269B97E6';
const EXE = 'SampleBackgroundApp\\SampleBackgroundApp.exe';
const FOUNDATION = 'http://schemas.microsoft.com/appx/manifest/foundation/windows10';

const SEED_BLOCK = [
  '<com:Extension Category="windows.comServer">',
  '  <com:ComServer>',
  '    <com:ExeServer Executable="SampleBackgroundApp\\SampleBackgroundApp.exe" Arguments="-StartSampleTaskServer" DisplayName="SampleBackgroundApp">',
  '      <com:Class Id="14C5882B-35D3-41BE-86B2-5106269B97E6" DisplayName="SampleBackgroundApp task"/>',
  '    </com:ExeServer>',
  '  </com:ComServer>',
  '</com:Extension>',
].join('\n');

/**
 * A full-trust packaged app's AppxManifest.xml; `application` is what follows
 * <uap:VisualElements> inside <Application>, `declarations` the COM namespace declaration(s).
 */
function appxManifest(application: string, declarations = `\n  xmlns:com="${COM_NAMESPACE}"`, packageExtensions = ''): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<Package
  xmlns="${FOUNDATION}"
  xmlns:uap="http://schemas.microsoft.com/appx/manifest/uap/windows10"
  xmlns:rescap="http://schemas.microsoft.com/appx/manifest/foundation/windows10/restrictedcapabilities"${declarations}
  IgnorableNamespaces="uap rescap">
  <Identity Name="Contoso.SampleBackgroundApp" Publisher="CN=Contoso" Version="1.0.0.0" ProcessorArchitecture="x64"/>
  <Properties>
    <DisplayName>Sample Background App</DisplayName>
    <PublisherDisplayName>Contoso &amp; Co</PublisherDisplayName>
    <Logo>Assets\\StoreLogo.png</Logo>
  </Properties>
  <Dependencies>
    <TargetDeviceFamily Name="Windows.Desktop" MinVersion="10.0.19041.0" MaxVersionTested="10.0.22621.0"/>
  </Dependencies>
  <Resources>
    <Resource Language="en-us"/>
  </Resources>
  <Applications>
    <Application Id="App" Executable="${EXE}" EntryPoint="Windows.FullTrustApplication">
      <uap:VisualElements DisplayName="Sample Background App" Description="Counts primes in the background"
        BackgroundColor="transparent" Square150x150Logo="Assets\\Square150x150Logo.png" Square44x44Logo="Assets\\Square44x44Logo.png"/>
${application}
    </Application>
  </Applications>${packageExtensions}
  <Capabilities>
    <rescap:Capability Name="runFullTrust"/>
  </Capabilities>
</Package>
`;
}

/** `<Extensions>` holding `xml`, indented as in a real manifest. */
function extensions(xml: string): string {
  return `      <Extensions>\n${xml.split('\n').map((line) => `        ${line}`).join('\n')}\n      </Extensions>`;
}

/** The manifest around the block `winbg manifest` writes for the seed's sample. */
const GOOD = appxManifest(extensions(SEED_BLOCK));

function levels(check: ManifestCheck, level: ManifestFinding['level']): ManifestFinding[] {
  return check.findings.filter((f) => f.level === level);
}

/** The single error of `check`; fails when there is none or more than one. */
function onlyError(check: ManifestCheck): ManifestFinding {
  const errors = levels(check, 'error');
  assert.is(errors.length, 1, JSON.stringify(check.findings, null, 1));
  assert.is(check.ok, false);
  return errors[0]!;
}

/** 1-based line and column of the first `needle` in `text`. */
function positionOf(text: string, needle: string): { line: number; column: number } {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, needle);
  const before = text.slice(0, at).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

// ---------------------------------------------------------------------------------------------

const generate = suite('comServerExtension');

generate('the seed sample: exact XML and the namespace <Package> must declare', () => {
  const block = comServerExtension({ clsid: CLSID, executable: EXE });
  assert.fixture(block.xml, SEED_BLOCK);
  assert.equal(block.namespaces, [{ prefix: 'com', uri: 'http://schemas.microsoft.com/appx/manifest/com/windows10', attribute: 'xmlns:com="http://schemas.microsoft.com/appx/manifest/com/windows10"' }]);
  assert.is(DEFAULT_ACTIVATION_ARGUMENT, '-StartSampleTaskServer');
});

generate('every option: arguments, display names, launch permission, indentation', () => {
  const { xml } = comServerExtension({
    clsid: Guid.parse(CLSID),
    executable: 'bin/Server.exe',
    arguments: '-Serve --task=primes',
    displayName: 'Prime server',
    classDisplayName: 'Prime task',
    launchAndActivationPermission: 'O:SYG:SYD:(A;;11;;;WD)',
    indent: '\t',
  });
  assert.fixture(xml, [
    '<com:Extension Category="windows.comServer">',
    '\t<com:ComServer>',
    '\t\t<com:ExeServer Executable="bin/Server.exe" Arguments="-Serve --task=primes" DisplayName="Prime server" LaunchAndActivationPermission="O:SYG:SYD:(A;;11;;;WD)">',
    '\t\t\t<com:Class Id="14C5882B-35D3-41BE-86B2-5106269B97E6" DisplayName="Prime task"/>',
    '\t\t</com:ExeServer>',
    '\t</com:ComServer>',
    '</com:Extension>',
  ].join('\n'));
  const four = comServerExtension({ clsid: CLSID, executable: 'a.exe', indent: 4 }).xml.split('\n');
  assert.equal(four.map((line) => line.length - line.trimStart().length), [0, 4, 8, 12, 8, 4, 0]);
  assert.equal(comServerExtension({ clsid: CLSID, executable: 'a.exe', indent: 0 }).xml.split('\n').map((l) => l[0]), ['<', '<', '<', '<', '<', '<', '<']);
});

generate('the CLSID is written upper-case without braces, as the schema and the seed show it', () => {
  for (const clsid of ['{14c5882b-35d3-41be-86b2-5106269b97e6}', ' 14c5882b-35D3-41be-86b2-5106269B97E6 ', Guid.parse(CLSID)]) {
    const { xml } = comServerExtension({ clsid, executable: EXE });
    assert.match(xml, /<com:Class Id="14C5882B-35D3-41BE-86B2-5106269B97E6" /, String(clsid));
  }
});

generate('display names default to the executable file name', () => {
  const { xml } = comServerExtension({ clsid: CLSID, executable: 'tools/Prime Counter.exe', displayName: undefined });
  assert.match(xml, / DisplayName="Prime Counter">/);
  assert.match(xml, /<com:Class Id="[^"]+" DisplayName="Prime Counter task"\/>/);
  const long = 'x'.repeat(252); // the longest file name an Executable of 256 characters has
  assert.match(comServerExtension({ clsid: CLSID, executable: `${long}.exe` }).xml, new RegExp(`<com:Class Id="[^"]+" DisplayName="${long}"/>`), 'no derived name over 256 characters');
});

generate.run();

// ---------------------------------------------------------------------------------------------

const escaping = suite('comServerExtension: escaping');

escaping('&, <, >, ", \' and tab/LF/CR are escaped in attribute values', () => {
  const { xml } = comServerExtension({
    clsid: CLSID,
    executable: 'R&D\\App\'s.exe',
    arguments: '-Name "a<b>" \'c\'\td\ne\rf',
    displayName: 'Tom & Jerry\'s <"server">',
  });
  const exeServer = xml.split('\n')[2]!;
  assert.is(exeServer,
    '    <com:ExeServer Executable="R&amp;D\\App&apos;s.exe" Arguments="-Name &quot;a&lt;b&gt;&quot; &apos;c&apos;&#9;d&#10;e&#13;f" DisplayName="Tom &amp; Jerry&apos;s &lt;&quot;server&quot;&gt;">');
});

escaping('what is written reads back as the values given', () => {
  const values = { executable: 'a&b\\c\'d.exe', arguments: '-x "<&>" \'y\'\t\r\nz', displayName: '<>&"\'\u00e9\u{1F600}' };
  const { xml } = comServerExtension({ clsid: CLSID, ...values, classDisplayName: 'a\nb' });
  const root = parseXml(`<r xmlns:com="${COM_NAMESPACE}">${xml}</r>`).root;
  const exeServer = [...descendants(root)].find((e) => e.localName === 'ExeServer')!;
  assert.is(attributeValue(exeServer, 'Executable'), values.executable);
  assert.is(attributeValue(exeServer, 'Arguments'), values.arguments);
  assert.is(attributeValue(exeServer, 'DisplayName'), values.displayName);
  assert.is(attributeValue(exeServer.children[0]!, 'DisplayName'), 'a\nb');
});

escaping.run();

// ---------------------------------------------------------------------------------------------

const validation = suite('comServerExtension: validation');

function rejects(options: Record<string, unknown>, pattern: RegExp): void {
  assert.throws(
    () => comServerExtension({ clsid: CLSID, executable: EXE, ...options } as Parameters<typeof comServerExtension>[0]),
    (error: unknown) => error instanceof TypeError && pattern.test(error.message),
    `${JSON.stringify(options)} should fail with ${pattern}`,
  );
}

validation('clsid must be a GUID', () => {
  for (const clsid of ['nope', '14C5882B-35D3-41BE-86B2', '{14C5882B-35D3-41BE-86B2-5106269B97E6', 42, undefined, null]) {
    rejects({ clsid }, /^comServerExtension: clsid must be a GUID \(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, braces optional\) or a Guid; got /);
  }
});

validation('executable: a relative .exe path inside the package, as com:ExeServer@Executable allows', () => {
  const cases: [unknown, RegExp][] = [
    ['', /executable must be a non-empty path relative to the package root/],
    [undefined, /executable must be a non-empty path/],
    ['C:\\Apps\\App.exe', /executable cannot contain <, >, :, ", \|, \? or \* \(found ":"; a drive letter or absolute path is not inside the package\); got "C:\\\\Apps\\\\App.exe"/],
    ['\\\\server\\share\\App.exe', /executable must be relative to the package root: it cannot start with \\ or \//],
    ['/App.exe', /must be relative to the package root/],
    ['..\\App.exe', /executable must stay inside the package: a \.\. segment leaves the package root/],
    ['a/../../App.exe', /must stay inside the package/],
    ['App.EXE', /executable must end with \.exe in lower case/],
    ['App.dll', /executable must name an \.exe file/],
    ['App|x.exe', /found "\|"/],
    ['App?.exe', /found "\?"/],
    ['a\u0001.exe', /cannot contain control characters/],
    [`${'a'.repeat(253)}.exe`, /executable must be at most 256 characters \(it has 257\)/],
    ['bin\\.exe', /must name a file: the file name before \.exe is empty/],
  ];
  for (const [executable, pattern] of cases) rejects({ executable }, pattern);
  for (const executable of ['App.exe', 'a\\..\\App.exe', 'bin/App.exe', '.\\App.exe', `${'a'.repeat(252)}.exe`]) {
    assert.ok(comServerExtension({ clsid: CLSID, executable }).xml.includes('Executable="'), executable);
  }
});

validation('arguments, display names, permission and indent', () => {
  rejects({ arguments: '' }, /^comServerExtension: arguments must be a non-empty string \(1–32767 characters\); got ""/);
  rejects({ arguments: ' -x' }, /arguments must not start or end with white space/);
  rejects({ arguments: '-x\n' }, /arguments must not start or end with white space/);
  rejects({ arguments: '-x\u0000y' }, /arguments cannot contain control characters/);
  rejects({ arguments: 'x'.repeat(32768) }, /arguments must be at most 32767 characters/);
  rejects({ displayName: '' }, /^comServerExtension: displayName must be a non-empty string of 1–256 characters/);
  rejects({ displayName: 'x'.repeat(257) }, /displayName must be at most 256 characters/);
  rejects({ classDisplayName: '  ' }, /^comServerExtension: classDisplayName must be a non-empty string/);
  rejects({ classDisplayName: '\u0007' }, /classDisplayName cannot contain control characters/);
  rejects({ launchAndActivationPermission: 'everyone' }, /^comServerExtension: launchAndActivationPermission must be an SDDL security descriptor string/);
  rejects({ launchAndActivationPermission: 'O:SY G:SY' }, /launchAndActivationPermission must be an SDDL/);
  rejects({ launchAndActivationPermission: '' }, /launchAndActivationPermission must be an SDDL/);
  for (const indent of [-1, 17, 1.5, 'x', '  .']) rejects({ indent }, /^comServerExtension: indent must be a number of spaces from 0 to 16 or a string of spaces and tabs/);
  assert.throws(() => comServerExtension(undefined as never), /comServerExtension: expected an options object/);
});

validation.run();

// ---------------------------------------------------------------------------------------------

const check = suite('checkManifest: a complete manifest');

check('round trip: the generated block inside a full AppxManifest.xml is ok', () => {
  const result = checkManifest(GOOD, { clsid: CLSID });
  assert.ok(result.ok, JSON.stringify(result.findings, null, 1));
  assert.equal(levels(result, 'error').concat(levels(result, 'warning')), []);
  assert.equal(result.findings.map((f) => f.message), [
    `the COM namespace is declared: xmlns:com="${COM_NAMESPACE}" on <Package>`,
    `<com:Extension Category="windows.comServer"> under <Application><Extensions> (line ${positionOf(GOOD, '<com:Extension').line})`,
    `<com:Class Id="${CLSID}"> declares the CLSID, in the <com:ExeServer> at line ${positionOf(GOOD, '<com:ExeServer').line}`,
    `Executable="${EXE}"`,
    'Arguments="-StartSampleTaskServer" contain the activation argument',
  ]);
  const classFinding = result.findings[2]!;
  assert.equal({ line: classFinding.line, column: classFinding.column }, positionOf(GOOD, '<com:Class'));
  assert.equal({ line: result.findings[3]!.line, column: result.findings[3]!.column }, positionOf(GOOD, 'Executable="SampleBackgroundApp\\SampleBackgroundApp.exe" Arguments'));
});

check('with the executable and arguments given: compared as Windows compares them', () => {
  const result = checkManifest(GOOD, { clsid: `{${CLSID.toLowerCase()}}`, executable: 'samplebackgroundapp/SampleBackgroundApp.exe', arguments: '-StartSampleTaskServer' });
  assert.ok(result.ok, JSON.stringify(result.findings, null, 1));
  assert.ok(result.findings.some((f) => f.level === 'ok' && f.message === `Executable="${EXE}" is the server`));
  assert.ok(result.findings.some((f) => f.level === 'ok' && f.message === 'Arguments="-StartSampleTaskServer" are the expected arguments'));
});

check('a manifest with comments, CDATA, PIs, single quotes, entities and CR LF line ends', () => {
  const block = SEED_BLOCK
    .replace('<com:ComServer>', "<!-- registered for the task --><?editor keep?><com:ComServer>")
    .replace('DisplayName="SampleBackgroundApp">', "DisplayName='Sample &amp; &quot;App&quot;'>")
    .replace('Arguments="-StartSampleTaskServer"', 'Arguments="&#45;StartSampleTaskServer"');
  const text = appxManifest(extensions(block)).replace('<Logo>', '<Logo><![CDATA[]]>').replace(/\n/g, '\r\n');
  const result = checkManifest(text, { clsid: CLSID, arguments: '-StartSampleTaskServer' });
  assert.ok(result.ok, JSON.stringify(result.findings, null, 1));
  assert.is(result.findings.find((f) => f.message.startsWith('<com:Class'))!.line, positionOf(GOOD, '<com:Class').line);
});

check('a prefix other than com, a default namespace, and the later COM schemas are recognised by URI', () => {
  const prefixed = appxManifest(extensions(SEED_BLOCK.replace(/com:/g, 'c:')), `\n  xmlns:c="${COM_NAMESPACE}"`);
  const result = checkManifest(prefixed, { clsid: CLSID });
  assert.ok(result.ok, JSON.stringify(result.findings, null, 1));
  assert.is(result.findings[0]!.message, `the COM namespace is declared: xmlns:c="${COM_NAMESPACE}" on <Package>`);

  const unprefixed = appxManifest(extensions(SEED_BLOCK.replace(/com:/g, '').replace('<Extension ', `<Extension xmlns="${COM_NAMESPACE}" `)), '');
  const second = checkManifest(unprefixed, { clsid: CLSID });
  assert.ok(second.ok, JSON.stringify(second.findings, null, 1));
  assert.match(second.findings[0]!.message, /xmlns="http:\/\/schemas\.microsoft\.com\/appx\/manifest\/com\/windows10" on <Extension>/);

  const com4 = appxManifest(extensions(SEED_BLOCK.replace(/com:/g, 'com4:')), `\n  xmlns:com4="${COM_NAMESPACE}/4"`);
  assert.ok(checkManifest(com4, { clsid: CLSID }).ok);
  const notCom = appxManifest(extensions(SEED_BLOCK.replace(/com:/g, 'x:')), '\n  xmlns:x="http://example.com/com/windows10"');
  assert.not.ok(checkManifest(notCom, { clsid: CLSID }).ok, 'a look-alike namespace is not COM');
});

check('the Class Id compares as a GUID; braces are a warning', () => {
  const text = appxManifest(extensions(SEED_BLOCK.replace(`Id="${CLSID}"`, `Id="{${CLSID.toLowerCase()}}"`)));
  const result = checkManifest(text, { clsid: CLSID });
  assert.ok(result.ok);
  assert.equal(levels(result, 'warning').map((f) => f.message), [`the Id "{${CLSID.toLowerCase()}}" has braces; the schema's form is ${CLSID} (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`]);
});

check('invalid options are a TypeError naming the option; the manifest text must be a string', () => {
  assert.throws(() => checkManifest(GOOD, { clsid: 'x' }), (e: unknown) => e instanceof TypeError && /^checkManifest: clsid must be a GUID/.test(e.message));
  assert.throws(() => checkManifest(GOOD, { clsid: CLSID, executable: 'C:\\a.exe' }), (e: unknown) => e instanceof TypeError && /^checkManifest: executable cannot contain/.test(e.message));
  assert.throws(() => checkManifest(GOOD, { clsid: CLSID, arguments: '' }), (e: unknown) => e instanceof TypeError && /^checkManifest: arguments must be a non-empty string/.test(e.message));
  assert.throws(() => checkManifest(Buffer.from(GOOD) as unknown as string, { clsid: CLSID }), (e: unknown) => e instanceof TypeError && /xmlText must be the manifest's text as a string/.test(e.message));
  assert.throws(() => checkManifest(GOOD, null as never), /expected an options object/);
});

check.run();

// ---------------------------------------------------------------------------------------------

const missing = suite('checkManifest: each missing piece');

missing('the namespace declaration: the first use of the prefix, and what to add', () => {
  const text = appxManifest(extensions(SEED_BLOCK), '');
  const result = checkManifest(text, { clsid: CLSID });
  const error = onlyError(result);
  assert.is(error.message, `the prefix com: is used but not declared: add xmlns:com="${COM_NAMESPACE}" to <Package>`);
  assert.equal({ line: error.line, column: error.column }, { ...positionOf(text, '<com:Extension'), column: positionOf(text, '<com:Extension').column + 1 });
  assert.is(levels(result, 'ok').length, 4, 'the rest is still checked');
});

missing('the namespace and the extension, in a manifest without either', () => {
  const text = appxManifest('      <Extensions/>', '');
  const result = checkManifest(text, { clsid: CLSID, executable: EXE });
  assert.equal(levels(result, 'error').map((f) => f.message), [
    `the COM namespace is not declared: add xmlns:com="${COM_NAMESPACE}" to <Package>`,
    `no <com:Extension Category="windows.comServer"> under <Application><Extensions>: add the block \`winbg manifest --clsid ${CLSID} --exe ${EXE}\` prints inside <Application><Extensions>`,
  ]);
});

missing('no <Extensions> in the <Application>', () => {
  const text = appxManifest('');
  const error = onlyError(checkManifest(text, { clsid: CLSID }));
  assert.match(error.message, /^no <com:Extension Category="windows\.comServer"> under <Application><Extensions>: add the block `winbg manifest --clsid 14C5882B-35D3-41BE-86B2-5106269B97E6 --exe path\\to\\server\.exe` prints/);
  assert.match(error.message, new RegExp(`the <Application> at line ${positionOf(text, '<Application ').line} has no <Extensions> yet: add one after its <uap:VisualElements>`));
  assert.is(error.line, positionOf(text, '<Application ').line);
});

missing('other extensions only; another Category; an extension outside <Extensions>', () => {
  const protocol = '<uap:Extension Category="windows.protocol"><uap:Protocol Name="sample"/></uap:Extension>';
  assert.match(onlyError(checkManifest(appxManifest(extensions(protocol)), { clsid: CLSID })).message, /^no <com:Extension Category="windows\.comServer">/);
  const comInterface = appxManifest(extensions(SEED_BLOCK.replace('windows.comServer', 'windows.comInterface')));
  assert.match(onlyError(checkManifest(comInterface, { clsid: CLSID })).message, /the <com:Extension> at line \d+ has Category="windows\.comInterface", not "windows\.comServer"$/);
  const outside = appxManifest(SEED_BLOCK);
  const error = onlyError(checkManifest(outside, { clsid: CLSID }));
  assert.match(error.message, new RegExp(`; the one at line ${positionOf(outside, '<com:Extension').line} is inside <Application>, where it is not read$`));
});

missing('an extension under <Package><Extensions> is a warning, and is checked', () => {
  const text = appxManifest('', undefined, `\n${extensions(SEED_BLOCK).replace(/^ {4}/gm, '')}`);
  const result = checkManifest(text, { clsid: CLSID });
  assert.ok(result.ok, JSON.stringify(result.findings, null, 1));
  assert.equal(levels(result, 'warning').map((f) => f.line), [positionOf(text, '<com:Extension').line]);
  assert.match(levels(result, 'warning')[0]!.message, /is under <Package><Extensions>, not under the <Application>/);
  assert.ok(levels(result, 'ok').some((f) => f.message.startsWith('<com:Class')));
});

missing('no <com:ComServer>, no <com:ExeServer>', () => {
  const empty = appxManifest(extensions('<com:Extension Category="windows.comServer"/>'));
  assert.match(onlyError(checkManifest(empty, { clsid: CLSID })).message, /^the <com:Extension Category="windows\.comServer"> has no <com:ComServer>: put the <com:ComServer> of the block `winbg manifest/);
  const surrogate = appxManifest(extensions(SEED_BLOCK.replace(/com:ExeServer[^>]*>/, 'com:SurrogateServer DisplayName="x">').replace('</com:ExeServer>', '</com:SurrogateServer>')));
  const error = onlyError(checkManifest(surrogate, { clsid: CLSID }));
  assert.match(error.message, /^the <com:ComServer> has no <com:ExeServer>, so COM cannot start a process for the task/);
  assert.is(error.line, positionOf(surrogate, '<com:ComServer>').line);
});

missing('no <com:Class> with the CLSID: the Ids that are there are listed', () => {
  const other = '00000000-0000-0000-C000-000000000046';
  const text = appxManifest(extensions(SEED_BLOCK.replace(CLSID, other)));
  const error = onlyError(checkManifest(text, { clsid: CLSID }));
  assert.is(error.message, `no <com:Class Id="${CLSID}"> in a <com:ExeServer>: add <com:Class Id="${CLSID}" DisplayName="…"/> to the <com:ExeServer> that starts your server, or add the block \`winbg manifest --clsid ${CLSID} --exe path\\to\\server.exe\` prints; the ExeServer declares ${other} (line ${positionOf(text, '<com:Class').line})`);
  const noId = appxManifest(extensions(SEED_BLOCK.replace(`Id="${CLSID}" `, '')));
  const result = checkManifest(noId, { clsid: CLSID });
  assert.is(levels(result, 'error').length, 2);
  assert.match(levels(result, 'error')[0]!.message, /^the <com:Class> has no Id: the schema requires the CLSID/);
  const notGuid = checkManifest(appxManifest(extensions(SEED_BLOCK.replace(CLSID, 'SampleTask'))), { clsid: CLSID });
  assert.equal(levels(notGuid, 'warning').map((f) => f.message), ['the <com:Class Id="SampleTask"> is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)']);
  assert.not.ok(notGuid.ok);
});

missing('the CLSID declared twice is a warning', () => {
  const twice = SEED_BLOCK.replace('</com:ExeServer>', `  <com:Class Id="${CLSID}"/>\n    </com:ExeServer>`);
  const result = checkManifest(appxManifest(extensions(twice)), { clsid: CLSID });
  assert.ok(result.ok);
  assert.match(levels(result, 'warning')[0]!.message, /^the CLSID is declared 2 times \(lines \d+, \d+\): keep one <com:Class> for it$/);
});

missing('Executable: absent, not a package path, not the expected server', () => {
  const absent = appxManifest(extensions(SEED_BLOCK.replace(`Executable="${EXE}" `, '')));
  assert.is(onlyError(checkManifest(absent, { clsid: CLSID, executable: EXE })).message, `the <com:ExeServer> has no Executable: add Executable="${EXE}" (the server, relative to the package root)`);
  const absolute = appxManifest(extensions(SEED_BLOCK.replace(`Executable="${EXE}"`, 'Executable="C:\\Program Files\\App.exe"')));
  assert.match(onlyError(checkManifest(absolute, { clsid: CLSID })).message, /^Executable="C:\\Program Files\\App\.exe" cannot contain <, >, :, ", \|, \? or \* \(found ":"; a drive letter/);
  const error = onlyError(checkManifest(GOOD, { clsid: CLSID, executable: 'Other\\Server.exe' }));
  assert.is(error.message, `Executable="${EXE}" is not the server Other\\Server.exe: COM would start that program for the task; set Executable="Other\\Server.exe"`);
  assert.equal({ line: error.line, column: error.column }, positionOf(GOOD, `Executable="${EXE}" Arguments`));
});

missing('Arguments: absent or without the activation argument; an error when --args was given, a warning otherwise', () => {
  const absent = appxManifest(extensions(SEED_BLOCK.replace(' Arguments="-StartSampleTaskServer"', '')));
  const defaulted = checkManifest(absent, { clsid: CLSID });
  assert.ok(defaulted.ok, 'only a warning without --args');
  assert.is(levels(defaulted, 'warning')[0]!.message, 'the <com:ExeServer> has no Arguments: COM would start the server without -StartSampleTaskServer, so it could not tell it was started to serve the task; add Arguments="-StartSampleTaskServer" (if your server starts on another argument, pass it as arguments / --args)');
  assert.match(onlyError(checkManifest(absent, { clsid: CLSID, arguments: '-Serve' })).message, /^the <com:ExeServer> has no Arguments: COM would start the server without -Serve, .*add Arguments="-Serve"$/);

  const wrong = checkManifest(GOOD, { clsid: CLSID, arguments: '-Serve' });
  assert.is(onlyError(wrong).message, 'Arguments="-StartSampleTaskServer" do not contain the activation argument -Serve: the server would not know it was started to serve the task; set Arguments="-Serve"');
  const other = appxManifest(extensions(SEED_BLOCK.replace('-StartSampleTaskServer', '-StartSampleTaskServerX')));
  assert.equal(levels(checkManifest(other, { clsid: CLSID }), 'warning').length, 1, 'a token that only starts with the argument does not contain it');

  const extra = appxManifest(extensions(SEED_BLOCK.replace('-StartSampleTaskServer', '--log &quot;C:\\a b&quot; -StartSampleTaskServer')));
  const withDefault = checkManifest(extra, { clsid: CLSID });
  assert.equal(levels(withDefault, 'warning'), []);
  assert.ok(withDefault.findings.some((f) => f.level === 'ok' && f.message.endsWith('contain -StartSampleTaskServer, the activation argument')));
  const explicit = checkManifest(extra, { clsid: CLSID, arguments: '-StartSampleTaskServer' });
  assert.ok(explicit.ok);
  assert.match(levels(explicit, 'warning')[0]!.message, /contain -StartSampleTaskServer and other arguments too$/);
  const quoted = checkManifest(extra, { clsid: CLSID, arguments: '"C:\\a b" -StartSampleTaskServer' });
  assert.equal(levels(quoted, 'error'), [], 'quoted arguments are compared as the program receives them');
});

missing('Arguments are split as the server receives them (the CommandLineToArgvW rules)', () => {
  // The examples of "Parsing C++ command-line arguments" (Microsoft C++ docs), which CommandLineToArgvW follows.
  const cases: [string, string[]][] = [
    [String.raw`"abc" d e`, ['abc', 'd', 'e']],
    [String.raw`a\\\b d"e f"g h`, [String.raw`a\\\b`, 'de fg', 'h']],
    [String.raw`a\\\"b c d`, [String.raw`a\"b`, 'c', 'd']],
    [String.raw`a\\\\"b c" d e`, [String.raw`a\\b c`, 'd', 'e']],
    ['  -x\t""  ', ['-x', '']],
  ];
  for (const [line, args] of cases) assert.equal(commandLineArguments(line), args, line);
});

missing('not a package manifest; a <Package> in the wrong namespace; undeclared prefixes', () => {
  assert.is(onlyError(checkManifest('<html><body/></html>', { clsid: CLSID })).message, 'the root element is <html>, not <Package>: this is not a package manifest (AppxManifest.xml)');
  const old = GOOD.replace(`xmlns="${FOUNDATION}"`, 'xmlns="http://schemas.microsoft.com/appx/2010/manifest"');
  assert.match(onlyError(checkManifest(old, { clsid: CLSID })).message, /^<Package> is in the namespace http:\/\/schemas\.microsoft\.com\/appx\/2010\/manifest; a Windows 10 package manifest declares xmlns="http:\/\/schemas\.microsoft\.com\/appx\/manifest\/foundation\/windows10"/);
  const noUap = GOOD.replace(/\n {2}xmlns:uap="[^"]*"/, '');
  const error = onlyError(checkManifest(noUap, { clsid: CLSID }));
  assert.is(error.message, 'the prefix uap: is used but not declared: add its xmlns:uap="…" declaration to <Package>');
  assert.is(error.line, positionOf(noUap, '<uap:VisualElements').line);
});

missing.run();

// ---------------------------------------------------------------------------------------------

const malformed = suite('checkManifest: malformed XML');

malformed('unclosed tags, bad entities and truncation: one error with the line and column', () => {
  const cases: [string, string, RegExp][] = [
    ['an unclosed element', GOOD.replace('</Properties>', ''), new RegExp(`^not well-formed XML: the end tag </Package> does not match the start tag <Properties> at line ${positionOf(GOOD, '<Properties>').line}, column 3$`)],
    ['a mismatched end tag', GOOD.replace('</com:ComServer>', '</com:ExeServer>'), /^not well-formed XML: the end tag <\/com:ExeServer> does not match the start tag <com:ComServer>/],
    ['a bare &', GOOD.replace('Contoso &amp; Co', 'Contoso & Co'), /^not well-formed XML: '&' must start a reference/],
    ['an undefined entity', GOOD.replace('Contoso &amp; Co', 'Contoso &nbsp; Co'), /^not well-formed XML: unknown entity &nbsp;/],
    ['a truncated file', GOOD.slice(0, GOOD.indexOf('<com:Class') + 20), /^not well-formed XML: the value of Id is not closed with "$/],
    ['a truncated file ending between tags', GOOD.slice(0, GOOD.indexOf('</Applications>')), /^not well-formed XML: the document ends inside <Applications> \(opened at line \d+, column 3\): <\/Applications> is missing$/],
  ];
  for (const [what, text, pattern] of cases) {
    const result = checkManifest(text, { clsid: CLSID });
    assert.is(result.findings.length, 1, what);
    const [finding] = result.findings;
    assert.not.ok(result.ok, what);
    assert.is(finding!.level, 'error', what);
    assert.match(finding!.message, pattern, what);
    assert.ok(typeof finding!.line === 'number' && typeof finding!.column === 'number', what);
  }
  const bad = checkManifest(GOOD.replace('Contoso &amp; Co', 'Contoso &nbsp; Co'), { clsid: CLSID }).findings[0]!;
  assert.equal({ line: bad.line, column: bad.column }, { ...positionOf(GOOD, '&amp; Co') });
});

malformed.run();

// ---------------------------------------------------------------------------------------------

const command = suite('winbg manifest');

function usage(args: string[], pattern: RegExp, readFile?: (path: string) => Uint8Array): void {
  assert.throws(() => manifestCommand(args, { readFile }), (e: unknown) => e instanceof ManifestUsageError && pattern.test(e.message), `${args.join(' ')} → ${pattern}`);
}

const files = (contents: Record<string, string | Uint8Array>) => (path: string): Uint8Array => {
  const content = contents[path];
  if (content === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
  return typeof content === 'string' ? Buffer.from(content) : content;
};

command('writes the block with the namespace to declare', () => {
  const result = manifestCommand(['--clsid', CLSID, '--exe', EXE]);
  assert.is(result.exitCode, 0);
  assert.fixture(result.output, `<!-- On <Package>: xmlns:com="${COM_NAMESPACE}" -->\n<!-- Inside <Application><Extensions>: -->\n${SEED_BLOCK}\n`);
  const options = manifestCommand(['--exe=a\\b.exe', '--args', '-Serve', '--clsid', CLSID.toLowerCase(), '--display-name', 'B & co', '--class-display-name', 'Task', '--permission', 'O:SYG:SYD:(A;;11;;;WD)']);
  assert.match(options.output, /<com:ExeServer Executable="a\\b\.exe" Arguments="-Serve" DisplayName="B &amp; co" LaunchAndActivationPermission="O:SYG:SYD:\(A;;11;;;WD\)">/);
  assert.match(options.output, /<com:Class Id="14C5882B-35D3-41BE-86B2-5106269B97E6" DisplayName="Task"\/>/);
  assert.match(manifestCommand(['--clsid', CLSID, '--exe', 'a.exe', '--args=-x']).output, /Arguments="-x"/);
});

command('a copy of node, bun or deno as the server: the script first (--script), or refused saying why', () => {
  const block = (...args: string[]): string => manifestCommand(['--clsid', CLSID, ...args]).output;
  assert.match(block('--exe', 'node.exe', '--script', 'app.js'), /Executable="node\.exe" Arguments="&quot;app\.js&quot; -StartSampleTaskServer"/);
  assert.match(block('--exe', 'bin\\winbg-deno.exe', '--script', 'dist\\app.js', '--args', '/serve'), /Arguments="run -A &quot;dist\\app\.js&quot; \/serve"/);
  assert.match(block('--exe', 'app.exe', '--script', 'app.js', '--runtime', 'bun'), /Executable="app\.exe" Arguments="&quot;app\.js&quot; -StartSampleTaskServer"/);
  assert.match(block('--exe', 'node.exe', '--args', 'app.js -StartSampleTaskServer'), /Arguments="app\.js -StartSampleTaskServer"/, 'arguments that start with the script are taken as given');
  usage(['--clsid', CLSID, '--exe', 'node.exe'], /^node\.exe runs a script, which must come first: give --script .* COM would start node\.exe -StartSampleTaskServer -Embedding, which node refuses \(exit 9, bad option\)$/);
  usage(['--clsid', CLSID, '--exe', 'Winbg-Bun.exe', '--args', '-x'], /^Winbg-Bun\.exe runs a script, which must come first/);
  usage(['--clsid', CLSID, '--exe', 'node.exe', '--script', 'dist\\'], /^--script must name a file, not end with \\/);
  usage(['--clsid', CLSID, '--exe', 'node.exe', '--script', 'app.js', '--runtime', 'python'], /^--runtime must be node, bun or deno/);
});

command('--check prints the findings and exits 0 when ok, 1 when not', () => {
  const readFile = files({ 'good.xml': GOOD, 'bad.xml': appxManifest(''), 'broken.xml': '<Package>\n  <x>\n' });
  const good = manifestCommand(['--check', 'good.xml', '--clsid', CLSID, '--exe', EXE], { readFile });
  assert.is(good.exitCode, 0);
  const lines = good.output.trimEnd().split('\n');
  assert.is(lines.length, 6);
  assert.is(lines[0], `good.xml:${positionOf(GOOD, '<Package').line}:1: ok: the COM namespace is declared: xmlns:com="${COM_NAMESPACE}" on <Package>`);
  assert.is(lines[5], 'good.xml: ok (0 errors, 0 warnings)');
  const bad = manifestCommand(['--check', 'bad.xml', '--clsid', CLSID], { readFile });
  assert.is(bad.exitCode, 1);
  assert.match(bad.output, /^bad\.xml:\d+:5: error: no <com:Extension Category="windows\.comServer">/m);
  assert.match(bad.output, /bad\.xml: not ok \(1 error, 0 warnings\)\n$/);
  const broken = manifestCommand(['--check', 'broken.xml', '--clsid', CLSID], { readFile });
  assert.is(broken.output, 'broken.xml:3:1: error: not well-formed XML: the document ends inside <x> (opened at line 2, column 3): </x> is missing\nbroken.xml: not ok (1 error, 0 warnings)\n');
  assert.is(broken.exitCode, 1);
});

command('--check reads UTF-8 with or without a BOM and UTF-16 with one; anything else is an error finding', () => {
  const utf16le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(GOOD, 'utf16le')]);
  const utf16be = Buffer.from(utf16le);
  utf16be.swap16();
  const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(GOOD)]);
  const readFile = files({ le: utf16le, be: utf16be, bom, latin1: Buffer.from(GOOD.replace('Contoso &amp; Co', 'Contoso \u00e9'), 'latin1') });
  for (const file of ['le', 'be', 'bom']) assert.is(manifestCommand(['--check', file, '--clsid', CLSID], { readFile }).exitCode, 0, file);
  const latin1 = manifestCommand(['--check', 'latin1', '--clsid', CLSID], { readFile });
  assert.is(latin1.exitCode, 1);
  assert.match(latin1.output, /^latin1: error: the file is neither UTF-8 nor UTF-16 with a byte order mark: save it as UTF-8\n/);
});

command('misuse: missing, unknown, repeated and misplaced options, invalid values, an unreadable file', () => {
  usage([], /^manifest needs --clsid$/);
  usage(['--exe', EXE], /^manifest needs --clsid$/);
  usage(['--clsid', CLSID], /^manifest needs --exe/);
  usage(['--clsid', CLSID, '--exe', EXE, '--frob', 'x'], /^unknown option --frob for manifest$/);
  usage(['--clsid', CLSID, '--exe', EXE, 'extra'], /^unexpected argument "extra" for manifest$/);
  usage(['--clsid', CLSID, '--clsid', CLSID, '--exe', EXE], /^--clsid is given twice$/);
  usage(['--clsid', '--exe', EXE], /^--clsid needs a value$/);
  usage(['--clsid', CLSID, '--exe'], /^--exe needs a value$/);
  usage(['--clsid', 'not-a-guid', '--exe', EXE], /^--clsid must be a GUID/);
  usage(['--clsid', CLSID, '--exe', '..\\x.exe'], /^--exe must stay inside the package/);
  usage(['--clsid', CLSID, '--exe', EXE, '--permission', 'x'], /^--permission must be an SDDL/);
  usage(['--check', 'a.xml', '--clsid', CLSID, '--display-name', 'x'], /^--display-name is for writing a block; --check takes --clsid, --exe and --args$/);
  usage(['--check', 'missing.xml', '--clsid', CLSID], /^cannot read missing\.xml: ENOENT/, files({}));
  usage(['--check', 'a.xml', '--clsid', CLSID, '--args', ' x'], /^--args must not start or end with white space/, files({ 'a.xml': GOOD }));
});

command('npx winbg manifest: stdout and exit codes 0, 1 and 2', () => {
  const cli = join(here, '..', '..', 'lib', 'cli.js');
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'manifest', ...args], { encoding: 'utf8' });
  const written = run('--clsid', CLSID, '--exe', EXE);
  if (written.error || written.status === null) {
    // Under Wine a child's pipes are not readable (see NOTES); manifestCommand is tested in-process above.
    return;
  }
  assert.is(written.status, 0, written.stderr);
  assert.is(written.stdout, manifestCommand(['--clsid', CLSID, '--exe', EXE]).output);
  const dir = mkdtempSync(join(tmpdir(), 'winbg-manifest-'));
  try {
    const good = join(dir, 'AppxManifest.xml');
    writeFileSync(good, GOOD);
    const ok = run('--check', good, '--clsid', CLSID, '--exe', EXE);
    assert.is(ok.status, 0, ok.stdout + ok.stderr);
    assert.ok(ok.stdout.endsWith(`${good}: ok (0 errors, 0 warnings)\n`), ok.stdout);
    const bad = join(dir, 'Bad.xml');
    writeFileSync(bad, appxManifest(''));
    const notOk = run('--check', bad, '--clsid', CLSID);
    assert.is(notOk.status, 1);
    assert.match(notOk.stdout, /error: no <com:Extension Category="windows\.comServer">/);
  } finally {
    removeTree(dir);
  }
  const misuse = run('--exe', EXE);
  assert.is(misuse.status, 2);
  assert.is(misuse.stdout, '');
  assert.match(misuse.stderr, /^manifest needs --clsid\nusage:\n/);
  assert.match(misuse.stderr, /winbg manifest --check AppxManifest\.xml --clsid GUID/);
  const help = run('--help');
  assert.is(help.status, 0);
  assert.match(help.stdout, /^usage:\n[\s\S]*winbg manifest --clsid GUID --exe PATH \[--script FILE \[--runtime node\|bun\|deno\]\] \[--args ARGS\]/);
});

command.run();
