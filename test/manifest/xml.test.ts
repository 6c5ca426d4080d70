// The manifest's XML reader: the XML 1.0 subset a package manifest uses, read exactly, and every
// malformed document refused with the line and column of the problem — never a crash or a hang.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type XmlElement, XmlSyntaxError, attributeValue, descendants, parseXml } from '../../lib/manifest/xml.js';

/** The XmlSyntaxError `text` throws; fails the test when it parses. */
function syntaxError(text: string): XmlSyntaxError {
  try {
    parseXml(text);
  } catch (error) {
    if (error instanceof XmlSyntaxError) return error;
    throw new Error(`expected an XmlSyntaxError, got ${String(error)}`);
  }
  throw new Error(`expected an XmlSyntaxError for ${JSON.stringify(text)}, but it parsed`);
}

function expectError(text: string, line: number, column: number, reason: RegExp): void {
  const error = syntaxError(text);
  assert.match(error.reason, reason, JSON.stringify(text));
  assert.equal([error.line, error.column], [line, column], `${JSON.stringify(text)}: ${error.message}`);
  assert.ok(error.message.endsWith(`(line ${line}, column ${column})`), error.message);
}

// ---------------------------------------------------------------------------------------------

const reads = suite('parseXml: what it reads');

reads('elements, attributes in either quotes, text, CDATA, comments and PIs', () => {
  const { root } = parseXml(
    '<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n' +
    '<!-- before -->\n<?app-hint data?>\n' +
    "<a x=\"1\" y='two \"quoted\"' z = \"it's\">text<![CDATA[<not> &markup;]]><b/><!-- c --><?pi x?><c k='v'></c>tail</a>\n" +
    '<!-- after -->\n',
  );
  assert.is(root.name, 'a');
  assert.equal(root.attributes.map((a) => [a.name, a.value]), [['x', '1'], ['y', 'two "quoted"'], ['z', "it's"]]);
  assert.is(root.text, 'text<not> &markup;tail');
  assert.equal(root.children.map((c) => c.name), ['b', 'c']);
  assert.is(attributeValue(root.children[1]!, 'k'), 'v');
  assert.is(root.children[0]!.parent, root);
});

reads('the predefined entities and character references, in text and attributes', () => {
  const { root } = parseXml('<a v="&lt;&gt;&amp;&apos;&quot;&#65;&#x42;&#x1F600;">&lt;x&gt; &amp; &#169;</a>');
  assert.is(attributeValue(root, 'v'), '<>&\'"AB\u{1F600}');
  assert.is(root.text, '<x> & \u00A9');
});

reads('attribute values are normalized: literal white space becomes a space, references stay (XML §3.3.3)', () => {
  const { root } = parseXml('<a v="one\r\ntwo\tthree\nfour" w="x&#10;y&#9;z&#13;"/>');
  assert.is(attributeValue(root, 'v'), 'one two three four');
  assert.is(attributeValue(root, 'w'), 'x\ny\tz\r');
});

reads('line ends in text become LF; a BOM is skipped', () => {
  const { root } = parseXml('\uFEFF<a>1\r\n2\r3</a>');
  assert.is(root.text, '1\n2\n3');
  assert.equal([root.line, root.column], [1, 1]);
});

reads('namespaces: default, prefixed, inherited, redeclared; unprefixed attributes have none', () => {
  const { root, unboundPrefixes } = parseXml(
    '<Package xmlns="urn:f" xmlns:c="urn:c" a="1">\n' +
    '  <c:X c:b="2" d="3"><Y/><c:Z xmlns:c="urn:other"/></c:X>\n' +
    '  <Q xmlns=""/>\n' +
    '</Package>',
  );
  assert.equal(unboundPrefixes, []);
  assert.is(root.namespace, 'urn:f');
  assert.equal([...root.declarations], [['', 'urn:f'], ['c', 'urn:c']]);
  assert.is(root.attributes.find((a) => a.name === 'a')!.namespace, null);
  const x = root.children[0]!;
  assert.equal([x.prefix, x.localName, x.namespace], ['c', 'X', 'urn:c']);
  assert.is(x.attributes.find((a) => a.name === 'c:b')!.namespace, 'urn:c');
  assert.is(x.attributes.find((a) => a.name === 'd')!.namespace, null);
  assert.is(attributeValue(x, 'b', 'urn:c'), '2');
  assert.is(attributeValue(x, 'b'), undefined, 'a prefixed attribute is not found in no namespace');
  assert.is(x.children[0]!.namespace, 'urn:f', 'the default namespace is inherited');
  assert.is(x.children[1]!.namespace, 'urn:other', 'a redeclared prefix wins inside');
  assert.is(root.children[1]!.namespace, null, 'xmlns="" undeclares the default namespace');
  assert.equal([x.line, x.column], [2, 3]);
});

