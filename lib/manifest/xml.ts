// A small XML reader for package manifests: elements, attributes (single or double quotes),
// character data and CDATA, comments, processing instructions, the five predefined entities and
// character references, and namespace prefixes (Namespaces in XML 1.0). Rules follow XML 1.0
// (Fifth Edition) — production numbers [n] below. A DOCTYPE is refused: package manifests have
// none, and without one no other entity can be defined.
//
// It never recurses (a deeply nested document cannot overflow the stack) and every step consumes
// input, so it ends on any text; every refusal is an XmlSyntaxError with a line and column.
//
// Why not a maintained parser: checkManifest points at the element or attribute a finding is
// about, which needs where each one starts, and it matches elements by namespace URI. Measured on
// 2026-12-03 with a start tag spanning lines 2 to 4: fast-xml-parser 5.12.1 gives a tree with no
// positions and unresolved prefixes ("com:ExeServer", "@_xmlns:com"); saxes 6.0.0 resolves
// namespaces but reports where its tokenizer is when an event fires (the tag at 3:0, after its
// name; each attribute at its end), and has no start positions to give.

/** A document that is not well-formed XML; `line` and `column` count from 1. */
export class XmlSyntaxError extends Error {
  override readonly name = 'XmlSyntaxError';
  /** What is wrong, without the position. */
  readonly reason: string;
  readonly line: number;
  readonly column: number;

  constructor(reason: string, line: number, column: number) {
    super(`${reason} (line ${line}, column ${column})`);
    this.reason = reason;
    this.line = line;
    this.column = column;
  }
}

export interface XmlAttribute {
  /** The name as written, `prefix:local` or `local`. */
  readonly name: string;
  readonly prefix: string | null;
  readonly localName: string;
  /** Unprefixed attributes are in no namespace (Namespaces in XML §6.2); null too when the prefix is not declared. */
  readonly namespace: string | null;
  /** The normalized value, entities replaced (§3.3.3). */
  readonly value: string;
  readonly line: number;
  readonly column: number;
}

export interface XmlElement {
  readonly name: string;
  readonly prefix: string | null;
  readonly localName: string;
  /** The namespace URI; null when in no namespace or when the prefix is not declared. */
  readonly namespace: string | null;
  readonly attributes: readonly XmlAttribute[];
  readonly children: readonly XmlElement[];
  readonly parent: XmlElement | null;
  /** Character data directly inside this element (text and CDATA), entities replaced. */
  readonly text: string;
  /** The `xmlns`/`xmlns:p` declarations on this element: prefix (`''` for the default) → URI. */
  readonly declarations: ReadonlyMap<string, string>;
  readonly line: number;
  readonly column: number;
}

/** A prefix used without a declaration in scope: not namespace-well-formed, reported, not thrown. */
export interface UnboundPrefix {
  readonly prefix: string;
  readonly line: number;
  readonly column: number;
}

export interface XmlDocument {
  readonly root: XmlElement;
  readonly unboundPrefixes: readonly UnboundPrefix[];
}

/** The value of the attribute `localName` in `namespace` (no namespace by default), or undefined. */
export function attributeValue(element: XmlElement, localName: string, namespace: string | null = null): string | undefined {
  return element.attributes.find((a) => a.localName === localName && a.namespace === namespace)?.value;
}

/** The attribute itself, for its position. */
export function attributeNode(element: XmlElement, localName: string, namespace: string | null = null): XmlAttribute | undefined {
  return element.attributes.find((a) => a.localName === localName && a.namespace === namespace);
}

/** Every element of the tree under (and including) `root`, in document order; iterative. */
export function* descendants(root: XmlElement): Generator<XmlElement> {
  const stack: XmlElement[] = [root];
  while (stack.length > 0) {
    const element = stack.pop()!;
    yield element;
    for (let i = element.children.length - 1; i >= 0; i--) stack.push(element.children[i]!);
  }
}

const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

// [4] NameStartChar and [4a] NameChar.
const NAME_START = ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME = new RegExp(`[${NAME_START}][${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*`, 'uy');
// [2] Char: anything else (C0 controls but tab/LF/CR, U+FFFE/FFFF, lone surrogates) is refused.
const NOT_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const SPACE = /[ \t\r\n]*/y;
const lineEnds = (text: string): string => text.replace(/\r\n?/g, '\n');
const attributeSpaces = (text: string): string => text.replace(/\r\n|[\t\n\r]/g, ' ');

interface MutableElement {
  name: string;
  prefix: string | null;
  localName: string;
  namespace: string | null;
  attributes: XmlAttribute[];
  children: MutableElement[];
  parent: MutableElement | null;
  text: string;
  declarations: Map<string, string>;
  line: number;
  column: number;
  /** Prefix → URI in scope here (inherited, shared with the parent until this element declares one). */
  scope: Map<string, string>;
}

