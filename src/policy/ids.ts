/**
 * Salesforce record ids: 15 characters, case-sensitive, or 18 = 15 + a 3-character suffix that
 * encodes the case of the first 15 (shared/SALESFORCE.md "Ids"). Split the 15 into three chunks
 * of 5; bit i of each chunk's number is set when character i is upper case A–Z; 0–25 map to
 * A–Z and 26–31 to 0–5.
 */
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** ASCII letters and digits, the only characters of an id (a loop: ids are read on every message). */
function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** The suffix's character for chunk `chunk` (0–2) of the first 15, which must be letters and digits. */
function suffixCode(id: string, chunk: number): number {
  let bits = 0;
  for (let i = 0; i < 5; i++) {
    const c = id.charCodeAt(chunk * 5 + i);
    if (c >= 65 && c <= 90) bits |= 1 << i;
  }
  return SUFFIX_ALPHABET.charCodeAt(bits);
}

/**
 * Returns the 18-character form of `id`, or null when it is not a well-formed id with a correct
 * checksum, or does not start with `prefix` (compared case-sensitively, e.g. `00D`).
 *
 * @example toId18('00D000000000001') // '00D000000000001EAA'
 */
export function toId18(id: string, prefix?: string): string | null {
  if ((id.length !== 15 && id.length !== 18) || (prefix !== undefined && !id.startsWith(prefix))) return null;
  for (let i = 0; i < 15; i++) if (!isAlnum(id.charCodeAt(i))) return null;
  if (id.length === 15) {
    return id + String.fromCharCode(suffixCode(id, 0), suffixCode(id, 1), suffixCode(id, 2));
  }
  let canonical = true;
  for (let chunk = 0; chunk < 3; chunk++) {
    const expected = suffixCode(id, chunk);
    const c = id.charCodeAt(15 + chunk);
    // The suffix is case-insensitive by design: it exists for case-insensitive systems.
    if (c === expected) continue;
    if (expected >= 65 && c === expected + 32) canonical = false;
    else return null;
  }
  return canonical ? id : id.slice(0, 15) + id.slice(15).toUpperCase();
}

/** Id prefixes of the objects the gateway checks (shared/SALESFORCE.md "Ids"). */
export const ID_PREFIX = Object.freeze({
  organization: '00D',
  action: '04k',
  notification: '04l',
});
