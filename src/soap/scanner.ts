/**
 * The XML scanner behind parseXml: one forward pass over the body's bytes that checks XML 1.0
 * well-formedness and Namespaces in XML 1.0 under structural limits, and builds the XmlElement
 * tree as it goes. It reads the subset a SOAP call can use: elements, attributes, character data,
 * references, CDATA sections and comments. DOCTYPE (so every entity but the five predefined ones)
 * and processing instructions are refused, as is every encoding but UTF-8.
 *
 * It works on bytes because decoding is the expensive part: V8 turns non-ASCII UTF-8 into a
 * string at about 4 ns a byte (0.6 ms for the 75 KB contact-100.xml, bench/xml-scanner.mjs).
 * The body is validated as UTF-8 by buffer.isUtf8 (native), then read as Latin-1, one character
 * per byte and no decoding: all markup is ASCII, so offsets, indexOf and slices are exact, and
 * only names and character data that hold non-ASCII bytes are decoded, each on its own.
 *
 * Each construct has a fast path for the common case and an exact path that applies the rules one
 * character at a time, in the order of the parser this one replaced (parser-fxp.ts), so that a
 * document gets the same error code from both. Namespace errors are reported after every other
 * error, as that parser did when it resolved names after its pre-scan. The fuzz tests hold the
 * two to the same trees and the same codes.
 */
import * as nodeBuffer from 'node:buffer';
import { GatewayError } from '../errors.js';
import { NamespaceScopes, NO_ATTRIBUTES, ROOT_SCOPE } from './namespaces.js';
import type { XmlAttribute, XmlElement, XmlLimits } from './types.js';
import * as chars from './xml-chars.js';

// Module-local copies, as in canonical.ts: V8 reads an imported binding through its cell at every
// use in optimised code (15% of a 100-notification parse), and folds a module's own constants.
const {
  AMP, APOS, BANG, CLASS, COLON, CR, C_AMP, C_BAD, C_CR, C_EF, C_HIGH, C_LT, C_RBRACKET, C_TAB_LF,
  EQUALS, GT, HASH, HYPHEN, LF, LOWER_X, LT, NAME, NAME_CHAR, NAME_START, QUESTION, QUOT, RBRACKET,
  SEMICOLON, SLASH, SPACE, TAB, clearScratch, codePointAt, fromCodeUnits, isCodePoint, isNameChar,
  isNameStart, isSpace, scratch, sequenceLength, utf16Units, writeCodePoint,
} = chars;

// ---- errors ---------------------------------------------------------------------------------

function malformed(detail: string): GatewayError {
  return new GatewayError('GW_ERR_XML_MALFORMED', detail);
}

function overLimit(detail: string): GatewayError {
  return new GatewayError('GW_ERR_XML_LIMIT', detail);
}

function encoding(detail: string): GatewayError {
  return new GatewayError('GW_ERR_XML_ENCODING', detail);
}

/** Strings shorter than this with at most SHORT_DECODE_CHARACTERS non-ASCII characters are decoded in JavaScript. */
const SHORT_DECODE_BYTES = 64;
const SHORT_DECODE_CHARACTERS = 3;
/** Strings of at least this many bytes are decoded by transcode (simdutf), shorter ones by V8. */
const TRANSCODE_MIN_BYTES = 256;
// node:buffer has transcode only when Node is built with ICU, as its official builds are.
const transcode = (nodeBuffer as { transcode?: typeof nodeBuffer.transcode }).transcode;

const LINE_ENDS = /\r\n?/g;
const ATTRIBUTE_WHITESPACE = /\r\n?|[\t\n]/g;
const NON_CHARACTER = /[\uFFFE\uFFFF]/;

/** Direct-mapped cache of ASCII QNames, shared by all documents (Scanner#splitName). */
const INTERN_SLOTS = 4096;
const INTERN_MAX = 64;
interface CachedQName {
  readonly qname: string;
  readonly prefix: string;
  readonly local: string;
  /**
   * The namespace name of an element so named in `scope` (scopes are never changed once built),
   * within the document being read only.
   */
  scope: ReadonlyMap<string, string> | undefined;
  ns: string;
}
const qnames: (CachedQName | undefined)[] = new Array<CachedQName | undefined>(INTERN_SLOTS).fill(undefined);
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
/** What #qname knows of the name it read: hashed for the cache, ASCII but not hashed, or not ASCII. */
const HASHED = 0;
const ASCII = 1;
const NOT_ASCII = 2;

// ---- the document ---------------------------------------------------------------------------

const NO_CHILDREN: readonly XmlElement[] = Object.freeze([]);
/**
 * The most bytes of UTF-8 that can hold `units` UTF-16 code units or fewer: 3 per code unit (a
 * 4-byte sequence is 2 units), and one more character's bytes for safety at the edge.
 */
function LONGEST_WITHIN(units: number): number {
  return 3 * units + 4;
}

/** Pieces of an element's character data concatenated as they come; more are joined at the end tag. */
const CONCATENATED_MAX = 16;
/** Attribute names of a start tag compared pairwise up to this count, in a Set beyond. */
const PAIRWISE_MAX = 8;