/**
 * Parses `text` (a whole document, an optional BOM first).
 * @throws XmlSyntaxError with the line and column of the first problem.
 */
export function parseXml(text: string): XmlDocument {
  if (typeof text !== 'string') throw new TypeError(`parseXml: expected the document as a string, got ${typeof text}`);
  return new Reader(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).document();
}

class Reader {
  private pos = 0;
  private readonly lineStarts: number[] = [0];
  private readonly stack: MutableElement[] = [];
  private root: MutableElement | null = null;
  private readonly unbound: UnboundPrefix[] = [];

  constructor(private readonly src: string) {
    for (let i = 0; i < src.length; i++) {
      const c = src.charCodeAt(i);
      // CR LF, CR and LF each end a line (§2.11).
      if (c === 0x0d && src.charCodeAt(i + 1) === 0x0a) i++;
      if (c === 0x0d || c === 0x0a) this.lineStarts.push(i + 1);
    }
  }

  document(): XmlDocument {
    const bad = NOT_CHAR.exec(this.src);
    if (bad) {
      const code = bad[0].codePointAt(0)!;
      this.fail(`character U+${code.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`, bad.index);
    }
    if (/^<\?xml[ \t\r\n?]/.test(this.src)) this.declaration();
    const src = this.src;
    while (this.pos < src.length) {
      if (src.charCodeAt(this.pos) !== 0x3c /* < */) {
        this.characterData();
      } else if (src.startsWith('<!--', this.pos)) {
        this.comment();
      } else if (src.startsWith('<![CDATA[', this.pos)) {
        this.cdata();
      } else if (src.startsWith('<!DOCTYPE', this.pos)) {
        this.fail('a DOCTYPE declaration is not supported in a package manifest', this.pos);
      } else if (src.startsWith('<!', this.pos)) {
        this.fail("'<!' must start a comment '<!--' or a CDATA section '<![CDATA['", this.pos);
      } else if (src.startsWith('<?', this.pos)) {
        this.processingInstruction();
      } else if (src.startsWith('</', this.pos)) {
        this.endTag();
      } else {
        this.startTag();
      }
    }
    const open = this.stack[this.stack.length - 1];
    if (open) {
      this.fail(`the document ends inside <${open.name}> (opened at line ${open.line}, column ${open.column}): </${open.name}> is missing`, src.length);
    }
    if (!this.root) this.fail('the document has no root element', src.length);
    return { root: this.root as XmlElement, unboundPrefixes: this.unbound };
  }

