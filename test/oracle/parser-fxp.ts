/**
 * The parser that parseXml used before soap/scanner.ts, kept unchanged as a differential oracle:
 * the fuzz tests (test/unit/soap/scanner.fuzz.test.ts) hold the scanner to the same trees and the
 * same error codes, and bench/xml-scanner.mjs measures both. The gateway does not use it.
 *
 * Three steps, each linear in the input:
 *   1. decode: UTF-8 only, strictly (XML 1.0 section 4.3.3 and Appendix F);
 *   2. pre-scan: a complete XML 1.0 well-formedness check under structural limits, which refuses
 *      DOCTYPE (so no entity, external DTD or parameter entity can exist) and processing
 *      instructions before any tree is built, and records where tags and character data are;
 *   3. build: fast-xml-parser builds the element tree from the tags, and `toElement` converts it
 *      into XmlElement, resolving namespaces and decoding references exactly once.
 * fast-xml-parser is given the tags only, not the character data: it collects text one character
 * at a time (OrderedObjParser.js, `textData += xmlData[i]`), which measured about 1 s for 5 MB of
 * text in fields within the limits; the pre-scan already knows where each text run starts and ends.
 * The pre-scan also records every element name and attribute count, and step 3 must agree with it:
 * two parsers reading one document differently is how parser-differential attacks work.
 */
import { XMLParser, type X2jOptions } from 'fast-xml-parser';
import { NS_XML, NS_XMLNS } from '../../src/constants.js';
import { GatewayError } from '../../src/errors.js';
import type { XmlAttribute, XmlElement, XmlLimits } from '../../src/soap/types.js';

/** fast-xml-parser refuses deeper documents itself; the pre-scan's maxDepth must stay below. */
const MAX_SUPPORTED_DEPTH = 1024;

/**
 * Parses a request body into a namespace-resolved element tree, or throws a GatewayError:
 * GW_ERR_XML_ENCODING, GW_ERR_XML_DOCTYPE, GW_ERR_XML_PI, GW_ERR_XML_LIMIT or GW_ERR_XML_MALFORMED.
 *
 * @example parseXmlFxp(Buffer.from('<a xmlns="urn:x">1</a>'), DEFAULT_XML_LIMITS).ns // 'urn:x'
 */
export function parseXmlFxp(body: Buffer, limits: XmlLimits): XmlElement {
  checkLimits(limits);
  const text = decodeUtf8(body);
  const shape = new PreScan(text, limits).run(declarationEnd(text));
  let ordered: unknown;
  try {
    ordered = FXP.parse(tagsOnly(text, shape.tags));
  } catch {
    throw new GatewayError('GW_ERR_INTERNAL', 'fast-xml-parser refused a document the pre-scan accepted');
  }
  return toElement(ordered, shape, characterData(text, shape));
}

function checkLimits(limits: XmlLimits): void {
  for (const value of Object.values(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError('XML limits must be positive integers');
  }
  if (limits.maxDepth > MAX_SUPPORTED_DEPTH) throw new RangeError(`maxDepth must be at most ${MAX_SUPPORTED_DEPTH}`);
}

function malformed(detail: string): GatewayError {
  return new GatewayError('GW_ERR_XML_MALFORMED', detail);
}

function overLimit(detail: string): GatewayError {
  return new GatewayError('GW_ERR_XML_LIMIT', detail);
}

// ---- 1. decode ------------------------------------------------------------------------------

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function decodeUtf8(body: Buffer): string {
  const encoding = (detail: string) => new GatewayError('GW_ERR_XML_ENCODING', detail);
  if ((body[0] === 0xfe && body[1] === 0xff) || (body[0] === 0xff && body[1] === 0xfe)) {
    throw encoding('UTF-16 or UTF-32 byte order mark');
  }
  // XML 1.0 Appendix F: UTF-16 and UTF-32 write '<' as 2 or 4 bytes, so they hold NUL bytes even
  // without a BOM; U+0000 is not an XML character in any encoding.
  if (body.includes(0)) throw encoding('NUL byte: UTF-16, UTF-32 or binary data');
  try {
    // Strips one leading UTF-8 BOM, which XML 1.0 section 4.3.3 allows.
    return UTF8.decode(body);
  } catch {
    throw encoding('invalid UTF-8');
  }
}

// XML 1.0 section 2.8 XMLDecl, version 1.0 only. Matched on a bounded prefix so that the
// optional parts cannot backtrack over an unbounded run of whitespace.
const XML_DECL =
  /^<\?xml[\t\n\r ]+version[\t\n\r ]*=[\t\n\r ]*(["'])1\.0\1(?:[\t\n\r ]+encoding[\t\n\r ]*=[\t\n\r ]*(["'])([A-Za-z][\w.-]*)\2)?(?:[\t\n\r ]+standalone[\t\n\r ]*=[\t\n\r ]*(["'])(?:yes|no)\4)?[\t\n\r ]*\?>/;
