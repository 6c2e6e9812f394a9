/**
 * Escaping for XML 1.0 text and attribute values, chosen so that a conforming parser reads back
 * exactly the string that was escaped: no markup can be injected, and no character is changed by
 * line-end normalisation (XML 1.0 section 2.11) or attribute-value normalisation (section 3.3.3).
 */
import { GatewayError } from '../errors.js';

const TEXT_SPECIAL = /[&<>"'\r]/g;
const ATTRIBUTE_SPECIAL = /[&<>"'\t\n\r]/g;

// One test per value finds any character that needs escaping or refusing, so that most values
// (no special character) are returned as they are after a single scan.
const TEXT_ATTENTION = /[&<>"'\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;
const ATTRIBUTE_ATTENTION = /[&<>"'\u0000-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

const REPLACEMENTS: ReadonlyMap<string, string> = new Map([
  ['&', '&amp;'],
  ['<', '&lt;'],
  // '>' only matters after ']]' in text (section 2.4), but escaping it always is simpler.
  ['>', '&gt;'],
  ['"', '&quot;'],
  ['\'', '&apos;'],
  // A literal CR would be read back as LF, a literal tab or LF in an attribute as a space.
  ['\r', '&#13;'],
  ['\t', '&#9;'],
  ['\n', '&#10;'],
]);

// Characters outside XML 1.0 section 2.2 Char cannot be written at all, not even as references;
// lone surrogates are not characters either. The parser never yields them, so one here is a bug.
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function replace(c: string): string {
  return REPLACEMENTS.get(c) ?? c;
}

function escape(value: string, special: RegExp): string {
  if (NOT_XML_CHAR.test(value)) throw new GatewayError('GW_ERR_INTERNAL', 'value holds a character XML 1.0 cannot represent');
  return value.replace(special, replace);
}

/**
 * Escapes character data for element content.
 *
 * @example escapeText('R&D <b>\r\n') // 'R&amp;D &lt;b&gt;&#13;\n'
 */
export function escapeText(value: string): string {
  return TEXT_ATTENTION.test(value) ? escape(value, TEXT_SPECIAL) : value;
}

/**
 * Escapes an attribute value for either quote character.
 *
 * @example escapeAttribute('a\tb "c"') // 'a&#9;b &quot;c&quot;'
 */
export function escapeAttribute(value: string): string {
  return ATTRIBUTE_ATTENTION.test(value) ? escape(value, ATTRIBUTE_SPECIAL) : value;
}
