/**
 * The shape soap/canonical.ts reads, byte for byte: Salesforce's fixed markup, the limits below
 * which that shape could be refused, what each byte of a value asks of the reader and the
 * writers, and the layout of the field table the reader fills.
 */

export function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

export const DECLARATION = ascii('<?xml version="1.0" encoding="UTF-8"?>');
export const ENVELOPE_START = ascii('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
  + ' xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">');
export const BODY_START = ascii('<soapenv:Body>');
export const CALL_START = ascii('<notifications xmlns="http://soap.sforce.com/2005/09/outbound">');
export const SESSION_NIL = ascii('<SessionId xsi:nil="true"/>');
export const NOTIFICATION_START = ascii('<Notification>');
export const NOTIFICATION_END = ascii('</Notification>');
export const SOBJECT_TYPE = ascii('<sObject xsi:type="sf:');
export const SOBJECT_NS = ascii('" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"');
export const SOBJECT_END = ascii('</sObject>');
export const FIELD_START = ascii('<sf:');
export const FIELD_END = ascii('</sf:');
export const FIELD_NIL = ascii(' xsi:nil="true"/>');
export const TAIL = ['</notifications>', '</soapenv:Body>', '</soapenv:Envelope>'].map(ascii);
/** The call's own elements read by #simple. */
export const ORGANIZATION_ID = ascii('OrganizationId');
export const ACTION_ID = ascii('ActionId');
export const SESSION_ID = ascii('SessionId');
export const ENTERPRISE_URL = ascii('EnterpriseUrl');
export const PARTNER_URL = ascii('PartnerUrl');
export const ID = ascii('Id');

/**
 * Elements outside the notifications, and per notification besides its fields. The scanner also
 * caps attributes (namespace declarations included) at maxElements, but in this shape every
 * attribute sits on an element that is counted and there are more elements than attributes
 * (4 + 2 a notification + 1 per nil field or SessionId, against 8 + 3 + 1 per field).
 */
export const HEAD_ELEMENTS = 8;
export const NOTIFICATION_ELEMENTS = 3;

/** The element-only elements, for counting their whitespace. */
export const ENVELOPE = 0;
export const BODY = 1;
export const CALL = 2;
export const NOTIFICATION = 3;
export const SOBJECT = 4;

/** Limits below these could refuse a message of this shape: such a configuration takes the general way. */
export const MIN_DEPTH = 6;
export const MIN_ATTRIBUTES_PER_ELEMENT = 3;
/** 'soapenv:Envelope', and 'sf:' + an 80-character API name. */
export const MIN_NAME_LENGTH = 83;
/** The namespace URIs and 'sf:' + an API name, as attribute values. */
export const MIN_TEXT_LENGTH = 128;

/** API names (envelope.ts SOBJECT_NAME): a letter, then letters, digits and '_', 80 at most. */
export const API_NAME_MAX = 80;


export const LT = 0x3c;
export const GT = 0x3e;
export const AMP = 0x26;
const QUOTE = 0x22;
export const SLASH = 0x2f;
export const COLON = 0x3a;
export const SPACE = 0x20;
export const RBRACKET = 0x5d;

/** What a byte of character data asks of the reader and of the writers. */
export const V_STOP = 1; // '<': the value ends (anything but its end tag sends the message the general way)
export const V_AMP = 2; // a reference: one of the five predefined entities, or the general way
export const V_CR = 4; // a CR: line ends are normalised to LF (XML 1.0 section 2.11)
export const V_BAD = 8; // a C0 control other than tab, LF and CR: not an XML Char
export const V_XML = 16; // '"', "'" or '>': escaped in XML output (soap/xml-escape.ts escapeText)
export const V_JSON = 32; // '"', '\', tab or LF: escaped in JSON output
export const V_HIGH = 64; // part of a multi-byte UTF-8 sequence
export const V_EF = 128; // lead byte of U+F000..U+FFFF, which include the non-characters U+FFFE and U+FFFF

export const VALUE_CLASS = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) VALUE_CLASS[c] = V_BAD;
VALUE_CLASS[0x09] = V_JSON;
VALUE_CLASS[0x0a] = V_JSON;
VALUE_CLASS[0x0d] = V_CR;
VALUE_CLASS[QUOTE] = V_XML | V_JSON;
VALUE_CLASS[0x27] = V_XML;
VALUE_CLASS[GT] = V_XML;
VALUE_CLASS[0x5c] = V_JSON;
VALUE_CLASS[AMP] = V_AMP;
VALUE_CLASS[LT] = V_STOP;
for (let c = 0x80; c < 0x100; c++) VALUE_CLASS[c] = V_HIGH;
VALUE_CLASS[0xef] = V_HIGH | V_EF;

/** ASCII letters, and letters, digits and '_'. */
export const LETTER = new Uint8Array(256);
export const API_CHAR = new Uint8Array(256);
for (let c = 0; c < 128; c++) {
  const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  LETTER[c] = letter ? 1 : 0;
  API_CHAR[c] = letter || (c >= 0x30 && c <= 0x39) || c === 0x5f ? 1 : 0;
}

/** The five predefined entities (XML 1.0 section 4.6), without '&'. */
export const ENTITIES = ['amp;', 'lt;', 'gt;', 'quot;', 'apos;'].map(ascii);
export const ENTITY_CHARS: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: '\'' };
export const ENTITY = /&(amp|lt|gt|quot|apos);/g;
export const LINE_END = /\r\n?/g;

/** Slots of one field in CanonicalMessage.fields. */
export const FIELD_SLOTS = 5;
export const F_NAME = 0;
export const F_NAME_END = 1;
/** -1 for an xsi:nil field. */
export const F_VALUE = 2;
export const F_VALUE_END = 3;
/** OR of the value's VALUE_CLASS bits. */
export const F_FLAGS = 4;

/** Whether the bytes at i are `literal`. */
export function at(b: Uint8Array, i: number, literal: Uint8Array): boolean {
  if (i < 0 || i + literal.length > b.length) return false;
  for (let k = 0; k < literal.length; k++) if (b[i + k] !== literal[k]) return false;
  return true;
}

/** A fixed part: advance past `literal` at i, or -1. */
export function expect(b: Uint8Array, i: number, literal: Uint8Array): number {
  return at(b, i, literal) ? i + literal.length : -1;
}

/** XML 1.0 section 2.3 S between elements (element-only content: ignorable). */
export function skipSpace(b: Uint8Array, i: number): number {
  for (;;) {
    const c = b[i];
    if (c !== SPACE && c !== 0x0a && c !== 0x09 && c !== 0x0d) return i;
    i++;
  }
}