const XML_DECL_ENCODING = /encoding[\t\n\r ]*=[\t\n\r ]*["']([^"']*)["']/;
const XML_DECL_MAX = 256;

/** Index after the optional XML declaration, which may only open the document. */
function declarationEnd(text: string): number {
  if (!text.startsWith('<?xml') || !isSpace(text.charCodeAt(5))) return 0;
  const head = text.slice(0, XML_DECL_MAX);
  const match = XML_DECL.exec(head);
  const close = head.indexOf('?>');
  const declared = match ? match[3] : XML_DECL_ENCODING.exec(close === -1 ? head : head.slice(0, close))?.[1];
  if (declared !== undefined && declared.toLowerCase() !== 'utf-8') {
    throw new GatewayError('GW_ERR_XML_ENCODING', 'declared encoding is not UTF-8');
  }
  if (!match) throw malformed('invalid XML declaration');
  return match[0].length;
}

// ---- 2. pre-scan ----------------------------------------------------------------------------

const LT = 0x3c;
const GT = 0x3e;
const AMP = 0x26;
const SLASH = 0x2f;
const COLON = 0x3a;
const SEMICOLON = 0x3b;
const RBRACKET = 0x5d;

/** What the pre-scan saw, in document order. */
interface Shape {
  /** Element QNames and attribute counts, indexed by element in document order. */
  readonly names: readonly string[];
  readonly attributeCounts: readonly number[];
  /** [start, end) offsets of every start and end tag. */
  readonly tags: readonly number[];
  /** Character data as (element index, start, end, 1 for CDATA else 0) quadruples. */
  readonly segments: readonly number[];
}

/** XML 1.0 section 2.3 S. */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** XML 1.0 section 2.2 Char, for one UTF-16 code unit (the decoder leaves no lone surrogate). */
function isCharUnit(c: number): boolean {
  return c >= 0x20 ? c < 0xfffe : c === 0x09 || c === 0x0a || c === 0x0d;
}

function isCodePoint(cp: number): boolean {
  return cp < 0x10000 ? isCharUnit(cp) && (cp < 0xd800 || cp > 0xdfff) : cp <= 0x10ffff;
}

/**
 * XML 1.0 section 2.3 NameStartChar without ':' (Namespaces in XML 1.0 section 3, NCName).
 * U+1680 and U+FEFF are refused although XML allows them: JavaScript's \s matches them, and
 * fast-xml-parser splits tag names on \s, so it would read another name than the pre-scan.
 */
function isNameStart(c: number): boolean {
  if (c < 0x80) return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
  if (c === 0x1680 || c === 0xfeff) return false;
  return (c >= 0xc0 && c <= 0xd6) || (c >= 0xd8 && c <= 0xf6) || (c >= 0xf8 && c <= 0x2ff)
    || (c >= 0x370 && c <= 0x37d) || (c >= 0x37f && c <= 0x1fff) || c === 0x200c || c === 0x200d
    || (c >= 0x2070 && c <= 0x218f) || (c >= 0x2c00 && c <= 0x2fef) || (c >= 0x3001 && c <= 0xd7ff)
    || (c >= 0xf900 && c <= 0xfdcf) || (c >= 0xfdf0 && c <= 0xfffd);
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0xb7
    || (c >= 0x300 && c <= 0x36f) || c === 0x203f || c === 0x2040;
}

/**
 * A single forward pass over the decoded text. Every loop advances the index, and each element
 * costs at most maxAttributesPerElement set operations, so the cost is linear in the input.
 */