reads('an undeclared prefix is recorded with its position, not thrown', () => {
  const { root, unboundPrefixes } = parseXml('<a>\n  <com:b/>\n</a>');
  assert.is(root.children[0]!.namespace, null);
  assert.equal(unboundPrefixes, [{ prefix: 'com', line: 2, column: 4 }]);
});

reads('positions count lines after LF, CR LF and CR alike', () => {
  const { root } = parseXml('<a>\n<b/>\r\n<c/>\r  <d/></a>');
  assert.equal(root.children.map((c) => [c.name, c.line, c.column]), [['b', 2, 1], ['c', 3, 1], ['d', 4, 3]]);
});

reads('deep nesting does not overflow the stack; descendants walks in document order', () => {
  const depth = 100_000;
  const { root } = parseXml(`${'<e>'.repeat(depth)}${'</e>'.repeat(depth)}`);
  let count = 0;
  for (const element of descendants(root)) if (element.name === 'e') count++;
  assert.is(count, depth);
  const order = [...descendants(parseXml('<a><b><c/></b><d/></a>').root)].map((e: XmlElement) => e.name);
  assert.equal(order, ['a', 'b', 'c', 'd']);
});

reads.run();

// ---------------------------------------------------------------------------------------------

const refuses = suite('parseXml: malformed documents');

refuses('unclosed and mismatched tags', () => {
  expectError('<a>\n  <b>\n</a>', 3, 1, /the end tag <\/a> does not match the start tag <b> at line 2, column 3/);
  expectError('<a>\n  <b></b>\n', 3, 1, /the document ends inside <a> \(opened at line 1, column 1\): <\/a> is missing/);
  expectError('<a></a></b>', 1, 8, /the end tag <\/b> has no matching start tag/);
  expectError('<a x="1"', 1, 1, /the start tag <a> is not closed with '>'/);
  expectError('<a></a >x', 1, 9, /text after the root element/);
  expectError('<a/><b/>', 1, 5, /only one root element/);
  expectError('', 1, 1, /no root element/);
  expectError('  \n ', 2, 2, /no root element/);
});

