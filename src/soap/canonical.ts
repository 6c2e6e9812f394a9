/**
 * The fast path for the one shape Salesforce writes (shared/fixtures/, shared/SALESFORCE.md "The
 * call"): the same declaration, prefixes and namespace declarations on every message, one
 * element a line. It reads such a body in one pass over its bytes, with no element tree and no
 * string per field: each field is a pair of byte ranges (name, value) in a table that the
 * writers (forward/canonical-body.ts) copy from, escaping where the output needs it. The shape
 * itself is in canonical-shape.ts, the check for repeated names in field-names.ts.
 *
 * It never decides that a message is bad. At the first byte that is not exactly that shape
 * (another prefix, a comment, CDATA, a character reference, a repeated field, an id that does
 * not check, a limit that might be reached…) it returns undefined, and the message goes the
 * general way (scanner.ts → envelope.ts → forward/soap-body.ts or json-body.ts), which gives
 * the answer and the error code. What it accepts, that way accepts too, with the same model and
 * the same forwarded bytes: test/unit/soap/canonical.fuzz.test.ts holds the two paths to that on
 * generated and mutated messages. Every value it accepts is checked as the scanner checks it
 * (XML 1.0 Char, UTF-8, no ']]>', the five predefined entities only), and every name against
 * the sObject API-name pattern.
 */
import { isUtf8 } from 'node:buffer';
import { ID_PREFIX, toId18 } from '../policy/ids.js';
import * as shape from './canonical-shape.js';
import { MAX_NOTIFICATIONS } from './envelope.js';
import { NameSet } from './field-names.js';
import type { MessageHead, NotificationHead, XmlLimits } from './types.js';

// Module-local copies: V8 folds a module's own constants into optimised code, but reads an
// imported binding through its cell at every use; in the loops below that was a fifth of the read.
const {
  ACTION_ID, API_CHAR, API_NAME_MAX, BODY, BODY_START, CALL, CALL_START, COLON, DECLARATION, ENTERPRISE_URL, ENTITIES,
  ENTITY, ENTITY_CHARS, ENVELOPE, ENVELOPE_START, FIELD_NIL, FIELD_SLOTS, FIELD_START, FIELD_END, F_FLAGS, F_NAME,
  F_NAME_END, F_VALUE, F_VALUE_END, GT, HEAD_ELEMENTS, ID, LETTER, LINE_END, LT, MIN_ATTRIBUTES_PER_ELEMENT, MIN_DEPTH,
  MIN_NAME_LENGTH, MIN_TEXT_LENGTH, NOTIFICATION, NOTIFICATION_ELEMENTS, NOTIFICATION_END, NOTIFICATION_START,
  ORGANIZATION_ID, PARTNER_URL, RBRACKET, SESSION_ID, SESSION_NIL, SLASH, SOBJECT, SOBJECT_END, SOBJECT_NS,
  SOBJECT_TYPE, SPACE, TAIL, VALUE_CLASS, V_AMP, V_BAD, V_CR, V_EF, V_HIGH, V_STOP, V_XML, at, expect, skipSpace,
} = shape;

export interface CanonicalNotification extends NotificationHead {
  /** Its fields: rows [first, end) of CanonicalMessage.fields. */
  readonly first: number;
  readonly end: number;
  /**
   * Bytes [verbatimFrom, verbatimTo) of the body are exactly what forward/soap-body.ts writes for
   * this notification (checked byte by byte); -1 when they are not.
   */
  readonly verbatimFrom: number;
  readonly verbatimTo: number;
}

export interface CanonicalMessage extends MessageHead {
  readonly sessionId: string | null;
  readonly notifications: readonly CanonicalNotification[];
  readonly body: Buffer;
  /**
   * FIELD_SLOTS numbers a field: byte offsets into body, and the value's flags. The table is the
   * thread's one (see fieldTable): valid until the next readCanonical call.
   */
  readonly fields: Int32Array;
  readonly fieldCount: number;
}