class PreScan {
  readonly #s: string;
  readonly #limits: XmlLimits;
  readonly #names: string[] = [];
  readonly #attributeCounts: number[] = [];
  readonly #tags: number[] = [];
  readonly #segments: number[] = [];
  /** Indices of the open elements, innermost last. */
  readonly #open: number[] = [];
  readonly #openTotals: number[] = [];
  readonly #seen = new Set<string>();
  #attributes = 0;
  /** Character data of the innermost open element so far, in UTF-16 code units. */
  #total = 0;
  /** Code units that the last reference decodes to. */
  #refUnits = 0;

  constructor(text: string, limits: XmlLimits) {
    this.#s = text;
    this.#limits = limits;
  }

  run(start: number): Shape {
    const s = this.#s;
    let i = this.#misc(start);
    if (s.charCodeAt(i) !== LT) throw malformed(i >= s.length ? 'no root element' : `text before the root element at ${i}`);
    i = this.#startTag(i);
    while (this.#open.length > 0) {
      if (i >= s.length) throw malformed('unclosed element at end of input');
      i = s.charCodeAt(i) === LT ? this.#markup(i) : this.#text(i);
    }
    i = this.#misc(i);
    if (i < s.length) {
      throw malformed(s.charCodeAt(i) === LT ? `second root element at ${i}` : `text after the root element at ${i}`);
    }
    return { names: this.#names, attributeCounts: this.#attributeCounts, tags: this.#tags, segments: this.#segments };
  }

  /** XML 1.0 section 2.8 Misc*: whitespace and comments around the root element. */
  #misc(from: number): number {
    const s = this.#s;
    let i = from;
    for (;;) {
      while (isSpace(s.charCodeAt(i))) i++;
      if (s.startsWith('<!--', i)) i = this.#comment(i);
      else if (s.startsWith('<?', i)) throw new GatewayError('GW_ERR_XML_PI', `processing instruction at ${i}`);
      else if (s.startsWith('<!DOCTYPE', i)) throw new GatewayError('GW_ERR_XML_DOCTYPE', `DOCTYPE at ${i}`);
      else return i;
    }
  }

