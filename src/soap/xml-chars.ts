/**
 * Byte-level building blocks of soap/scanner.ts: byte values and classes, XML 1.0 name and
 * character rules, UTF-8 decoding of one character, and the shared UTF-16 output buffer of the
 * scanner's exact paths. Valid UTF-8 only: the scanner checks the whole body first.
 */

export const TAB = 0x09;
export const LF = 0x0a;
export const CR = 0x0d;
export const SPACE = 0x20;
export const BANG = 0x21;
export const QUOT = 0x22;
export const HASH = 0x23;
export const AMP = 0x26;
export const APOS = 0x27;
export const HYPHEN = 0x2d;
export const SLASH = 0x2f;
export const COLON = 0x3a;
export const SEMICOLON = 0x3b;
export const LT = 0x3c;
export const EQUALS = 0x3d;
export const GT = 0x3e;
export const QUESTION = 0x3f;
export const RBRACKET = 0x5d;
export const LOWER_X = 0x78;

/** Byte classes, OR-ed over a run to decide between the fast and the exact path. */
export const C_BAD = 1; // a C0 control other than tab, LF and CR: not an XML Char (XML 1.0 section 2.2)
export const C_CR = 2;
export const C_AMP = 4;
export const C_RBRACKET = 8;
export const C_HIGH = 16; // part of a multi-byte UTF-8 sequence
export const C_LT = 32;
export const C_TAB_LF = 64;
export const C_EF = 128; // lead byte of U+F000..U+FFFF, which include the non-characters U+FFFE and U+FFFF

export const CLASS = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) CLASS[c] = C_BAD;
CLASS[TAB] = C_TAB_LF;
CLASS[LF] = C_TAB_LF;
CLASS[CR] = C_CR;
CLASS[AMP] = C_AMP;
CLASS[RBRACKET] = C_RBRACKET;
CLASS[LT] = C_LT;
for (let c = 0x80; c < 0x100; c++) CLASS[c] = C_HIGH;
CLASS[0xef] = C_HIGH | C_EF;

/** ASCII name characters (XML 1.0 section 2.3, without ':', which Namespaces in XML 1.0 reserves). */
export const NAME_START = 1;
export const NAME_CHAR = 2;
export const NAME = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const letter = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
  const other = (c >= 0x30 && c <= 0x39) || c === HYPHEN || c === 0x2e;
  NAME[c] = letter ? NAME_START | NAME_CHAR : other ? NAME_CHAR : 0;
}

/** XML 1.0 section 2.3 S. */
export function isSpace(c: number | undefined): boolean {
  return c === SPACE || c === LF || c === TAB || c === CR;
}

/**
 * XML 1.0 section 2.3 NameStartChar above U+007F, within the BMP. U+1680 and U+FEFF are refused
 * although XML allows them: JavaScript's \s matches them and fast-xml-parser splits tag names on
 * \s, so the parser this one replaced refused them, and so does this one.
 */
export function isNameStart(c: number): boolean {
  if (c === 0x1680 || c === 0xfeff) return false;
  return (c >= 0xc0 && c <= 0xd6) || (c >= 0xd8 && c <= 0xf6) || (c >= 0xf8 && c <= 0x2ff)
    || (c >= 0x370 && c <= 0x37d) || (c >= 0x37f && c <= 0x1fff) || c === 0x200c || c === 0x200d
    || (c >= 0x2070 && c <= 0x218f) || (c >= 0x2c00 && c <= 0x2fef) || (c >= 0x3001 && c <= 0xd7ff)
    || (c >= 0xf900 && c <= 0xfdcf) || (c >= 0xfdf0 && c <= 0xfffd);
}

export function isNameChar(c: number): boolean {
  return isNameStart(c) || c === 0xb7 || (c >= 0x300 && c <= 0x36f) || c === 0x203f || c === 0x2040;
}

/** XML 1.0 section 2.2 Char, for a code point from a character reference. */
export function isCodePoint(cp: number): boolean {
  if (cp < 0x20) return cp === TAB || cp === LF || cp === CR;
  return cp < 0xd800 || (cp > 0xdfff && cp < 0xfffe) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** Bytes in a UTF-8 sequence, from its lead byte (valid UTF-8 only). */
export function sequenceLength(lead: number): number {
  return lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
}

/** The code point of the UTF-8 sequence at `i` (valid UTF-8 only, `i` on a lead byte). */
export function codePointAt(b: Uint8Array, i: number): number {
  const lead = b[i]!;
  if (lead < 0x80) return lead;
  if (lead < 0xe0) return ((lead & 0x1f) << 6) | (b[i + 1]! & 0x3f);
  if (lead < 0xf0) return ((lead & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f);
  return ((lead & 0x07) << 18) | ((b[i + 1]! & 0x3f) << 12) | ((b[i + 2]! & 0x3f) << 6) | (b[i + 3]! & 0x3f);
}

/** UTF-16 code units in bytes [from, to) of valid UTF-8: every byte but continuations, plus one per 4-byte sequence. */
export function utf16Units(b: Uint8Array, from: number, to: number): number {
  let units = 0;
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    if ((c & 0xc0) !== 0x80) units += c >= 0xf0 ? 2 : 1;
  }
  return units;
}

// ---- UTF-16 output of the exact paths -------------------------------------------------------

let scratchUnits = new Uint16Array(1024);
let scratchBytes = Buffer.from(scratchUnits.buffer);
/** The most units asked of the scratch buffer since it was last cleared. */
let scratchUsed = 0;

/** A shared buffer for at least `units` code units (the exact paths never write more than they read). */
export function scratch(units: number): Uint16Array {
  if (scratchUnits.length < units) {
    scratchUnits = new Uint16Array(Math.max(units, scratchUnits.length * 2));
    scratchBytes = Buffer.from(scratchUnits.buffer);
  }
  if (units > scratchUsed) scratchUsed = units;
  return scratchUnits;
}

/** Zeroes what a document wrote, so that no field value outlives its request here. */
export function clearScratch(): void {
  if (scratchUsed === 0) return;
  scratchUnits.fill(0, 0, Math.min(scratchUsed, scratchUnits.length));
  scratchUsed = 0;
}

export function writeCodePoint(out: Uint16Array, at: number, cp: number): number {
  if (cp <= 0xffff) {
    out[at] = cp;
    return at + 1;
  }
  out[at] = 0xd800 + ((cp - 0x10000) >> 10);
  out[at + 1] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
  return at + 2;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Code units per String.fromCharCode call, well below engines' argument limits. */
const DECODE_CHUNK = 8_192;

/** The string of the first `length` units of the scratch buffer. */
export function fromCodeUnits(out: Uint16Array, length: number): string {
  if (length === 1) return String.fromCharCode(out[0]!);
  // Reading the units as UTF-16LE bytes is a native copy, 5 times faster than fromCharCode.
  if (LITTLE_ENDIAN && out === scratchUnits) return scratchBytes.toString('utf16le', 0, length * 2);
  let decoded = '';
  for (let k = 0; k < length; k += DECODE_CHUNK) {
    decoded += String.fromCharCode.apply(null, Array.from(out.subarray(k, Math.min(length, k + DECODE_CHUNK))));
  }
  return decoded;
}