// XML 1.0 section 2.8 XMLDecl, version 1.0 only. Matched on a bounded prefix so that the
// optional parts cannot backtrack over an unbounded run of whitespace.
const XML_DECL =
  /^<\?xml[\t\n\r ]+version[\t\n\r ]*=[\t\n\r ]*(["'])1\.0\1(?:[\t\n\r ]+encoding[\t\n\r ]*=[\t\n\r ]*(["'])([A-Za-z][\w.-]*)\2)?(?:[\t\n\r ]+standalone[\t\n\r ]*=[\t\n\r ]*(["'])(?:yes|no)\4)?[\t\n\r ]*\?>/;
const XML_DECL_ENCODING = /encoding[\t\n\r ]*=[\t\n\r ]*["']([^"']*)["']/;
/** Characters of the document's start searched for the declaration. */
const XML_DECL_MAX = 256;
/** Bytes that hold XML_DECL_MAX + 1 whole characters of UTF-8, whatever they are. */
const XML_DECL_MAX_BYTES = 4 * (XML_DECL_MAX + 1);

/** An element whose end tag has not been read yet; one per depth, reused. */
interface Frame {
  /** Byte offsets of its QName, for matching the end tag. */
  qStart: number;
  qEnd: number;
  prefix: string;
  local: string;
  ns: string;
  attributes: readonly XmlAttribute[];
  namespaces: ReadonlyMap<string, string>;
  children: XmlElement[] | null;
  /** The first pieces of character data, concatenated (see #appendText). */
  text: string;
  concatenated: number;
  /** The pieces after those, in parts[0, pieces). */
  readonly parts: string[];
  pieces: number;
  /** Character data so far, in UTF-16 code units, references decoded, line ends not yet normalised. */
  total: number;
}

/**
 * Checks the encoding (XML 1.0 section 4.3.3 and Appendix F) and returns the offset after an
 * optional UTF-8 byte order mark.
 */
function checkEncoding(body: Buffer): number {
  if ((body[0] === 0xfe && body[1] === 0xff) || (body[0] === 0xff && body[1] === 0xfe)) {
    throw encoding('UTF-16 or UTF-32 byte order mark');
  }
  // UTF-16 and UTF-32 write '<' as 2 or 4 bytes, so they hold NUL bytes even without a BOM;
  // U+0000 is not an XML character in any encoding.
  if (body.indexOf(0) !== -1) throw encoding('NUL byte: UTF-16, UTF-32 or binary data');
  // simdutf: refuses overlong forms, encoded surrogates, code points past U+10FFFF and truncation.
  if (!nodeBuffer.isUtf8(body)) throw encoding('invalid UTF-8');
  return body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
}

/**
 * Parses `body` into a namespace-resolved element tree, or throws a GatewayError:
 * GW_ERR_XML_ENCODING, GW_ERR_XML_DOCTYPE, GW_ERR_XML_PI, GW_ERR_XML_LIMIT or GW_ERR_XML_MALFORMED.
 * The limits must be positive integers (parseXml checks them).
 *
 * @example scanXml(Buffer.from('<a xmlns="urn:x">1</a>'), DEFAULT_XML_LIMITS).ns // 'urn:x'
 */
export function scanXml(body: Buffer, limits: XmlLimits): XmlElement {
  const start = checkEncoding(body);
  return new Scanner(body, limits).run(start);
}

/**
 * The single pass. Every loop advances the index; each start tag costs at most
 * maxAttributesPerElement attribute checks, pairwise only up to PAIRWISE_MAX; each exact path
 * reads only a run the fast path has already bounded. So the cost is linear in the input.
 */
class Scanner {
  readonly #buffer: Buffer;
  readonly #b: Uint8Array;
  /** The body as Latin-1: character i is byte i. */
  readonly #s: string;
  readonly #n: number;
  readonly #limits: XmlLimits;
  readonly #frames: Frame[] = [];
  #depth = 0;
  #elements = 0;
  #attributes = 0;
  #root: XmlElement | undefined;
  readonly #namespaces = new NamespaceScopes();

  // Results of the helpers below, to spare an allocation per call.
  #colon = -1;
  /** FNV-1a hash of the last name read, when #nameKind is HASHED. */
  #nameHash = 0;
  #nameKind = HASHED;
  #prefix = '';
  #local = '';
  #cached: CachedQName | undefined;
  /** Cache entries given a scope of this document, cleared when it is done (#release). */
  readonly #scopesCached: CachedQName[] = [];
  #value = '';
  #codePoint = 0;
  #units = 0;
  #valuePieces = 0;
  readonly #parts: string[] = [];
  /** See #cdataEndFrom. */
  #cdataEnd = -1;

  // Attributes of the start tag being read.
  readonly #attributePrefixes: string[] = [];
  readonly #attributeLocals: string[] = [];
  readonly #attributeValues: string[] = [];


  constructor(body: Buffer, limits: XmlLimits) {
    this.#buffer = body;
    this.#b = new Uint8Array(body.buffer, body.byteOffset, body.length);
    this.#s = body.toString('latin1');
    this.#n = body.length;
    this.#limits = limits;
  }

  run(start: number): XmlElement {
    try {
      return this.#run(start);
    } finally {
      this.#release();
    }
  }