  #markup(i: number): number {
    const s = this.#s;
    const c = s.charCodeAt(i + 1);
    if (c === SLASH) return this.#endTag(i);
    if (c === 0x3f) throw new GatewayError('GW_ERR_XML_PI', `processing instruction at ${i}`);
    if (c !== 0x21) return this.#startTag(i);
    if (s.startsWith('<!--', i)) return this.#comment(i);
    if (s.startsWith('<![CDATA[', i)) return this.#cdata(i);
    if (s.startsWith('<!DOCTYPE', i)) throw new GatewayError('GW_ERR_XML_DOCTYPE', `DOCTYPE at ${i}`);
    throw malformed(`unknown markup declaration at ${i}`);
  }

  /** XML 1.0 section 2.5: '--' may only appear as part of the closing '-->'. */
  #comment(i: number): number {
    const s = this.#s;
    const end = s.indexOf('--', i + 4);
    if (end === -1) throw malformed(`unclosed comment at ${i}`);
    if (s.charCodeAt(end + 2) !== GT) throw malformed(`'--' inside a comment at ${end}`);
    if (end - i - 4 > this.#limits.maxTextLength) throw overLimit(`comment longer than maxTextLength at ${i}`);
    this.#checkChars(i + 4, end);
    return end + 3;
  }

  /** XML 1.0 section 2.7: content is literal up to the first ']]>'. */
  #cdata(i: number): number {
    const from = i + 9;
    const end = this.#s.indexOf(']]>', from);
    if (end === -1) throw malformed(`unclosed CDATA section at ${i}`);
    this.#countText(end - from, i);
    this.#checkChars(from, end);
    if (end > from) this.#segments.push(this.#open.at(-1) ?? 0, from, end, 1);
    return end + 3;
  }

  #checkChars(from: number, to: number): void {
    const s = this.#s;
    for (let i = from; i < to; i++) {
      if (!isCharUnit(s.charCodeAt(i))) throw malformed(`character not allowed in XML at ${i}`);
    }
  }

  /** Counts character data against maxTextLength; the element's total bounds each node too. */
  #countText(units: number, at: number): void {
    this.#total += units;
    if (this.#total > this.#limits.maxTextLength) throw overLimit(`character data longer than maxTextLength at ${at}`);
  }

  /** Character data up to the next '<' (XML 1.0 section 2.4), with its references. */
  #text(from: number): number {
    const s = this.#s;
    const max = this.#limits.maxTextLength - this.#total;
    let units = 0;
    let i = from;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === LT) break;
      if (c === AMP) {
        i = this.#reference(i);
        units += this.#refUnits;
      } else {
        if (!isCharUnit(c)) throw malformed(`character not allowed in XML at ${i}`);
        if (c === RBRACKET && s.charCodeAt(i + 1) === RBRACKET && s.charCodeAt(i + 2) === GT) {
          throw malformed(`']]>' in character data at ${i}`);
        }
        units++;
        i++;
      }
      if (units > max) break;
    }
    this.#countText(units, from);
    this.#segments.push(this.#open.at(-1) ?? 0, from, i, 0);
    return i;
  }

  /**
   * XML 1.0 section 4.1: only the five predefined entities (section 4.6) and character references
   * to a Char. Any other name is an undeclared entity, since no DOCTYPE can declare one.
   */
  #reference(i: number): number {
    const s = this.#s;
    if (s.charCodeAt(i + 1) !== 0x23) {
      for (const name of ['lt;', 'gt;', 'amp;', 'quot;', 'apos;']) {
        if (s.startsWith(name, i + 1)) {
          this.#refUnits = 1;
          return i + 1 + name.length;
        }
      }
      throw malformed(`unknown entity reference at ${i}`);
    }
    const hex = s.charCodeAt(i + 2) === 0x78;
    let j = hex ? i + 3 : i + 2;
    const first = j;
    let cp = 0;
    for (;; j++) {
      const c = s.charCodeAt(j);
      const digit = c >= 0x30 && c <= 0x39 ? c - 0x30
        : hex && c >= 0x61 && c <= 0x66 ? c - 0x57
        : hex && c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (digit < 0) break;
      cp = cp * (hex ? 16 : 10) + digit;
      if (cp > 0x10ffff) throw malformed(`character reference out of range at ${i}`);
    }
    if (j === first || s.charCodeAt(j) !== SEMICOLON) throw malformed(`malformed character reference at ${i}`);
    if (!isCodePoint(cp)) throw malformed(`reference to a character not allowed in XML at ${i}`);
    this.#refUnits = cp > 0xffff ? 2 : 1;
    return j + 1;
  }

  /** A QName (Namespaces in XML 1.0 section 4): NCName, optionally prefixed by 'NCName:'. */
  #qname(from: number): number {
    const s = this.#s;
    const last = from + this.#limits.maxNameLength;
    let i = from;
    let colon = -1;
    let start = true;
    for (;;) {
      let c = s.charCodeAt(i);
      let width = 1;
      if (c >= 0xd800 && c <= 0xdbff) {
        c = s.codePointAt(i) ?? 0;
        width = 2;
      }
      const ok = width === 2 ? c >= 0x10000 && c <= 0xeffff : start ? isNameStart(c) : isNameChar(c);
      if (!ok) {
        if (c === COLON && !start && colon === -1) {
          colon = i;
          start = true;
          i++;
          continue;
        }
        if (start) throw malformed(i >= s.length ? 'unexpected end of input' : `invalid name at ${i}`);
        return i;
      }
      start = false;
      i += width;
      if (i > last) throw overLimit(`name longer than maxNameLength at ${from}`);
    }
  }

  #skipSpace(from: number): number {
    let i = from;
    while (isSpace(this.#s.charCodeAt(i))) i++;
    return i;
  }

  /** XML 1.0 sections 3.1 STag, EmptyElemTag and 3.3.1 (unique attribute names). */
  #startTag(at: number): number {
    const s = this.#s;
    const limits = this.#limits;
    const nameEnd = this.#qname(at + 1);
    if (this.#names.length >= limits.maxElements) throw overLimit(`more than maxElements elements at ${at}`);
    if (this.#open.length >= limits.maxDepth) throw overLimit(`deeper than maxDepth at ${at}`);
    const name = s.slice(at + 1, nameEnd);
    const index = this.#names.push(name) - 1;
    const seen = this.#seen;
    seen.clear();
    let i = nameEnd;
    for (;;) {
      const afterName = i;
      i = this.#skipSpace(i);
      const c = s.charCodeAt(i);
      if (c === GT || (c === SLASH && s.charCodeAt(i + 1) === GT)) {
        this.#attributeCounts[index] = seen.size;
        const end = c === SLASH ? i + 2 : i + 1;
        this.#tags.push(at, end);
        if (c === SLASH) return end;
        this.#open.push(index);
        this.#openTotals.push(this.#total);
        this.#total = 0;
        return end;
      }
      if (i >= s.length) throw malformed(`unclosed start tag at ${at}`);
      if (i === afterName) throw malformed(`attributes must be separated by whitespace at ${i}`);
      if (seen.size >= limits.maxAttributesPerElement) throw overLimit(`more than maxAttributesPerElement at ${at}`);
      if (++this.#attributes > limits.maxElements) throw overLimit(`more than maxElements attributes in the document at ${i}`);
      const attributeEnd = this.#qname(i);
      const attribute = s.slice(i, attributeEnd);
      if (seen.has(attribute)) throw malformed(`duplicate attribute at ${i}`);
      seen.add(attribute);
      i = this.#skipSpace(attributeEnd);
      if (s.charCodeAt(i) !== 0x3d) throw malformed(`attribute without '=' at ${i}`);
      i = this.#attributeValue(this.#skipSpace(i + 1));
    }
  }

  /** XML 1.0 section 3.1 AttValue: no '<', references checked as in text. */
  #attributeValue(from: number): number {
    const s = this.#s;
    const quote = s.charCodeAt(from);
    if (quote !== 0x22 && quote !== 0x27) throw malformed(`attribute value without quotes at ${from}`);
    const max = this.#limits.maxTextLength;
    let units = 0;
    let i = from + 1;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === quote) return i + 1;
      if (i >= s.length) throw malformed(`unclosed attribute value at ${from}`);
      if (c === LT) throw malformed(`'<' in an attribute value at ${i}`);
      if (c === AMP) {
        i = this.#reference(i);
        units += this.#refUnits;
      } else {
        if (!isCharUnit(c)) throw malformed(`character not allowed in XML at ${i}`);
        units++;
        i++;
      }
      if (units > max) throw overLimit(`attribute value longer than maxTextLength at ${from}`);
    }
  }

  /** XML 1.0 section 3.1 ETag, which must match its start tag (WFC: Element Type Match). */
  #endTag(at: number): number {
    const s = this.#s;
    const nameEnd = this.#qname(at + 2);
    const i = this.#skipSpace(nameEnd);
    if (s.charCodeAt(i) !== GT) throw malformed(`malformed end tag at ${at}`);
    if (s.slice(at + 2, nameEnd) !== this.#names[this.#open.pop() ?? -1]) throw malformed(`end tag does not match its start tag at ${at}`);
    this.#total = this.#openTotals.pop() ?? 0;
    this.#tags.push(at, i + 1);
    return i + 1;
  }
}

