/**
 * The sanitized body for a message read the fast way (soap/canonical.ts), written byte for byte
 * as forward/soap-body.ts and json-body.ts write it from the model: the same markup (their own
 * parts, imported), each value escaped for its format. Only field names and values come from the
 * received bytes, and only as the reader checked them: a name matched the API-name pattern, a
 * value holds XML characters, valid UTF-8 and no reference but the five predefined entities.
 *
 * A value is copied as it is unless its flags say it holds something its format escapes; then it
 * is written a byte at a time: line ends normalised (XML 1.0 section 2.11), entities decoded,
 * and what the format needs escaped escaped again. A notification the reader found verbatim
 * (its received bytes are exactly what the lines below would write) is not written at all: in a
 * large SOAP body it is forwarded as that part of the received buffer. Equality with the general
 * builders is what test/unit/soap/canonical.fuzz.test.ts checks.
 */
import type { RouteFormat } from '../config/types.js';
import type { ForwardBody } from './upstream.js';
import type { CanonicalMessage } from '../soap/canonical.js';
import { escapeText } from '../soap/xml-escape.js';
import { FIELD_SLOTS, F_FLAGS, F_NAME, F_NAME_END, F_VALUE, F_VALUE_END, V_AMP, V_CR, V_JSON, V_XML } from '../soap/canonical-shape.js';
import { jsonHead, jsonNotificationStart } from './json-body.js';
import {
  SOAP_FIELD_CLOSE, SOAP_FIELD_END, SOAP_FIELD_NIL, SOAP_FIELD_START, SOAP_NOTIFICATION_END, SOAP_TAIL,
  soapHead, soapNotificationStart, type ForwardBodyOptions,
} from './soap-body.js';

const bytes = (ascii: string): Uint8Array => Uint8Array.from(ascii, (c) => c.charCodeAt(0));

const FIELD_START = bytes(SOAP_FIELD_START);
const FIELD_NIL = bytes(SOAP_FIELD_NIL);
const FIELD_CLOSE = bytes(SOAP_FIELD_CLOSE);
const FIELD_END = bytes(SOAP_FIELD_END);
const JSON_NULL = bytes('null');

const CR = 0x0d;
const LF = 0x0a;
const AMP = 0x26;

/** How a format escapes bytes: what each becomes, if anything, and which need a look. */
interface Escapes {
  /** 1 for a byte that is not copied as it is: CR, and '&' when entities are decoded, too. */
  readonly attention: Uint8Array;
  readonly replacements: readonly (Uint8Array | undefined)[];
  readonly decodeEntities: boolean;
}

/**
 * `chars` are the characters (ASCII) that `escape`, the format's own escaper, changes: each is
 * written as `escape` writes it, so this table cannot drift from the general way's builders.
 */
function escapes(chars: string, escape: (c: string) => string, decodeEntities: boolean): Escapes {
  const attention = new Uint8Array(256);
  const replacements: (Uint8Array | undefined)[] = [];
  for (const c of chars) {
    attention[c.charCodeAt(0)] = 1;
    replacements[c.charCodeAt(0)] = bytes(escape(c));
  }
  attention[CR] = 1;
  if (decodeEntities) attention[AMP] = 1;
  return { attention, replacements, decodeEntities };
}

/**
 * XML output: escapeText, for the characters a value can hold raw that it changes (entities are
 * written as they came, since escapeText turns each character back into the same one; a CR is
 * normalised first). JSON output: JSON.stringify's escapes for the ASCII a value can hold (the
 * reader declines the other controls); entities decoded.
 */
const XML_ESCAPES = escapes('"\'>', escapeText, false);
const JSON_ESCAPES = escapes('"\\\t\n', (c) => JSON.stringify(c).slice(1, -1), true);

/**
 * The character of the predefined entity whose '&' is at k (the reader let no other through), and
 * in entityLength its length in bytes, '&' and ';' included.
 */
let entityLength = 0;
function entityAt(body: Buffer, k: number): number {
  switch (body[k + 1]) {
    case 0x67: entityLength = 4; return 0x3e; // &gt;
    case 0x6c: entityLength = 4; return 0x3c; // &lt;
    case 0x71: entityLength = 6; return 0x22; // &quot;
    default:
      if (body[k + 2] === 0x70) {
        entityLength = 6; // &apos;
        return 0x27;
      }
      entityLength = 5; // &amp;
      return 0x26;
  }
}