  /**
   * Drops what the module-level caches hold of this document: a cached namespace scope holds
   * strings sliced from the body, which would keep the whole body alive; the scratch buffer holds
   * decoded character data.
   */
  #release(): void {
    for (const cached of this.#scopesCached) {
      cached.scope = undefined;
      cached.ns = '';
    }
    clearScratch();
  }

  #run(start: number): XmlElement {
    const b = this.#b;
    const n = this.#n;
    let i = this.#misc(this.#declarationEnd(start));
    if (b[i] !== LT) throw malformed(i >= n ? 'no root element' : `text before the root element at ${i}`);
    i = this.#startTag(i);
    while (this.#depth > 0) {
      if (i >= n) throw malformed('unclosed element at end of input');
      i = b[i] === LT ? this.#markup(i) : this.#text(i);
    }
    i = this.#misc(i);
    if (i < n) throw malformed(b[i] === LT ? `second root element at ${i}` : `text after the root element at ${i}`);
    // Namespace errors come last, as in the parser this one replaced (it resolved names after its pre-scan).
    const namespaceError = this.#namespaces.error;
    if (namespaceError !== undefined) throw malformed(namespaceError);
    if (this.#root === undefined) throw new GatewayError('GW_ERR_INTERNAL', 'scanner finished without a root element');
    return this.#root;
  }

  /** Index after the optional XML declaration, which may only open the document. */
  #declarationEnd(start: number): number {
    if (!this.#s.startsWith('<?xml', start) || !isSpace(this.#b[start + 5])) return start;
    const head = this.#buffer.toString('utf8', start, Math.min(this.#n, start + XML_DECL_MAX_BYTES)).slice(0, XML_DECL_MAX);
    const match = XML_DECL.exec(head);
    const close = head.indexOf('?>');
    const declared = match ? match[3] : XML_DECL_ENCODING.exec(close === -1 ? head : head.slice(0, close))?.[1];
    if (declared !== undefined && declared.toLowerCase() !== 'utf-8') throw encoding('declared encoding is not UTF-8');
    if (!match) throw malformed('invalid XML declaration');
    // The declaration matched is ASCII: as many bytes as characters.
    return start + match[0].length;
  }

  /** XML 1.0 section 2.8 Misc*: whitespace and comments around the root element. */
  #misc(from: number): number {
    const b = this.#b;
    let i = from;
    for (;;) {
      while (isSpace(b[i])) i++;
      if (b[i] !== LT) return i;
      const c = b[i + 1];
      if (c === BANG && b[i + 2] === HYPHEN && b[i + 3] === HYPHEN) i = this.#comment(i);
      else if (c === QUESTION) throw new GatewayError('GW_ERR_XML_PI', `processing instruction at ${i}`);
      else if (this.#s.startsWith('<!DOCTYPE', i)) throw new GatewayError('GW_ERR_XML_DOCTYPE', `DOCTYPE at ${i}`);
      else return i;
    }
  }

  #markup(i: number): number {
    const b = this.#b;
    const c = b[i + 1];
    if (c === SLASH) return this.#endTag(i);
    if (c === QUESTION) throw new GatewayError('GW_ERR_XML_PI', `processing instruction at ${i}`);
    if (c !== BANG) return this.#startTag(i);
    if (b[i + 2] === HYPHEN && b[i + 3] === HYPHEN) return this.#comment(i);
    if (this.#s.startsWith('<![CDATA[', i)) return this.#cdata(i);
    if (this.#s.startsWith('<!DOCTYPE', i)) throw new GatewayError('GW_ERR_XML_DOCTYPE', `DOCTYPE at ${i}`);
    throw malformed(`unknown markup declaration at ${i}`);
  }

  /** OR of the byte classes in [from, to). */
  #classify(from: number, to: number): number {
    const b = this.#b;
    let f = 0;
    for (let i = from; i < to; i++) f |= CLASS[b[i]!]!;
    return f;
  }

  /** Decodes bytes [from, to), which hold at least one non-ASCII character. */
  #decode(from: number, to: number): string {
    if (to - from < SHORT_DECODE_BYTES) {
      // Names and short values with an accent or two: slices and single characters, no native call.
      const b = this.#b;
      let decoded = '';
      let ascii = from;
      let characters = 0;
      for (let i = from; i < to;) {
        const c = b[i]!;
        if (c < 0x80) {
          i++;
          continue;
        }
        if (++characters > SHORT_DECODE_CHARACTERS) return this.#buffer.toString('utf8', from, to);
        if (i > ascii) decoded += this.#s.slice(ascii, i);
        const cp = codePointAt(b, i);
        decoded += cp > 0xffff ? String.fromCodePoint(cp) : String.fromCharCode(cp);
        i += sequenceLength(c);
        ascii = i;
      }
      return ascii < to ? decoded + this.#s.slice(ascii, to) : decoded;
    }
    if (to - from >= TRANSCODE_MIN_BYTES && transcode !== undefined) {
      return transcode(this.#buffer.subarray(from, to), 'utf8', 'utf16le').toString('utf16le');
    }
    return this.#buffer.toString('utf8', from, to);
  }

  /** Throws unless every character in [from, to) is an XML Char; `f` is the run's byte classes. */
  #checkChars(from: number, to: number, f: number): void {
    if ((f & (C_BAD | C_EF)) === 0) return;
    const b = this.#b;
    for (let i = from; i < to; i++) {
      const c = b[i]!;
      if ((CLASS[c]! & C_BAD) !== 0 || (c === 0xef && b[i + 1] === 0xbf && (b[i + 2]! & 0xfe) === 0xbe)) {
        throw malformed(`character not allowed in XML at ${i}`);
      }
    }
  }

  /** XML 1.0 section 2.5: '--' may only appear as part of the closing '-->'. */
  #comment(i: number): number {
    const from = i + 4;
    const end = this.#s.indexOf('--', from);
    if (end === -1) throw malformed(`unclosed comment at ${i}`);
    if (this.#b[end + 2] !== GT) throw malformed(`'--' inside a comment at ${end}`);
    const max = this.#limits.maxTextLength;
    // A character takes at most 3 bytes per UTF-16 code unit.
    const bytes = end - from;
    if (bytes > max && (bytes > 3 * max || utf16Units(this.#b, from, end) > max)) {
      throw overLimit(`comment longer than maxTextLength at ${i}`);
    }
    this.#checkChars(from, end, this.#classify(from, end));
    return end + 3;
  }

  #frame(): Frame {
    return this.#frames[this.#depth - 1]!;
  }

  /**
   * Concatenates an element's first pieces of character data, then keeps the rest apart to be
   * joined once at its end tag: a chain of one concatenation per piece is copied by the GC while
   * the tree is built (a 50,000-element message took twice as long), a join costs more than a few
   * concatenations.
   */
  #appendText(frame: Frame, value: string): void {
    if (frame.text === '') frame.text = value;
    else if (frame.concatenated < CONCATENATED_MAX) {
      frame.text += value;
      frame.concatenated++;
    } else frame.parts[frame.pieces++] = value;
  }

  /** XML 1.0 section 2.7: content is literal up to the first ']]>'; line ends still normalised (2.11). */
  #cdata(i: number): number {
    const from = i + 9;
    const end = this.#cdataEndFrom(from);
    if (end === Infinity) throw malformed(`unclosed CDATA section at ${i}`);
    const frame = this.#frame();
    const room = this.#limits.maxTextLength - frame.total;
    // Literal content: more bytes than LONGEST_WITHIN(room) are more than `room` code units.
    if (end - from > LONGEST_WITHIN(room)) throw overLimit(`character data longer than maxTextLength at ${i}`);
    const f = this.#classify(from, end);
    let value: string;
    if ((f & C_HIGH) === 0) {
      if (end - from > room) throw overLimit(`character data longer than maxTextLength at ${i}`);
      value = this.#s.slice(from, end);
    } else {
      value = this.#decode(from, end);
      if (value.length > room) throw overLimit(`character data longer than maxTextLength at ${i}`);
    }
    this.#checkChars(from, end, f);
    frame.total += value.length;
    if ((f & C_CR) !== 0) value = value.replace(LINE_ENDS, '\n');
    if (value !== '') this.#appendText(frame, value);
    return end + 3;
  }

  /** Character data up to the next '<' (XML 1.0 section 2.4). */
  #text(from: number): number {
    const b = this.#b;
    const frame = this.#frame();
    const room = this.#limits.maxTextLength - frame.total;
    const n = this.#n;
    // Past this many bytes without a reference the run holds more than `room` code units: reading
    // on could not change the outcome, so the exact path finds the error where it is. (A
    // reference can take any number of bytes: &#0000065; is one code unit.)
    const end = Math.min(n, from + LONGEST_WITHIN(room));
    let i = from;
    let f = 0;
    while (i < end) {
      const c = b[i]!;
      if (c === LT) break;
      f |= CLASS[c]!;
      i++;
    }
    if (i === end && i < n && b[i] !== LT) {
      if ((f & C_AMP) === 0) {
        // Plain ASCII: nothing else to refuse, and a byte is a code unit.
        if ((f & (C_BAD | C_RBRACKET | C_HIGH)) === 0) throw overLimit(`character data longer than maxTextLength at ${from}`);
        this.#exactText(from, i, frame, room);
        throw new GatewayError('GW_ERR_INTERNAL', 'scanner read past maxTextLength');
      }
      // With references, only the exact path can tell: it stops at the limit, or reads a run of
      // long references (a hostile shape; a Salesforce value never needs this many bytes).
      const runEnd = this.#s.indexOf('<', i);
      const to = runEnd === -1 ? n : runEnd;
      this.#appendText(frame, this.#exactText(from, to, frame, room));
      return to;
    }
    // ']' is common in data; only ']]>' is refused.
    if ((f & C_RBRACKET) !== 0 && this.#cdataEndFrom(from) >= i) f &= ~C_RBRACKET;
    let value: string;
    if ((f & ~C_TAB_LF) === 0) {
      if (i - from > room) throw overLimit(`character data longer than maxTextLength at ${from}`);
      value = this.#s.slice(from, i);
      frame.total += i - from;
    } else {
      const pieces = (f & (C_BAD | C_RBRACKET)) === 0 ? this.#pieces(from, i, f, room, false) : undefined;
      if (pieces === undefined) {
        value = this.#exactText(from, i, frame, room);
      } else {
        value = pieces;
        frame.total += this.#units;
      }
    }
    this.#appendText(frame, value);
    return i;
  }

  /** The index of the first ']]>' at or after `from` (Infinity if none), remembered so that the document is searched once. */
  #cdataEndFrom(from: number): number {
    if (this.#cdataEnd < from) {
      const end = this.#s.indexOf(']]>', from);
      this.#cdataEnd = end === -1 ? Infinity : end;
    }
    return this.#cdataEnd;
  }

  /**
   * Character data or an attribute value that may hold references, non-ASCII characters and line
   * ends, and nothing to refuse but a reference, U+FFFE, U+FFFF or the length. The literal pieces
   * between references are sliced or decoded whole and normalised (XML 1.0 section 2.11, and 3.3.3
   * for attributes) before the references are decoded, so that &#13; stays a CR. Returns undefined
   * when a piece holds U+FFFE or U+FFFF, for the exact path to find which error comes first;
   * leaves the UTF-16 code units read in #units.
   */
  #pieces(from: number, to: number, f: number, room: number, attribute: boolean): string | undefined {
    const s = this.#s;
    // Consecutive references are collected as code units and become one piece.
    const out = scratch(Math.min(to - from, room + 2));
    let pending = 0;
    let units = 0;
    let at = from;
    this.#value = '';
    this.#valuePieces = 0;
    for (;;) {
      let amp = (f & C_AMP) === 0 ? -1 : this.#b[at] === AMP ? at : s.indexOf('&', at);
      if (amp === -1 || amp > to) amp = to;
      if (amp > at) {
        if (pending > 0) {
          this.#addPiece(fromCodeUnits(out, pending));
          pending = 0;
        }
        // A character takes at most 3 bytes per UTF-16 code unit.
        if (amp - at > 3 * (room - units) && (f & C_EF) === 0) throw tooLong(attribute, from);
        let piece = (f & C_HIGH) === 0 ? s.slice(at, amp) : this.#decode(at, amp);
        if ((f & C_EF) !== 0 && NON_CHARACTER.test(piece)) return undefined;
        units += piece.length;
        if (units > room) throw tooLong(attribute, from);
        if ((f & (C_CR | C_TAB_LF)) !== 0) piece = attribute ? piece.replace(ATTRIBUTE_WHITESPACE, ' ') : piece.replace(LINE_ENDS, '\n');
        this.#addPiece(piece);
      }
      if (amp === to) break;
      at = this.#reference(amp);
      const cp = this.#codePoint;
      units += cp > 0xffff ? 2 : 1;
      if (units > room) throw tooLong(attribute, from);
      pending = writeCodePoint(out, pending, cp);
    }
    if (pending > 0) this.#addPiece(fromCodeUnits(out, pending));
    this.#units = units;
    const value = this.#value;
    if (this.#valuePieces <= CONCATENATED_MAX) return value;
    const parts = this.#parts;
    parts.length = this.#valuePieces - CONCATENATED_MAX;
    return value + parts.join('');
  }

  /** As #appendText, for the pieces of one value. */
  #addPiece(piece: string): void {
    const count = this.#valuePieces++;
    if (count < CONCATENATED_MAX) this.#value += piece;
    else this.#parts[count - CONCATENATED_MAX] = piece;
  }

  /**
   * Character data one character at a time, in the order of the checks it replaced: a reference
   * (XML 1.0 section 4.1), a character that is not a Char, ']]>' (section 2.4), then the length.
   * Decoded into UTF-16 code units with line ends normalised (section 2.11) before references are
   * decoded, so a literal CR is read as LF and only &#13; is a CR.
   */
  #exactText(from: number, to: number, frame: Frame, room: number): string {
    const b = this.#b;
    const out = scratch(Math.min(to - from, room + 2));
    let length = 0;
    let units = 0;
    let afterCr = false;
    let i = from;
    while (i < to) {
      const c = b[i]!;
      if (c === AMP) {
        i = this.#reference(i);
        units += this.#codePoint > 0xffff ? 2 : 1;
        length = writeCodePoint(out, length, this.#codePoint);
        afterCr = false;
      } else if (c < 0x80) {
        if ((CLASS[c]! & C_BAD) !== 0) throw malformed(`character not allowed in XML at ${i}`);
        if (c === RBRACKET && b[i + 1] === RBRACKET && b[i + 2] === GT) throw malformed(`']]>' in character data at ${i}`);
        if (c === CR) out[length++] = LF;
        else if (c !== LF || !afterCr) out[length++] = c;
        afterCr = c === CR;
        units++;
        i++;
      } else {
        const cp = codePointAt(b, i);
        if (cp === 0xfffe || cp === 0xffff) throw malformed(`character not allowed in XML at ${i}`);
        units += cp > 0xffff ? 2 : 1;
        length = writeCodePoint(out, length, cp);
        afterCr = false;
        i += sequenceLength(c);
      }
      if (units > room) throw overLimit(`character data longer than maxTextLength at ${from}`);
    }
    frame.total += units;
    return fromCodeUnits(out, length);
  }

  /**
   * XML 1.0 section 4.1: only the five predefined entities (section 4.6) and character references
   * to a Char. Any other name is an undeclared entity, since no DOCTYPE can declare one.
   * Returns the index after the reference and leaves its code point in #codePoint.
   */
  #reference(i: number): number {
    const b = this.#b;
    const c1 = b[i + 1];
    if (c1 !== HASH) {
      const c2 = b[i + 2];
      const c3 = b[i + 3];
      if (c2 === 0x74 && c3 === SEMICOLON && (c1 === 0x6c || c1 === 0x67)) {
        this.#codePoint = c1 === 0x6c ? LT : GT; // &lt; &gt;
        return i + 4;
      }
      if (c1 === 0x61 && c2 === 0x6d && c3 === 0x70 && b[i + 4] === SEMICOLON) {
        this.#codePoint = AMP; // &amp;
        return i + 5;
      }
      if (b[i + 5] === SEMICOLON && ((c1 === 0x71 && c2 === 0x75 && c3 === 0x6f && b[i + 4] === 0x74)
        || (c1 === 0x61 && c2 === 0x70 && c3 === 0x6f && b[i + 4] === 0x73))) {
        this.#codePoint = c1 === 0x71 ? QUOT : APOS; // &quot; &apos;
        return i + 6;
      }
      throw malformed(`unknown entity reference at ${i}`);
    }
    const hex = b[i + 2] === LOWER_X;
    let j = hex ? i + 3 : i + 2;
    const first = j;
    let cp = 0;
    for (;; j++) {
      const c = b[j] ?? -1;
      const digit = c >= 0x30 && c <= 0x39 ? c - 0x30
        : hex && c >= 0x61 && c <= 0x66 ? c - 0x57
        : hex && c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (digit < 0) break;
      cp = cp * (hex ? 16 : 10) + digit;
      if (cp > 0x10ffff) throw malformed(`character reference out of range at ${i}`);
    }
    if (j === first || b[j] !== SEMICOLON) throw malformed(`malformed character reference at ${i}`);
    if (!isCodePoint(cp)) throw malformed(`reference to a character not allowed in XML at ${i}`);
    this.#codePoint = cp;
    return j + 1;
  }

  /**
   * A QName (Namespaces in XML 1.0 section 4): NCName, optionally prefixed by 'NCName:'. Returns
   * its end; leaves the colon's index (or -1) in #colon and whether it is ASCII in #asciiName.
   * maxNameLength counts UTF-16 code units, the colon included.
   */
  #qname(from: number): number {
    const b = this.#b;
    const n = this.#n;
    const max = this.#limits.maxNameLength;
    // Fast path: an ASCII name within the limit, ended by an ASCII character other than ':',
    // hashed on the way for #splitName.
    let i = from;
    let colon = -1;
    let c = b[i];
    if (c !== undefined && (NAME[c]! & NAME_START) !== 0) {
      let h = FNV_OFFSET;
      do {
        h = Math.imul(h ^ c, FNV_PRIME);
        c = b[++i];
      } while (c !== undefined && (NAME[c]! & NAME_CHAR) !== 0);
      if (c === COLON && (NAME[b[i + 1] ?? 0]! & NAME_START) !== 0) {
        colon = i;
        do {
          h = Math.imul(h ^ c, FNV_PRIME);
          c = b[++i];
        } while (c !== undefined && (NAME[c]! & NAME_CHAR) !== 0);
      }
      if (i - from <= max && (c === undefined || (c < 0x80 && c !== COLON))) {
        this.#colon = colon;
        this.#nameHash = h;
        this.#nameKind = HASHED;
        return i;
      }
    }
    return this.#exactQname(from);
  }

  #exactQname(from: number): number {
    const b = this.#b;
    const n = this.#n;
    const max = this.#limits.maxNameLength;
    let i = from;
    let units = 0;
    let colon = -1;
    let start = true;
    let ascii = true;
    for (;;) {
      const c = i < n ? b[i]! : -1;
      let ok: boolean;
      let width = 1;
      let u = 1;
      if (c < 0x80) {
        ok = c >= 0 && (NAME[c]! & (start ? NAME_START : NAME_CHAR)) !== 0;
      } else {
        const cp = codePointAt(b, i);
        width = sequenceLength(c);
        u = cp > 0xffff ? 2 : 1;
        ok = cp > 0xffff ? cp <= 0xeffff : start ? isNameStart(cp) : isNameChar(cp);
      }
      if (!ok) {
        if (c === COLON && !start && colon === -1) {
          colon = i;
          start = true;
          i++;
          units++;
          continue;
        }
        if (start) throw malformed(i >= n ? 'unexpected end of input' : `invalid name at ${i}`);
        this.#colon = colon;
        this.#nameKind = ascii ? ASCII : NOT_ASCII;
        return i;
      }
      if (width > 1) ascii = false;
      start = false;
      i += width;
      units += u;
      if (units > max) throw overLimit(`name longer than maxNameLength at ${from}`);
    }
  }

  /**
   * Sets #prefix and #local from the QName [from, to) just read by #qname. ASCII names come from a
   * direct-mapped cache shared by all documents: a tree holds a few dozen distinct names thousands
   * of times, and every string in it is copied by each young-generation GC while it is built (half
   * the time of a 50,000-element message before this cache). A lookup costs one comparison of the
   * bytes whatever they are, and a miss only replaces the slot.
   */
  #splitName(from: number, to: number): void {
    const colon = this.#colon;
    const kind = this.#nameKind;
    this.#cached = undefined;
    if (kind === NOT_ASCII) {
      this.#prefix = colon === -1 ? '' : this.#buffer.toString('utf8', from, colon);
      this.#local = this.#buffer.toString('utf8', colon === -1 ? from : colon + 1, to);
      return;
    }
    if (kind === ASCII || to - from > INTERN_MAX) {
      this.#prefix = colon === -1 ? '' : this.#s.slice(from, colon);
      this.#local = this.#s.slice(colon === -1 ? from : colon + 1, to);
      return;
    }
    const h = this.#nameHash;
    const slot = (h ^ (h >>> 16)) & (INTERN_SLOTS - 1);
    let cached = qnames[slot];
    if (cached === undefined || !sameBytes(cached.qname, this.#b, from, to)) {
      // Copies, not slices: a slice would keep this whole document alive in the cache.
      const qname = this.#buffer.toString('latin1', from, to);
      cached = colon === -1
        ? { qname, prefix: '', local: qname, scope: undefined, ns: '' }
        : { qname, prefix: qname.slice(0, colon - from), local: this.#buffer.toString('latin1', colon + 1, to), scope: undefined, ns: '' };
      qnames[slot] = cached;
    }
    this.#cached = cached;
    this.#prefix = cached.prefix;
    this.#local = cached.local;
  }

  /** XML 1.0 sections 3.1 STag, EmptyElemTag and 3.3.1 (unique attribute names). */
  #startTag(at: number): number {
    const b = this.#b;
    const limits = this.#limits;
    const nameEnd = this.#qname(at + 1);
    this.#splitName(at + 1, nameEnd);
    const prefix = this.#prefix;
    const local = this.#local;
    const cached = this.#cached;
    if (this.#elements >= limits.maxElements) throw overLimit(`more than maxElements elements at ${at}`);
    this.#elements++;
    if (this.#depth >= limits.maxDepth) throw overLimit(`deeper than maxDepth at ${at}`);

    const prefixes = this.#attributePrefixes;
    const locals = this.#attributeLocals;
    const values = this.#attributeValues;
    let count = 0;
    let seen: Set<string> | undefined;
    let i = nameEnd;
    let c: number | undefined;
    for (;;) {
      const afterName = i;
      while (isSpace(b[i])) i++;
      c = b[i];
      if (c === GT || (c === SLASH && b[i + 1] === GT)) break;
      if (i >= this.#n) throw malformed(`unclosed start tag at ${at}`);
      if (i === afterName) throw malformed(`attributes must be separated by whitespace at ${i}`);
      if (count >= limits.maxAttributesPerElement) throw overLimit(`more than maxAttributesPerElement at ${at}`);
      if (++this.#attributes > limits.maxElements) throw overLimit(`more than maxElements attributes in the document at ${i}`);
      const attributeEnd = this.#qname(i);
      this.#splitName(i, attributeEnd);
      const attributePrefix = this.#prefix;
      const attributeLocal = this.#local;
      if (count < PAIRWISE_MAX) {
        if (indexOfName(prefixes, locals, count, attributePrefix, attributeLocal) !== -1) throw malformed(`duplicate attribute at ${i}`);
      } else {
        // Neither part of a QName holds ':', so prefix:local keys are distinct.
        if (seen === undefined) {
          seen = new Set();
          for (let k = 0; k < count; k++) seen.add(`${prefixes[k]!}:${locals[k]!}`);
        }
        const key = `${attributePrefix}:${attributeLocal}`;
        if (seen.has(key)) throw malformed(`duplicate attribute at ${i}`);
        seen.add(key);
      }
      prefixes[count] = attributePrefix;
      locals[count] = attributeLocal;
      i = attributeEnd;
      while (isSpace(b[i])) i++;
      if (b[i] !== EQUALS) throw malformed(`attribute without '=' at ${i}`);
      i++;
      while (isSpace(b[i])) i++;
      i = this.#attributeValue(i);
      values[count] = this.#value;
      count++;
    }
    const end = c === SLASH ? i + 2 : i + 1;

    const parentScope = this.#depth === 0 ? ROOT_SCOPE : this.#frame().namespaces;
    const namespaces = this.#namespaces;
    const scope = count === 0 ? parentScope : namespaces.scope(parentScope, prefixes, locals, values, count);
    let ns: string;
    if (cached !== undefined && cached.scope === scope) {
      ns = cached.ns;
    } else {
      ns = prefix === '' ? (scope.get('') ?? '') : namespaces.resolve(scope, prefix);
      if (cached !== undefined && (prefix === '' || scope.has(prefix))) {
        if (cached.scope === undefined) this.#scopesCached.push(cached);
        cached.scope = scope;
        cached.ns = ns;
      }
    }
    const attributes = count === 0 ? NO_ATTRIBUTES : namespaces.attributes(scope, prefixes, locals, values, count);

    if (c === SLASH) {
      this.#attach({ ns, local, prefix, attributes, children: NO_CHILDREN, text: '', namespaces: scope });
      return end;
    }
    let frame = this.#frames[this.#depth];
    if (frame === undefined) {
      frame = { qStart: 0, qEnd: 0, prefix: '', local: '', ns: '', attributes: NO_ATTRIBUTES, namespaces: ROOT_SCOPE, children: null, text: '', concatenated: 0, parts: [], pieces: 0, total: 0 };
      this.#frames.push(frame);
    }
    frame.qStart = at + 1;
    frame.qEnd = nameEnd;
    frame.prefix = prefix;
    frame.local = local;
    frame.ns = ns;
    frame.attributes = attributes;
    frame.namespaces = scope;
    frame.children = null;
    frame.text = '';
    frame.concatenated = 0;
    frame.pieces = 0;
    frame.total = 0;
    this.#depth++;
    return end;
  }

  /** XML 1.0 section 3.1 AttValue: no '<', references as in text. Leaves the value in #value. */
  #attributeValue(from: number): number {
    const b = this.#b;
    const n = this.#n;
    const quote = b[from];
    if (quote !== QUOT && quote !== APOS) throw malformed(`attribute value without quotes at ${from}`);
    const max = this.#limits.maxTextLength;
    // As in #text: past this many bytes without a reference the value is too long, and the exact
    // path finds the error where it is.
    const end = Math.min(n, from + 1 + LONGEST_WITHIN(max));
    let i = from + 1;
    let f = 0;
    while (i < end) {
      const c = b[i]!;
      if (c === quote) break;
      f |= CLASS[c]!;
      i++;
    }
    if (i === end && i < n && b[i] !== quote && (f & (C_AMP | C_BAD | C_LT | C_HIGH)) === 0) {
      throw overLimit(`attribute value longer than maxTextLength at ${from}`);
    }
    if (i >= n || b[i] !== quote || (f & (C_BAD | C_LT)) !== 0) return this.#exactAttributeValue(from, quote);
    if (f === 0) {
      if (i - from - 1 > max) throw overLimit(`attribute value longer than maxTextLength at ${from}`);
      this.#value = this.#s.slice(from + 1, i);
      return i + 1;
    }
    const value = this.#pieces(from + 1, i, f, max, true);
    if (value === undefined) return this.#exactAttributeValue(from, quote);
    this.#value = value;
    return i + 1;
  }

  /**
   * An attribute value one character at a time, in the order of the checks it replaced. Literal
   * whitespace becomes a space and a CR LF pair one space (XML 1.0 sections 3.3.3 and 2.11);
   * references are decoded afterwards, so &#9; stays a tab.
   */
  #exactAttributeValue(from: number, quote: number): number {
    const b = this.#b;
    const n = this.#n;
    const max = this.#limits.maxTextLength;
    const out = scratch(Math.min(n - from, max + 2));
    let length = 0;
    let units = 0;
    let afterCr = false;
    let i = from + 1;
    for (;;) {
      const c = b[i];
      if (c === quote) {
        this.#value = fromCodeUnits(out, length);
        return i + 1;
      }
      if (c === undefined) throw malformed(`unclosed attribute value at ${from}`);
      if (c === LT) throw malformed(`'<' in an attribute value at ${i}`);
      if (c === AMP) {
        i = this.#reference(i);
        units += this.#codePoint > 0xffff ? 2 : 1;
        length = writeCodePoint(out, length, this.#codePoint);
        afterCr = false;
      } else if (c < 0x80) {
        if ((CLASS[c]! & C_BAD) !== 0) throw malformed(`character not allowed in XML at ${i}`);
        if (c === TAB || c === CR || (c === LF && !afterCr)) out[length++] = SPACE;
        else if (c !== LF) out[length++] = c;
        afterCr = c === CR;
        units++;
        i++;
      } else {
        const cp = codePointAt(b, i);
        if (cp === 0xfffe || cp === 0xffff) throw malformed(`character not allowed in XML at ${i}`);
        units += cp > 0xffff ? 2 : 1;
        length = writeCodePoint(out, length, cp);
        afterCr = false;
        i += sequenceLength(c);
      }
      if (units > max) throw overLimit(`attribute value longer than maxTextLength at ${from}`);
    }
  }

  #attach(element: XmlElement): void {
    if (this.#depth === 0) {
      this.#root = element;
      return;
    }
    const parent = this.#frame();
    if (parent.children === null) parent.children = [element];
    else parent.children.push(element);
  }

  /** XML 1.0 section 3.1 ETag, which must match its start tag (WFC: Element Type Match). */
  #endTag(at: number): number {
    const b = this.#b;
    const frame = this.#frame();
    const start = frame.qStart;
    const length = frame.qEnd - start;
    let end = at + 2 + length;
    let same = b[end] === GT;
    for (let k = 0; same && k < length; k++) same = b[at + 2 + k] === b[start + k];
    if (same) {
      end++;
    } else {
      const nameEnd = this.#qname(at + 2);
      end = nameEnd;
      while (isSpace(b[end])) end++;
      if (b[end] !== GT) throw malformed(`malformed end tag at ${at}`);
      // Reached only when the bytes differ, or are followed by whitespace.
      same = nameEnd - at - 2 === length;
      for (let k = 0; same && k < length; k++) same = b[at + 2 + k] === b[start + k];
      if (!same) throw malformed(`end tag does not match its start tag at ${at}`);
      end++;
    }
    this.#depth--;
    const children = frame.children ?? NO_CHILDREN;
    let text = frame.text;
    if (frame.pieces > 0) {
      frame.parts.length = frame.pieces;
      text += frame.parts.join('');
    }
    this.#attach({ ns: frame.ns, local: frame.local, prefix: frame.prefix, attributes: frame.attributes, children, text, namespaces: frame.namespaces });
    frame.children = null;
    return end;
  }
}

function sameBytes(ascii: string, b: Uint8Array, from: number, to: number): boolean {
  if (ascii.length !== to - from) return false;
  for (let k = 0; k < ascii.length; k++) if (ascii.charCodeAt(k) !== b[from + k]) return false;
  return true;
}

function tooLong(attribute: boolean, at: number): GatewayError {
  return overLimit(`${attribute ? 'attribute value' : 'character data'} longer than maxTextLength at ${at}`);
}

function indexOfName(prefixes: readonly string[], locals: readonly string[], count: number, prefix: string, local: string): number {
  for (let k = 0; k < count; k++) {
    if (locals[k] === local && prefixes[k] === prefix) return k;
  }
  return -1;
}

