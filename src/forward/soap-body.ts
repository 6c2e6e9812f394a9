/**
 * The SOAP body forwarded to an internal service: a clean notifications envelope in Salesforce's
 * own shape (shared/SALESFORCE.md "The call", fixtures/contact-1.xml), written from the validated
 * model only, never from the bytes received (STYLE.md habit 7). Every value is escaped so that a
 * conforming parser reads back exactly what Salesforce sent.
 *
 * It is built as one string of UTF-8 bytes held one a character (textBytes), then copied into a
 * Buffer as Latin-1: a string with a single character above U+00FF would be stored two bytes a
 * character and need the UTF-8 encoder over the whole body (1.3 ms for the 75 KB
 * contact-100.xml when it was built that way; bench/xml-scanner.mjs).
 */
import { NS_OUTBOUND, NS_SOAP11, NS_SOBJECT, NS_XSD, NS_XSI } from '../constants.js';
import { GatewayError } from '../errors.js';
import { SOBJECT_NAME } from '../soap/envelope.js';
import type { Notification, NotificationHead, OutboundMessage } from '../soap/types.js';
import { escapeText } from '../soap/xml-escape.js';

export interface ForwardBodyOptions {
  /** The SessionId is a live credential: forwarded only when the route opts in. */
  readonly forwardSessionId: boolean;
}

const HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
  + `<soapenv:Envelope xmlns:soapenv="${NS_SOAP11}" xmlns:xsd="${NS_XSD}" xmlns:xsi="${NS_XSI}">\n`
  + ' <soapenv:Body>\n'
  + `  <notifications xmlns="${NS_OUTBOUND}">\n`;
const SOBJECT_NS = ` xmlns:sf="${NS_SOBJECT}"`;

/**
 * The parts of the body around the field values, shared with forward/canonical-body.ts, which
 * writes the same bytes from a message read the fast way.
 */
export const SOAP_TAIL = '  </notifications>\n'
  + ' </soapenv:Body>\n'
  + '</soapenv:Envelope>\n';
export const SOAP_NOTIFICATION_END = '    </sObject>\n   </Notification>\n';
/** A field is FIELD_START name FIELD_NIL, or FIELD_START name '>' value FIELD_CLOSE name FIELD_END. */
export const SOAP_FIELD_START = '     <sf:';
export const SOAP_FIELD_NIL = ' xsi:nil="true"/>\n';
export const SOAP_FIELD_CLOSE = '</sf:';
export const SOAP_FIELD_END = '>\n';

/**
 * Names become element names unescaped, so one that is not an API name is a bug upstream.
 * `checked` holds the names already checked for this body: a message repeats a few dozen.
 */
export function apiName(name: string, checked: Set<string>): string {
  if (checked.has(name)) return name;
  if (!SOBJECT_NAME.test(name)) throw new GatewayError('GW_ERR_INTERNAL', 'model holds an invalid sObject or field name');
  checked.add(name);
  return name;
}

/** A notification up to its first field; the whole of it when it has none. */
export function soapNotificationStart(notification: NotificationHead, empty: boolean, checked: Set<string>): string {
  const type = notification.type === null ? '' : ` xsi:type="sf:${apiName(notification.type, checked)}"`;
  const xml = `   <Notification>\n    <Id>${textBytes(notification.id)}</Id>\n    <sObject${type}${SOBJECT_NS}`;
  return empty ? `${xml}/>\n   </Notification>\n` : `${xml}>\n`;
}

function notificationXml(notification: Notification, checked: Set<string>): string {
  if (notification.fields.length === 0) return soapNotificationStart(notification, true, checked);
  let xml = soapNotificationStart(notification, false, checked);
  for (const { name, value } of notification.fields) {
    const tag = apiName(name, checked);
    xml += value === null
      ? SOAP_FIELD_START + tag + SOAP_FIELD_NIL
      : `${SOAP_FIELD_START}${tag}>${textBytes(value)}${SOAP_FIELD_CLOSE}${tag}${SOAP_FIELD_END}`;
  }
  return xml + SOAP_NOTIFICATION_END;
}

/**
 * Characters a value can hold and be written as it is: ASCII that needs no escaping (escapeText
 * escapes & < > " ' and CR). Anything else goes through escapeText and, if not ASCII, becomes its
 * UTF-8 bytes, one character a byte.
 */
const NEEDS_WORK = /[^\t\n\x20\x21\x23-\x25\x28-\x3b\x3d\x3f-\x7e]/;
const NOT_ASCII = /[^\x00-\x7f]/;

/**
 * A value escaped for element content, as UTF-8 bytes held one a character (a "binary" string).
 * The whole body is built from such strings and ASCII markup, so it is one string of one-byte
 * characters that Buffer.from(…, 'latin1') copies as it is: no UTF-8 encoder runs over the
 * markup and the ASCII values, which are nearly all of a message.
 */
function textBytes(value: string): string {
  if (!NEEDS_WORK.test(value)) return value;
  const escaped = escapeText(value);
  return NOT_ASCII.test(escaped) ? Buffer.from(escaped, 'utf8').toString('latin1') : escaped;
}

/** What the envelope says before the notifications. */
export type EnvelopeHead = Omit<OutboundMessage, 'notifications'>;

/**
 * The envelope up to the first Notification, as UTF-8 bytes held one a character. SessionId is
 * `xsi:nil` unless the route forwards it and Salesforce sent one.
 */
export function soapHead(msg: EnvelopeHead, opts: ForwardBodyOptions): string {
  const session = opts.forwardSessionId && msg.sessionId !== null
    ? `<SessionId>${textBytes(msg.sessionId)}</SessionId>`
    : '<SessionId xsi:nil="true"/>';
  return HEAD
    + `   <OrganizationId>${textBytes(msg.organizationId)}</OrganizationId>\n`
    + `   <ActionId>${textBytes(msg.actionId)}</ActionId>\n`
    + `   ${session}\n`
    + `   <EnterpriseUrl>${textBytes(msg.enterpriseUrl)}</EnterpriseUrl>\n`
    + `   <PartnerUrl>${textBytes(msg.partnerUrl)}</PartnerUrl>\n`;
}

/**
 * Builds the notifications envelope for `msg`, as UTF-8.
 *
 * @example buildSoapRequest(msg, { forwardSessionId: false }).toString() // '<?xml …?>\n<soapenv:Envelope …'
 */
export function buildSoapRequest(msg: OutboundMessage, opts: ForwardBodyOptions): Buffer {
  let xml = soapHead(msg, opts);
  const checked = new Set<string>();
  for (const notification of msg.notifications) xml += notificationXml(notification, checked);
  return Buffer.from(xml + SOAP_TAIL, 'latin1');
}