/** Bytes out, grown by doubling; every write is preceded by room() for its most bytes. */
class ByteWriter {
  out: Buffer;
  p = 0;

  constructor(capacity: number) {
    this.out = Buffer.allocUnsafe(capacity);
  }

  room(n: number): void {
    if (this.p + n <= this.out.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.p + n));
    this.out.copy(grown, 0, 0, this.p);
    this.out = grown;
  }

  /** A string of characters below U+0100, a byte each. */
  latin1(text: string): void {
    this.room(text.length);
    this.p += this.out.write(text, this.p, 'latin1');
  }

  utf8(text: string): void {
    this.room(3 * text.length);
    this.p += this.out.write(text, this.p, 'utf8');
  }

  put(src: Uint8Array): void {
    const out = this.out;
    let p = this.p;
    for (let k = 0; k < src.length; k++) out[p++] = src[k]!;
    this.p = p;
  }

  /** Bytes [from, to) of `src`, as they are. */
  copy(src: Buffer, from: number, to: number): void {
    if (to - from > 32) {
      this.p += src.copy(this.out, this.p, from, to);
      return;
    }
    const out = this.out;
    let p = this.p;
    for (let k = from; k < to; k++) out[p++] = src[k]!;
    this.p = p;
  }

  /** The bytes written, in a buffer of their own size when the slack would be large. */
  done(): Buffer {
    const slack = this.out.length - this.p;
    if (slack > 65_536 && slack > this.p / 4) return Buffer.from(this.out.subarray(0, this.p));
    return this.out.subarray(0, this.p);
  }
}

/**
 * A value's bytes [from, to) as character data in `format`: line ends normalised, references
 * decoded, escaped as the format's writer escapes the decoded characters.
 */
function writeEscaped(w: ByteWriter, body: Buffer, from: number, to: number, escapes: Escapes): void {
  const { attention, replacements, decodeEntities } = escapes;
  const out = w.out;
  let p = w.p;
  for (let k = from; k < to; k++) {
    let c = body[k]!;
    if (attention[c] === 0) {
      out[p++] = c;
      continue;
    }
    if (c === CR) {
      if (body[k + 1] === LF) k++;
      c = LF;
    } else if (c === AMP && decodeEntities) {
      c = entityAt(body, k);
      k += entityLength - 1;
    }
    const replacement = replacements[c];
    if (replacement === undefined) {
      out[p++] = c;
    } else {
      for (let e = 0; e < replacement.length; e++) out[p++] = replacement[e]!;
    }
  }
  w.p = p;
}

/** One row of the field table, unpacked into a record reused for every field (no allocation). */
const row = { name: 0, nameEnd: 0, value: 0, valueEnd: 0, flags: 0 };
function readRow(fields: Int32Array, at: number): Readonly<typeof row> {
  row.name = fields[at + F_NAME]!;
  row.nameEnd = fields[at + F_NAME_END]!;
  row.value = fields[at + F_VALUE]!;
  row.valueEnd = fields[at + F_VALUE_END]!;
  row.flags = fields[at + F_FLAGS]!;
  return row;
}

/**
 * Verbatim notifications of at least this many bytes in all are forwarded from the body itself,
 * as parts of it, rather than copied: allocating and filling a new 75 KB buffer for each message
 * cost ~120 µs in the gateway (bench/README.md), far more than the same copy on a warm buffer.
 * Below it, one small copy costs less than writing several parts.
 */
const PARTS_MIN_BYTES = 4096;