// ---- 3. build -------------------------------------------------------------------------------

// Element keys get a mark that no XML name can start with, so that no element can collide with
// fast-xml-parser's own keys ('#text', '#cdata', ':@') or trip its refusal of '__proto__',
// 'constructor' and 'prototype' (src/xmlparser/OrderedObjParser.js sanitizeName). The mark is
// added only once: fast-xml-parser transforms self-closing tag names twice.
const ELEMENT_MARK = '<';
const ATTRIBUTE_MARK = '@';
const TEXT_KEY = '#text';
const CDATA_KEY = '#cdata';
const ATTRIBUTES_KEY = ':@';

const FXP_OPTIONS: X2jOptions = {
  // Arrays in document order: repeated names stay apart and nothing is merged by name.
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: ATTRIBUTE_MARK,
  attributesGroupName: false,
  // Character data never reaches the parser (tagsOnly). The text options below are still set so
  // that any text it did see would stay raw and apart, and toElement would refuse it.
  textNodeName: TEXT_KEY,
  cdataPropName: CDATA_KEY,
  commentPropName: false,
  // Prefixes are kept; toElement resolves them with their scopes (the library does not).
  removeNSPrefix: false,
  // The defaults coerce "007" to 7 and "true" to true and trim text; field values are opaque.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  numberParseOptions: { hex: false, leadingZeros: false, eNotation: false, infinity: 'original' },
  // Returning undefined keeps the raw string whatever the other options say.
  tagValueProcessor: () => undefined,
  attributeValueProcessor: () => undefined,
  // The default expands entities (DOCTYPE ones included); toElement decodes references once.
  processEntities: false,
  htmlEntities: false,
  allowBooleanAttributes: false,
  // No element is read as raw text or as an HTML void element.
  stopNodes: [],
  unpairedTags: [],
  alwaysCreateTextNode: false,
  isArray: () => false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  transformTagName: (name) => (name.startsWith(ELEMENT_MARK) ? name : ELEMENT_MARK + name),
  transformAttributeName: false,
  captureMetaData: false,
  maxNestedTags: MAX_SUPPORTED_DEPTH,
  strictReservedNames: true,
  // Callbacks get a matcher instead of a path string built for every element.
  jPath: false,
  onDangerousProperty: (name) => {
    throw new Error(`unexpected property name ${name}`);
  },
};