refuses('bad entities and references', () => {
  expectError('<a>AT&T</a>', 1, 6, /'&' must start a reference/);
  expectError('<a>&nbsp;</a>', 1, 4, /unknown entity &nbsp;/);
  expectError('<a\n  v="x &copy; y"/>', 2, 8, /unknown entity &copy;/);
  expectError('<a>&#0;</a>', 1, 4, /&#0; does not refer to a character allowed/);
  expectError('<a>&#x110000;</a>', 1, 4, /does not refer to a character allowed/);
  expectError('<a>&#xD800;</a>', 1, 4, /does not refer to a character allowed/);
  expectError('<a v="&amp"/>', 1, 7, /'&' must start a reference/);
});

refuses('attributes', () => {
  expectError('<a v=1/>', 1, 6, /the value of v must be in quotes/);
  expectError('<a v="1\'/>', 1, 6, /the value of v is not closed with "/);
  expectError('<a v="1" v="2"/>', 1, 10, /the attribute v appears twice/);
  expectError('<a v="1"w="2"/>', 1, 9, /expected white space/);
  expectError('<a v="<"/>', 1, 7, /'<' is not allowed in an attribute value/);
  expectError('<a v/>', 1, 5, /expected '=' after the attribute name v/);
});

refuses('comments, CDATA, PIs, declarations and DOCTYPE', () => {
  expectError('<a><!-- x -- y --></a>', 1, 11, /'--' is not allowed inside a comment/);
  expectError('<a><!-- open', 1, 4, /the comment is not closed/);
  expectError('<a><![CDATA[ x </a>', 1, 4, /the CDATA section is not closed/);
  expectError('<![CDATA[x]]><a/>', 1, 1, /CDATA section is only allowed inside an element/);
  expectError('<a>x ]]> y</a>', 1, 6, /']]>' is not allowed in text/);
  expectError('<a><?pi never closed</a>', 1, 4, /the processing instruction is not closed/);
  expectError('\n<?xml version="1.0"?><a/>', 2, 1, /XML declaration is only allowed at the very start/);
  expectError('<?xml encoding="utf-8"?><a/>', 1, 1, /malformed XML declaration/);
  expectError('<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', 1, 1, /DOCTYPE declaration is not supported/);
  expectError('<a><!ELEMENT a ANY></a>', 1, 4, /'<!' must start a comment/);
});

refuses('names, namespaces and characters', () => {
  expectError('<1a/>', 1, 2, /expected an element name/);
  expectError('<a:b:c/>', 1, 1, /a:b:c is not a qualified name/);
  expectError('<a xmlns:p=""/>', 1, 4, /xmlns:p must not be empty/);
  expectError('<a xmlns:xml="urn:x"/>', 1, 4, /the prefix xml and the namespace/);
  expectError('<a xmlns:xmlns="urn:x"/>', 1, 4, /the prefix xmlns must not be declared/);
  expectError('<a>\n\u0001</a>', 2, 1, /character U\+0001 is not allowed/);
  expectError('<a>\uFFFF</a>', 1, 4, /character U\+FFFF is not allowed/);
  expectError('<a>\uD800</a>', 1, 4, /character U\+D800 is not allowed/);
});

refuses('non-strings are a TypeError, not a syntax error', () => {
  assert.throws(() => parseXml(undefined as unknown as string), (e: unknown) => e instanceof TypeError && /expected the document as a string/.test(String(e)));
});

const SAMPLE =
  '<?xml version="1.0" encoding="utf-8"?>\n<Package xmlns="urn:f" xmlns:c=\'urn:c\'>\n  <!-- c -->\n' +
  '  <Applications><Application Id="App"><Extensions><c:Extension Category="windows.comServer">' +
  '<c:ExeServer Executable="A\\A.exe" DisplayName="A &amp; B"><![CDATA[x]]></c:ExeServer></c:Extension>' +
  '</Extensions></Application></Applications>\n</Package>\n';

refuses('every truncation of a document is refused with a position inside it, quickly', () => {
  const started = performance.now();
  const lines = SAMPLE.split('\n').length;
  for (let end = 0; end < SAMPLE.trimEnd().length; end++) {
    const error = syntaxError(SAMPLE.slice(0, end));
    assert.ok(error.line >= 1 && error.line <= lines && error.column >= 1, `${end}: ${error.message}`);
  }
  parseXml(SAMPLE);
  assert.ok(performance.now() - started < 5000, 'truncations took too long');
});

refuses('random corruptions either parse or throw XmlSyntaxError, and end', () => {
  let seed = 12345;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const alphabet = ['<', '>', '/', '&', ';', '"', "'", '=', '!', '-', '?', '[', ']', ':', ' ', '\n', 'x', '#', '\u0000'];
  let refused = 0;
  for (let i = 0; i < 3000; i++) {
    const chars = [...SAMPLE];
    for (let k = 1 + random(3); k > 0; k--) chars[random(chars.length)] = alphabet[random(alphabet.length)]!;
    try {
      parseXml(chars.join(''));
    } catch (error) {
      if (!(error instanceof XmlSyntaxError)) throw error;
      refused++;
    }
  }
  assert.ok(refused > 1000, `${refused} of 3000 corruptions refused`);
});

refuses('large inputs stay linear: many attributes, long text, many unclosed comments', () => {
  const started = performance.now();
  const attributes = Array.from({ length: 100_000 }, (_, i) => ` a${i}="${i}"`).join('');
  assert.is(parseXml(`<a${attributes}/>`).root.attributes.length, 100_000);
  expectError(`<a${attributes} a7="x"/>`, 1, attributes.length + 4, /the attribute a7 appears twice/);
  assert.is(parseXml(`<a>${'x&amp;'.repeat(200_000)}</a>`).root.text, 'x&'.repeat(200_000));
  expectError(`<a>${'<!-- '.repeat(20_000)}`, 1, 4, /the comment is not closed/);
  assert.ok(performance.now() - started < 5000, `${Math.round(performance.now() - started)} ms`);
});

refuses.run();