function soapBody(msg: CanonicalMessage, opts: ForwardBodyOptions): ForwardBody {
  const { body, fields } = msg;
  let verbatimBytes = 0;
  for (const n of msg.notifications) if (n.verbatimFrom >= 0) verbatimBytes += n.verbatimTo - n.verbatimFrom;
  const inParts = verbatimBytes >= PARTS_MIN_BYTES;
  const w = new ByteWriter(body.length - (inParts ? verbatimBytes : 0) + 1024);
  /** In parts: [from, to) pairs, of the writer's bytes when `from` >= 0, else of the body's (~from, ~to). */
  const runs: number[] = [];
  let written = 0;
  w.latin1(soapHead(msg, opts));
  const checked = new Set<string>();
  for (const notification of msg.notifications) {
    const { verbatimFrom, verbatimTo } = notification;
    if (verbatimFrom >= 0) {
      // Already exactly what the lines below would write (soap/canonical.ts checked every byte).
      if (!inParts) {
        w.room(verbatimTo - verbatimFrom);
        w.copy(body, verbatimFrom, verbatimTo);
        continue;
      }
      if (w.p > written) runs.push(written, w.p);
      written = w.p;
      const last = runs.length - 1;
      if (last > 0 && runs[last]! < 0 && ~runs[last]! === verbatimFrom) runs[last] = ~verbatimTo;
      else runs.push(~verbatimFrom, ~verbatimTo);
      continue;
    }
    const empty = notification.first === notification.end;
    w.latin1(soapNotificationStart(notification, empty, checked));
    if (empty) continue;
    for (let row = notification.first * FIELD_SLOTS; row < notification.end * FIELD_SLOTS; row += FIELD_SLOTS) {
      const { name, nameEnd, value, valueEnd, flags } = readRow(fields, row);
      const escape = (flags & (V_XML | V_CR)) !== 0;
      // Escaping makes a byte six at most (&quot;).
      w.room(40 + 2 * (nameEnd - name) + (escape ? 6 : 1) * (valueEnd - value));
      w.put(FIELD_START);
      w.copy(body, name, nameEnd);
      if (value < 0) {
        w.put(FIELD_NIL);
        continue;
      }
      w.out[w.p++] = 0x3e; // '>'
      if (escape) writeEscaped(w, body, value, valueEnd, XML_ESCAPES);
      else w.copy(body, value, valueEnd);
      w.put(FIELD_CLOSE);
      w.copy(body, name, nameEnd);
      w.put(FIELD_END);
    }
    w.latin1(SOAP_NOTIFICATION_END);
  }
  w.latin1(SOAP_TAIL);
  if (!inParts) return w.done();
  runs.push(written, w.p);
  const parts: Buffer[] = [];
  for (let k = 0; k < runs.length; k += 2) {
    const [from, to] = [runs[k]!, runs[k + 1]!];
    parts.push(from >= 0 ? w.out.subarray(from, to) : body.subarray(~from, ~to));
  }
  return parts;
}

function jsonBody(msg: CanonicalMessage, opts: ForwardBodyOptions): Buffer {
  const { body, fields } = msg;
  const w = new ByteWriter(body.length + 1024);
  w.utf8(jsonHead(msg, opts));
  let firstNotification = true;
  for (const notification of msg.notifications) {
    if (!firstNotification) w.latin1(',');
    firstNotification = false;
    w.utf8(jsonNotificationStart(notification));
    for (let row = notification.first * FIELD_SLOTS; row < notification.end * FIELD_SLOTS; row += FIELD_SLOTS) {
      const { name, nameEnd, value, valueEnd, flags } = readRow(fields, row);
      const escape = (flags & (V_JSON | V_AMP | V_CR)) !== 0;
      // Escaping makes a byte two at most (\").
      w.room(16 + (nameEnd - name) + (escape ? 2 : 1) * (valueEnd - value));
      const out = w.out;
      if (row !== notification.first * FIELD_SLOTS) out[w.p++] = 0x2c; // ','
      out[w.p++] = 0x22;
      w.copy(body, name, nameEnd);
      out[w.p++] = 0x22;
      out[w.p++] = 0x3a; // ':'
      if (value < 0) {
        w.put(JSON_NULL);
        continue;
      }
      out[w.p++] = 0x22;
      if (escape) writeEscaped(w, body, value, valueEnd, JSON_ESCAPES);
      else w.copy(body, value, valueEnd);
      w.out[w.p++] = 0x22;
    }
    w.latin1('}}');
  }
  w.latin1(']}');
  return w.done();
}

/**
 * The sanitized body for a route, from a message read the fast way. A SOAP body may come in parts,
 * some of them parts of msg.body: that buffer must not change while the body is in use.
 */
export function buildCanonicalBody(msg: CanonicalMessage, format: RouteFormat, forwardSessionId: boolean): ForwardBody {
  const opts = { forwardSessionId };
  return format === 'soap' ? soapBody(msg, opts) : jsonBody(msg, opts);
}