/**
 * The field table, shared by all reads in this thread and grown as needed: allocating and zeroing
 * a new one for each message cost a tenth of the read. At most maxElements rows.
 */
let fieldTable = new Int32Array(1024 * FIELD_SLOTS);

/** Direct-mapped cache of API names, shared by all messages: a message repeats a few dozen. */
const NAME_SLOTS = 1024;
const names: (string | undefined)[] = new Array<string | undefined>(NAME_SLOTS).fill(undefined);

function internName(body: Buffer, b: Uint8Array, from: number, to: number, hash: number): string {
  const slot = (hash ^ (hash >>> 10)) & (NAME_SLOTS - 1);
  const cached = names[slot];
  if (cached !== undefined && cached.length === to - from) {
    let same = true;
    for (let k = 0; same && k < cached.length; k++) same = cached.charCodeAt(k) === b[from + k];
    if (same) return cached;
  }
  const name = body.toString('latin1', from, to);
  names[slot] = name;
  return name;
}

/**
 * The one pass. A position of -1 means the body has left the shape: every step passes it on, and
 * read() returns undefined.
 */
class CanonicalReader {
  readonly #body: Buffer;
  readonly #b: Uint8Array;
  readonly #limits: XmlLimits;
  #fields = fieldTable;
  #fieldCount = 0;
  /** The VALUE_CLASS bits of the last value read. */
  #flags = 0;
  /** Whether any value held a byte above 0x7f (then the whole body is checked as UTF-8). */
  #high = false;

  constructor(body: Buffer, limits: XmlLimits) {
    this.#body = body;
    this.#b = new Uint8Array(body.buffer, body.byteOffset, body.length);
    this.#limits = limits;
  }