const FXP = new XMLParser(FXP_OPTIONS);

// Namespaces in XML 1.0 section 3: the xml prefix is bound from the start.
const ROOT_SCOPE: ReadonlyMap<string, string> = new Map([['xml', NS_XML]]);

/** The document reduced to its tags, which is all fast-xml-parser has to read. */
function tagsOnly(text: string, tags: readonly number[]): string {
  const parts: string[] = [];
  for (let k = 0; k < tags.length; k += 2) parts.push(text.slice(tags[k], tags[k + 1]));
  return parts.join('');
}

/**
 * Each element's character data: CDATA literally, text with references decoded. Line ends are
 * normalised first (XML 1.0 section 2.11), so a literal CR is read as LF and only &#13; is a CR.
 */
function characterData(text: string, shape: Shape): string[] {
  const data = new Array<string>(shape.names.length).fill('');
  const { segments } = shape;
  for (let k = 0; k < segments.length; k += 4) {
    const element = segments[k] ?? 0;
    const raw = text.slice(segments[k + 1], segments[k + 2]);
    const lines = raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw;
    data[element] += segments[k + 3] === 1 ? lines : decodeReferences(lines);
  }
  return data;
}

const PREDEFINED: ReadonlyMap<string, number> = new Map([['lt', 0x3c], ['gt', 0x3e], ['amp', 0x26], ['quot', 0x22], ['apos', 0x27]]);
/** Code units per String.fromCharCode call, well below engines' argument limits. */
const DECODE_CHUNK = 8_192;

/**
 * Decodes the references in `raw`, in one pass, so a decoded '&' is never read again. Only for
 * text the pre-scan accepted: every '&' starts one of the five predefined entities or a
 * character reference to an XML character. Writes UTF-16 code units instead of concatenating
 * strings, which costs a few milliseconds for a million references.
 */
function decodeReferences(raw: string): string {
  if (!raw.includes('&')) return raw;
  const out = new Uint16Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== AMP) {
      out[n++] = c;
      continue;
    }
    const end = raw.indexOf(';', i);
    let cp: number;
    if (raw.charCodeAt(i + 1) === 0x23) {
      const hex = raw.charCodeAt(i + 2) === 0x78;
      cp = parseInt(raw.slice(hex ? i + 3 : i + 2, end), hex ? 16 : 10);
    } else {
      cp = PREDEFINED.get(raw.slice(i + 1, end)) ?? 0xfffd;
    }
    if (cp > 0xffff) {
      out[n++] = 0xd800 + ((cp - 0x10000) >> 10);
      out[n++] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
    } else {
      out[n++] = cp;
    }
    i = end;
  }
  let decoded = '';
  for (let k = 0; k < n; k += DECODE_CHUNK) decoded += String.fromCharCode(...out.subarray(k, Math.min(n, k + DECODE_CHUNK)));
  return decoded;
}

// XML 1.0 section 3.3.3: literal whitespace in an attribute value becomes a space, a CRLF pair
// one space (section 2.11); references are decoded afterwards, so &#9; stays a tab.
function attributeValue(raw: string): string {
  return decodeReferences(raw.replace(/\r\n?|[\t\n]/g, ' '));
}

type FxpItem = Readonly<Record<string, unknown>>;

function differential(detail: string): GatewayError {
  return new GatewayError('GW_ERR_INTERNAL', `fast-xml-parser disagreed with the pre-scan: ${detail}`);
}

function itemsOf(value: unknown): readonly FxpItem[] {
  if (!Array.isArray(value)) throw differential('expected an array');
  return value as FxpItem[];
}

function stringOf(value: unknown): string {
  if (typeof value !== 'string') throw differential('expected a string');
  return value;
}