  // [23] XMLDecl: only at the very start; version is required, encoding and standalone optional.
  private declaration(): void {
    const end = this.src.indexOf('?>');
    if (end < 0) this.fail("the XML declaration '<?xml' is not closed with '?>'", 0);
    const body = this.src.slice(5, end);
    if (!/^[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])1\.[0-9]+\1([ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])[A-Za-z][A-Za-z0-9._-]*\3)?([ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["'])(yes|no)\5)?[ \t\r\n]*$/.test(body)) {
      this.fail("malformed XML declaration: expected <?xml version=\"1.0\" [encoding=\"…\"] [standalone=\"yes|no\"]?>", 0);
    }
    this.pos = end + 2;
  }

  private characterData(): void {
    const src = this.src;
    const start = this.pos;
    let end = src.indexOf('<', start);
    if (end < 0) end = src.length;
    const raw = src.slice(start, end);
    this.pos = end;
    const parent = this.stack[this.stack.length - 1];
    if (!parent) {
      const at = raw.search(/[^ \t\r\n]/);
      if (at >= 0) this.fail(this.root ? 'text after the root element' : 'text before the root element', start + at);
      return;
    }
    const cdataEnd = raw.indexOf(']]>');
    if (cdataEnd >= 0) this.fail("']]>' is not allowed in text (§2.4); write ']]&gt;'", start + cdataEnd);
    parent.text += this.replaceReferences(raw, start, lineEnds);
  }

  // [15] Comment: '--' may not occur inside, nor may the comment end in '--->'.
  private comment(): void {
    const start = this.pos;
    const end = this.src.indexOf('-->', start + 4);
    if (end < 0) this.fail("the comment is not closed with '-->'", start);
    const dashes = this.src.indexOf('--', start + 4);
    if (dashes < end) this.fail("'--' is not allowed inside a comment", dashes);
    this.pos = end + 3;
  }

  private cdata(): void {
    const start = this.pos;
    const parent = this.stack[this.stack.length - 1];
    if (!parent) this.fail('a CDATA section is only allowed inside an element', start);
    const end = this.src.indexOf(']]>', start + 9);
    if (end < 0) this.fail("the CDATA section is not closed with ']]>'", start);
    parent.text += lineEnds(this.src.slice(start + 9, end));
    this.pos = end + 3;
  }

  // [16] PI: a target name other than 'xml' in any case, then anything up to '?>'.
  private processingInstruction(): void {
    const start = this.pos;
    this.pos += 2;
    const target = this.name('a processing instruction target');
    if (target.toLowerCase() === 'xml') {
      this.fail(start === 0 ? "malformed XML declaration: expected <?xml version=\"1.0\" …?>" : 'the XML declaration is only allowed at the very start of the document', start);
    }
    const end = this.src.indexOf('?>', this.pos);
    if (end < 0) this.fail("the processing instruction is not closed with '?>'", start);
    if (end > this.pos && !/[ \t\r\n]/.test(this.src[this.pos]!)) this.fail('expected white space after the processing instruction target', this.pos);
    this.pos = end + 2;
  }

  private startTag(): void {
    const src = this.src;
    const start = this.pos;
    if (this.root && this.stack.length === 0) this.fail('only one root element is allowed; this element is after the end of the root element', start);
    this.pos++;
    const name = this.name('an element name');
    const rawAttributes: { name: string; value: string; offset: number }[] = [];
    const seen = new Set<string>();
    for (;;) {
      const spaced = this.skipSpace();
      if (this.pos >= src.length) this.fail(`the start tag <${name}> is not closed with '>'`, start);
      const c = src[this.pos];
      if (c === '>' || src.startsWith('/>', this.pos)) break;
      if (!spaced) this.fail(`expected white space, '>' or '/>' in the start tag <${name}>`, this.pos);
      const offset = this.pos;
      const attribute = this.name(`an attribute name, '>' or '/>' in the start tag <${name}>`);
      if (seen.has(attribute)) this.fail(`the attribute ${attribute} appears twice in <${name}>`, offset);
      seen.add(attribute);
      this.skipSpace();
      if (src[this.pos] !== '=') this.fail(`expected '=' after the attribute name ${attribute}`, this.pos);
      this.pos++;
      this.skipSpace();
      const quote = src[this.pos];
      if (quote !== '"' && quote !== "'") this.fail(`the value of ${attribute} must be in quotes (" or ')`, this.pos);
      const close = src.indexOf(quote, this.pos + 1);
      if (close < 0) this.fail(`the value of ${attribute} is not closed with ${quote}`, this.pos);
      const raw = src.slice(this.pos + 1, close);
      const lt = raw.indexOf('<');
      if (lt >= 0) this.fail(`'<' is not allowed in an attribute value (write &lt;)`, this.pos + 1 + lt);
      // §3.3.3: each literal white-space character becomes a space; a reference (&#10;) stays as written.
      rawAttributes.push({ name: attribute, value: this.replaceReferences(raw, this.pos + 1, attributeSpaces), offset });
      this.pos = close + 1;
    }
    const selfClosing = src[this.pos] === '/';
    this.pos += selfClosing ? 2 : 1;
    const element = this.element(name, start, rawAttributes);
    if (selfClosing) this.closed(element);
    else this.stack.push(element);
  }

  private endTag(): void {
    const start = this.pos;
    this.pos += 2;
    const name = this.name('an element name after </');
    this.skipSpace();
    if (this.src[this.pos] !== '>') this.fail(`the end tag </${name}> is not closed with '>'`, this.pos);
    this.pos++;
    const open = this.stack.pop();
    if (!open) this.fail(`the end tag </${name}> has no matching start tag`, start);
    if (open.name !== name) this.fail(`the end tag </${name}> does not match the start tag <${open.name}> at line ${open.line}, column ${open.column}`, start);
    this.closed(open);
  }

  private closed(element: MutableElement): void {
    const parent = this.stack[this.stack.length - 1];
    if (parent) parent.children.push(element);
    else this.root = element;
  }

  /** Builds the element and resolves its namespaces (Namespaces in XML 1.0 §§3–6). */
  private element(name: string, offset: number, raw: { name: string; value: string; offset: number }[]): MutableElement {
    const parent = this.stack[this.stack.length - 1] ?? null;
    let scope = parent?.scope ?? new Map([['xml', XML_NAMESPACE], ['xmlns', XMLNS_NAMESPACE]]);
    const declarations = new Map<string, string>();
    for (const attribute of raw) {
      const declared = attribute.name === 'xmlns' ? '' : attribute.name.startsWith('xmlns:') ? attribute.name.slice(6) : null;
      if (declared === null) continue;
      this.qualified(attribute.name, attribute.offset);
      if (declared === 'xmlns') this.fail('the prefix xmlns must not be declared', attribute.offset);
      if (declared === 'xml' ? attribute.value !== XML_NAMESPACE : attribute.value === XML_NAMESPACE || attribute.value === XMLNS_NAMESPACE) {
        this.fail(`the prefix xml and the namespace ${attribute.value} belong to each other only`, attribute.offset);
      }
      if (declared !== '' && attribute.value === '') this.fail(`${attribute.name} must not be empty: a prefix cannot be undeclared in XML 1.0 namespaces`, attribute.offset);
      declarations.set(declared, attribute.value);
    }
    if (declarations.size > 0) {
      scope = new Map(scope);
      for (const [prefix, uri] of declarations) {
        if (prefix === '' && uri === '') scope.delete('');
        else scope.set(prefix, uri);
      }
    }
    const [prefix, localName] = this.qualified(name, offset);
    const elementNamespace = prefix === null ? scope.get('') ?? null : this.resolve(scope, prefix, offset + 1);
    const attributes: XmlAttribute[] = raw.map((attribute) => {
      const [attributePrefix, attributeLocal] = attribute.name === 'xmlns' ? [null, 'xmlns'] as const : this.qualified(attribute.name, attribute.offset);
      const namespace = attribute.name === 'xmlns' || attributePrefix === 'xmlns'
        ? XMLNS_NAMESPACE
        : attributePrefix === null ? null : this.resolve(scope, attributePrefix, attribute.offset);
      return { name: attribute.name, prefix: attributePrefix, localName: attributeLocal, namespace, value: attribute.value, ...this.position(attribute.offset) };
    });
    return {
      name, prefix, localName, namespace: elementNamespace, attributes, children: [], parent, text: '', declarations, scope,
      ...this.position(offset),
    };
  }

  private resolve(scope: Map<string, string>, prefix: string, offset: number): string | null {
    const uri = scope.get(prefix);
    if (uri === undefined) {
      this.unbound.push({ prefix, ...this.position(offset) });
      return null;
    }
    return uri;
  }

  /** Splits a QName ([7] in Namespaces in XML): at most one colon, not first or last. */
  private qualified(name: string, offset: number): [prefix: string | null, local: string] {
    const colon = name.indexOf(':');
    if (colon < 0) return [null, name];
    if (colon === 0 || colon === name.length - 1 || name.indexOf(':', colon + 1) >= 0) {
      this.fail(`${name} is not a qualified name (prefix:local, one colon at most)`, offset);
    }
    return [name.slice(0, colon), name.slice(colon + 1)];
  }

  /**
   * Replaces the entity and character references in `raw`, which starts at `offset` in the source,
   * and passes the literal text between them through `literal` (line-end and attribute-value
   * normalization apply to literal characters only, §2.11 and §3.3.3).
   */
  private replaceReferences(raw: string, offset: number, literal: (text: string) => string): string {
    let out = '';
    let from = 0;
    for (let amp = raw.indexOf('&'); amp >= 0; amp = raw.indexOf('&', from)) {
      out += literal(raw.slice(from, amp));
      const match = /^&(#x[0-9A-Fa-f]+|#[0-9]+|[A-Za-z_:][A-Za-z0-9_:.-]*);/.exec(raw.slice(amp, amp + 64));
      if (!match) this.fail("'&' must start a reference such as &amp;, &lt; or &#x41;", offset + amp);
      const reference = match[1]!;
      if (reference.startsWith('#')) {
        const code = reference[1] === 'x' ? parseInt(reference.slice(2), 16) : parseInt(reference.slice(1), 10);
        const char = code <= 0x10ffff ? String.fromCodePoint(code) : '';
        if (!char || NOT_CHAR.test(char)) this.fail(`&${reference}; does not refer to a character allowed in XML`, offset + amp);
        out += char;
      } else {
        const replacement = PREDEFINED[reference];
        if (replacement === undefined) {
          this.fail(`unknown entity &${reference}; (without a DTD only &lt; &gt; &amp; &apos; &quot; and character references are defined)`, offset + amp);
        }
        out += replacement;
      }
      from = amp + match[0].length;
    }
    return out + literal(raw.slice(from));
  }

  private name(what: string): string {
    NAME.lastIndex = this.pos;
    const match = NAME.exec(this.src);
    if (!match) {
      this.fail(this.pos >= this.src.length ? `the document ends where ${what} was expected` : `expected ${what}`, this.pos);
    }
    this.pos += match[0].length;
    return match[0];
  }

  private skipSpace(): boolean {
    SPACE.lastIndex = this.pos;
    const length = SPACE.exec(this.src)![0].length;
    this.pos += length;
    return length > 0;
  }

  private position(offset: number): { line: number; column: number } {
    const starts = this.lineStarts;
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - starts[low]! + 1 };
  }

  private fail(reason: string, offset: number): never {
    const { line, column } = this.position(offset);
    throw new XmlSyntaxError(reason, line, column);
  }
}
