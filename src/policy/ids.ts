/**
 * Salesforce record ids: 15 characters, case-sensitive, or 18 = 15 + a 3-character suffix that
 * encodes the case of the first 15 (shared/SALESFORCE.md "Ids"). Split the 15 into three chunks
 * of 5; bit i of each chunk's number is set when character i is upper case A–Z; 0–25 map to
 * A–Z and 26–31 to 0–5.
 */
const ID_BODY = /^[0-9A-Za-z]{15}$/;
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

function suffixOf(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charCodeAt(chunk * 5 + i);
      if (c >= 65 && c <= 90) bits |= 1 << i;
    }
    suffix += SUFFIX_ALPHABET[bits];
  }
  return suffix;
}

/**
 * Returns the 18-character form of `id`, or null when it is not a well-formed id with a correct
 * checksum, or does not start with `prefix` (compared case-sensitively, e.g. `00D`).
 *
 * @example toId18('00D000000000001') // '00D000000000001EAA'
 */
export function toId18(id: string, prefix?: string): string | null {
  let id18: string;
  if (id.length === 15) {
    if (!ID_BODY.test(id)) return null;
    id18 = id + suffixOf(id);
  } else if (id.length === 18) {
    const body = id.slice(0, 15);
    if (!ID_BODY.test(body)) return null;
    // The suffix is case-insensitive by design: it exists for case-insensitive systems.
    if (id.slice(15).toUpperCase() !== suffixOf(body)) return null;
    id18 = body + suffixOf(body);
  } else {
    return null;
  }
  if (prefix !== undefined && !id18.startsWith(prefix)) return null;
  return id18;
}

/** Id prefixes of the objects the gateway checks (shared/SALESFORCE.md "Ids"). */
export const ID_PREFIX = Object.freeze({
  organization: '00D',
  action: '04k',
  notification: '04l',
});