  read(): CanonicalMessage | undefined {
    const b = this.#b;
    let i = expect(b, 0, DECLARATION);
    i = expect(b, this.#misc(i), ENVELOPE_START);
    i = expect(b, this.#space(i, ENVELOPE), BODY_START);
    i = expect(b, this.#space(i, BODY), CALL_START);
    const organizationId = this.#id(this.#space(i, CALL), ORGANIZATION_ID, ID_PREFIX.organization);
    const actionId = this.#id(this.#space(this.#end, CALL), ACTION_ID, ID_PREFIX.action);
    i = this.#space(this.#end, CALL);
    let sessionId: string | null | undefined = null;
    if (at(b, i, SESSION_NIL)) this.#end = i + SESSION_NIL.length;
    else sessionId = this.#simple(i, SESSION_ID);
    const enterpriseUrl = this.#simple(this.#space(this.#end, CALL), ENTERPRISE_URL);
    const partnerUrl = this.#simple(this.#space(this.#end, CALL), PARTNER_URL);
    if (organizationId === null || actionId === null || sessionId === undefined
      || enterpriseUrl === undefined || partnerUrl === undefined) return undefined;

    const notifications: CanonicalNotification[] = [];
    i = this.#space(this.#end, CALL);
    while (at(b, i, NOTIFICATION_START)) {
      if (notifications.length === MAX_NOTIFICATIONS) return undefined;
      const notification = this.#notification(i + NOTIFICATION_START.length, i);
      if (notification === undefined) return undefined;
      notifications.push(notification);
      i = this.#space(this.#end, CALL);
    }
    if (notifications.length === 0) return undefined;
    i = expect(b, i, TAIL[0]!);
    i = expect(b, this.#space(i, BODY), TAIL[1]!);
    i = expect(b, this.#space(i, ENVELOPE), TAIL[2]!);
    if (i < 0 || this.#misc(i) !== b.length) return undefined;

    const limits = this.#limits;
    const elements = HEAD_ELEMENTS + notifications.length * NOTIFICATION_ELEMENTS + this.#fieldCount;
    if (elements > limits.maxElements) return undefined;
    // Only values can hold bytes above 0x7f; the scanner refuses invalid UTF-8 anywhere.
    if (this.#high && !isUtf8(this.#body)) return undefined;
    const [body, fields, fieldCount] = [this.#body, this.#fields, this.#fieldCount];
    return { organizationId, actionId, sessionId, enterpriseUrl, partnerUrl, notifications, body, fields, fieldCount };
  }

  /** End of the last element read; -1 once off the shape. */
  #end = 0;
  /**
   * Whitespace read so far in each element-only element: the scanner counts it as that element's
   * character data, under maxTextLength like any other.
   */
  readonly #whitespace = [0, 0, 0, 0, 0];

  /** Whitespace between elements of `parent` (ENVELOPE…SOBJECT); -1 when off the shape or over the limit. */
  #space(i: number, parent: number): number {
    if (i < 0) return -1;
    const j = skipSpace(this.#b, i);
    if (j > i && (this.#whitespace[parent]! += j - i) > this.#limits.maxTextLength) return -1;
    return j;
  }

  /** Whitespace around the root element (XML 1.0 section 2.8 Misc): no element's character data. */
  #misc(i: number): number {
    return i < 0 ? -1 : skipSpace(this.#b, i);
  }

  /** `<name>id</name>`: an id of plain characters that toId18 accepts with `prefix`, in 18-character form. */
  #id(i: number, name: Uint8Array, prefix: string): string | null {
    const value = this.#simple(i, name);
    return value !== undefined && this.#flags === 0 ? toId18(value, prefix) : null;
  }

  /** `<name>value</name>` of the call's own namespace: its value as a string, or undefined. */
  #simple(i: number, name: Uint8Array): string | undefined {
    const b = this.#b;
    this.#end = -1;
    if (i < 0 || b[i] !== LT || !at(b, i + 1, name) || b[i + 1 + name.length] !== GT) return undefined;
    const from = i + name.length + 2;
    const to = this.#value(from);
    if (to < 0 || b[to + 1] !== SLASH || !at(b, to + 2, name) || b[to + 2 + name.length] !== GT) return undefined;
    this.#end = to + name.length + 3;
    return this.#string(from, to, this.#flags);
  }

  /** A value's characters: references decoded and line ends normalised, as the scanner reads them. */
  #string(from: number, to: number, flags: number): string {
    let value = this.#body.toString((flags & V_HIGH) === 0 ? 'latin1' : 'utf8', from, to);
    if ((flags & V_CR) !== 0) value = value.replace(LINE_END, '\n');
    if ((flags & V_AMP) !== 0) value = value.replace(ENTITY, (_, name: string) => ENTITY_CHARS[name]!);
    return value;
  }

  /**
   * Character data from `from` to the next '<': returns that index, with the bytes' classes in
   * #flags, or -1 when a byte is not allowed or a limit might be reached.
   */
  #value(from: number): number {
    const b = this.#b;
    const n = b.length;
    let i = from;
    let flags = 0;
    for (;;) {
      const k = VALUE_CLASS[b[i]!]!;
      if (k === 0) {
        i++;
        continue;
      }
      if (i >= n || (k & V_BAD) !== 0) return -1;
      if ((k & V_STOP) !== 0) break;
      if ((k & V_AMP) !== 0) {
        const entity = this.#entity(i + 1);
        if (entity < 0) return -1;
        i = entity;
      } else {
        // ']]>' may not appear in character data (XML 1.0 section 2.4).
        if (b[i] === GT && b[i - 1] === RBRACKET && b[i - 2] === RBRACKET) return -1;
        if ((k & V_EF) !== 0 && b[i + 1] === 0xbf && (b[i + 2]! & 0xfe) === 0xbe) return -1;
        i++;
      }
      flags |= k;
    }
    // At most one UTF-16 code unit a byte: within maxTextLength by bytes is within it by characters.
    if (i - from > this.#limits.maxTextLength) return -1;
    if ((flags & V_HIGH) !== 0) this.#high = true;
    this.#flags = flags;
    return i;
  }

  /** After '&': the index past one of the five predefined entities, or -1. */
  #entity(i: number): number {
    for (const entity of ENTITIES) {
      if (at(this.#b, i, entity)) return i + entity.length;
    }
    return -1;
  }

  /** An API name from i: its end, with its hash in #hash, or -1. */
  #apiName(i: number): number {
    const b = this.#b;
    if (LETTER[b[i]!] !== 1) return -1;
    let h = 0x811c9dc5 | 0;
    let j = i;
    while (API_CHAR[b[j]!] === 1) {
      h = Math.imul(h ^ b[j]!, 0x01000193);
      j++;
    }
    if (j - i > API_NAME_MAX || j - i + 3 > this.#limits.maxNameLength) return -1;
    this.#hash = h;
    return j;
  }

  #hash = 0;

  /**
   * One Notification, from after its start tag; `start` is where that tag began.
   * It is verbatim when its bytes, from the indentation before its start tag to the line end
   * after its end tag, are exactly those forward/soap-body.ts writes for it: Salesforce's own
   * indentation, a canonical id, and values that the writer would escape back to the same bytes.
   */
  #notification(from: number, start: number): CanonicalNotification | undefined {
    const b = this.#b;
    this.#whitespace[NOTIFICATION] = 0;
    this.#whitespace[SOBJECT] = 0;
    let verbatim = start >= 4 && b[start - 4] === 0x0a && b[start - 3] === SPACE && b[start - 2] === SPACE && b[start - 1] === SPACE;
    let i = this.#line(from, NOTIFICATION, 4);
    verbatim &&= this.#lined;
    const idText = this.#simple(i, ID);
    const id = idText !== undefined && this.#flags === 0 ? toId18(idText, ID_PREFIX.notification) : null;
    if (id === null) return undefined;
    verbatim &&= id === idText;
    const afterId = this.#end;
    i = this.#line(afterId, NOTIFICATION, 4);
    verbatim &&= this.#lined;
    i = expect(b, i, SOBJECT_TYPE);
    if (i < 0) return undefined;
    const typeEnd = this.#apiName(i);
    if (typeEnd < 0) return undefined;
    const type = internName(this.#body, b, i, typeEnd, this.#hash);
    i = expect(b, typeEnd, SOBJECT_NS);
    if (i < 0) return undefined;
    const first = this.#fieldCount;
    if (b[i] === SLASH && b[i + 1] === GT) {
      // A record deleted before delivery: an empty sObject (shared/SALESFORCE.md).
      i += 2;
    } else {
      if (b[i] !== GT) return undefined;
      this.#names.clear();
      let j = i + 1;
      i = this.#line(j, SOBJECT, 5);
      while (i >= 0 && b[i] === LT && b[i + 1] !== SLASH) {
        verbatim &&= this.#lined;
        j = this.#field(i);
        verbatim &&= this.#verbatim;
        i = this.#line(j, SOBJECT, 5);
      }
      // '<sObject …></sObject>' is written '<sObject …/>'.
      verbatim &&= first < this.#fieldCount && this.#indented(j, i, 4);
      i = expect(b, i, SOBJECT_END);
    }
    i = this.#line(i, NOTIFICATION, 3);
    verbatim &&= this.#lined;
    i = expect(b, i, NOTIFICATION_END);
    if (i < 0) return undefined;
    this.#end = i;
    verbatim &&= b[i] === 0x0a;
    return { id, type, first, end: this.#fieldCount, verbatimFrom: verbatim ? start - 3 : -1, verbatimTo: verbatim ? i + 1 : -1 };
  }

  /**
   * Whitespace between elements of `parent`, as #space; #lined says whether it was a line end and
   * `spaces` spaces, as forward/soap-body.ts indents. That case, nearly every one, is read once.
   */
  #line(i: number, parent: number, spaces: number): number {
    const b = this.#b;
    if (i >= 0 && b[i] === 0x0a) {
      const end = i + 1 + spaces;
      let j = i + 1;
      while (j < end && b[j] === SPACE) j++;
      const c = b[j];
      if (j === end && c !== SPACE && c !== 0x0a && c !== 0x09 && c !== 0x0d) {
        this.#lined = true;
        return (this.#whitespace[parent]! += spaces + 1) > this.#limits.maxTextLength ? -1 : j;
      }
    }
    this.#lined = false;
    return this.#space(i, parent);
  }

  #lined = false;

  /** Whether [from, to) is a line end and `spaces` spaces, as forward/soap-body.ts indents. */
  #indented(from: number, to: number, spaces: number): boolean {
    if (to - from !== spaces + 1 || this.#b[from] !== 0x0a) return false;
    for (let k = from + 1; k < to; k++) if (this.#b[k] !== SPACE) return false;
    return true;
  }

  /** Names of the fields of the sObject being read. */
  readonly #names = fieldNames;
  /** Whether the last field read is written back byte for byte as it came. */
  #verbatim = false;

  /** `<sf:Name>value</sf:Name>`, `<sf:Name/>` or `<sf:Name xsi:nil="true"/>`: its end, or -1. */
  #field(start: number): number {
    const b = this.#b;
    if (b[start + 1] !== 0x73 || b[start + 2] !== 0x66 || b[start + 3] !== COLON) return -1; // '<sf:'
    const i = start + FIELD_START.length;
    const nameEnd = this.#apiName(i);
    if (nameEnd < 0) return -1;
    let value = nameEnd + 1;
    let valueEnd = value;
    let flags = 0;
    let end: number;
    const c = b[nameEnd];
    if (c === GT) {
      valueEnd = this.#value(value);
      if (valueEnd < 0 || b[valueEnd + 1] !== SLASH || b[valueEnd + 2] !== 0x73 || b[valueEnd + 3] !== 0x66 || b[valueEnd + 4] !== COLON) return -1;
      const length = nameEnd - i;
      const close = valueEnd + FIELD_END.length;
      for (let k = 0; k < length; k++) if (b[close + k] !== b[i + k]) return -1;
      if (b[close + length] !== GT) return -1;
      flags = this.#flags;
      end = close + length + 1;
      this.#verbatim = (flags & (V_XML | V_CR)) === 0;
    } else if (c === SLASH && b[nameEnd + 1] === GT) {
      end = nameEnd + 2;
      this.#verbatim = false;
    } else if (c === SPACE && at(b, nameEnd, FIELD_NIL)) {
      value = -1;
      valueEnd = -1;
      end = nameEnd + FIELD_NIL.length;
      this.#verbatim = true;
    } else {
      return -1;
    }
    let fields = this.#fields;
    const row = this.#fieldCount * FIELD_SLOTS;
    if (row + FIELD_SLOTS > fields.length) {
      const grown = new Int32Array(fields.length * 2);
      grown.set(fields);
      this.#fields = fields = fieldTable = grown;
    }
    fields[row + F_NAME] = i;
    fields[row + F_NAME_END] = nameEnd;
    fields[row + F_VALUE] = value;
    fields[row + F_VALUE_END] = valueEnd;
    fields[row + F_FLAGS] = flags;
    // Repeated in one sObject: the general way says which.
    if (!this.#names.add(b, fields, this.#fieldCount, this.#hash)) return -1;
    this.#fieldCount++;
    return end;
  }
}

/** The thread's one NameSet, like fieldTable: a new one per message cost three typed arrays. */
const fieldNames = new NameSet();

/**
 * Reads a body of Salesforce's own shape, or returns undefined for any other (which the general
 * way reads, or refuses with the right code). `limits` must be valid (parser.ts checkLimits).
 * The result is valid until the next call in the same thread: write its body before then.
 *
 * @example readCanonical(readFileSync('contact-100.xml'), DEFAULT_XML_LIMITS)?.notifications.length // 100
 */
export function readCanonical(body: Buffer, limits: XmlLimits): CanonicalMessage | undefined {
  if (limits.maxDepth < MIN_DEPTH || limits.maxAttributesPerElement < MIN_ATTRIBUTES_PER_ELEMENT
    || limits.maxNameLength < MIN_NAME_LENGTH || limits.maxTextLength < MIN_TEXT_LENGTH) return undefined;
  return new CanonicalReader(body, limits).read();
}