/** The item's element key; any other key but the attributes is a text node and unexpected. */
function elementKey(item: FxpItem): string | undefined {
  let found: string | undefined;
  for (const key of Object.keys(item)) {
    if (key.startsWith(ELEMENT_MARK) && found === undefined) found = key;
    else if (key !== ATTRIBUTES_KEY) return undefined;
  }
  return found;
}

function splitQName(qname: string): readonly [prefix: string, local: string] {
  const colon = qname.indexOf(':');
  return colon === -1 ? ['', qname] : [qname.slice(0, colon), qname.slice(colon + 1)];
}

/** Converts fast-xml-parser's ordered tree, checking it against the pre-scan as it goes. */
function toElement(ordered: unknown, shape: Shape, data: readonly string[]): XmlElement {
  const [root, extra] = itemsOf(ordered);
  if (root === undefined || extra !== undefined) throw differential('not one root element');
  const cursor: Cursor = { shape, data, next: 0 };
  const element = convert(root, ROOT_SCOPE, cursor);
  if (cursor.next !== shape.names.length) throw differential('element count');
  return element;
}

interface Cursor {
  readonly shape: Shape;
  readonly data: readonly string[];
  /** Index of the next element in document order. */
  next: number;
}

/** Namespaces in XML 1.0 section 3, including its reserved prefixes and namespace names. */
function declare(scope: Map<string, string>, prefix: string, uri: string): void {
  if (prefix === 'xmlns' || uri === NS_XMLNS || (uri === NS_XML) !== (prefix === 'xml')) {
    throw malformed('reserved namespace prefix or name');
  }
  if (prefix === '') {
    if (uri === '') scope.delete('');
    else scope.set('', uri);
  } else if (uri === '') {
    throw malformed('a namespace prefix cannot be undeclared in XML 1.0');
  } else {
    scope.set(prefix, uri);
  }
}

function resolve(scope: ReadonlyMap<string, string>, prefix: string): string {
  const uri = scope.get(prefix);
  if (uri === undefined) throw malformed('undeclared namespace prefix');
  return uri;
}

function convert(item: FxpItem, parentScope: ReadonlyMap<string, string>, cursor: Cursor): XmlElement {
  const key = elementKey(item);
  if (key === undefined) throw differential('expected an element');
  const index = cursor.next++;
  const qname = key.slice(ELEMENT_MARK.length);
  const { shape } = cursor;
  if (shape.names[index] !== qname) throw differential('element name');

  const rawAttributes = (item[ATTRIBUTES_KEY] ?? {}) as Readonly<Record<string, unknown>>;
  const names = Object.keys(rawAttributes);
  if (names.length !== shape.attributeCounts[index]) throw differential('attribute count');
  let declared: Map<string, string> | undefined;
  const plain: [string, string][] = [];
  for (const name of names) {
    const qAttr = name.slice(ATTRIBUTE_MARK.length);
    const value = attributeValue(stringOf(rawAttributes[name]));
    if (qAttr === 'xmlns' || qAttr.startsWith('xmlns:')) {
      declared ??= new Map(parentScope);
      declare(declared, qAttr === 'xmlns' ? '' : qAttr.slice('xmlns:'.length), value);
    } else {
      plain.push([qAttr, value]);
    }
  }
  // Elements without declarations share their parent's map, which is never changed once built.
  const scope: ReadonlyMap<string, string> = declared ?? parentScope;

  const [prefix, local] = splitQName(qname);
  const ns = prefix === '' ? (scope.get('') ?? '') : resolve(scope, prefix);
  const attributes: XmlAttribute[] = plain.map(([qAttr, value]) => {
    const [aPrefix, aLocal] = splitQName(qAttr);
    // Unprefixed attributes are in no namespace (Namespaces in XML 1.0 section 6.2).
    return { ns: aPrefix === '' ? '' : resolve(scope, aPrefix), local: aLocal, prefix: aPrefix, value };
  });
  if (attributes.length > 1) {
    // Section 6.3: no two attributes with the same expanded name. U+0000 is not an XML character.
    const expanded = new Set(attributes.map((a) => `${a.ns}\u0000${a.local}`));
    if (expanded.size !== attributes.length) throw malformed('duplicate attribute after namespace resolution');
  }

  // Only elements: character data never reaches fast-xml-parser (see tagsOnly).
  const children = itemsOf(item[key]).map((child) => convert(child, scope, cursor));
  return { ns, local, prefix, attributes, children, text: cursor.data[index] ?? '', namespaces: scope };
}
