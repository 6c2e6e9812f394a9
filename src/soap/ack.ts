/**
 * Acknowledgements both ways: the SOAP answers the gateway sends to Salesforce, and the reading of
 * an internal service's answer. Salesforce counts a message as delivered only for a
 * notificationsResponse holding Ack true (shared/SALESFORCE.md "The answer"), so reading an
 * answer never guesses: anything unclear is GW_ERR_UPSTREAM_BAD_RESPONSE.
 */
import { NS_OUTBOUND, NS_SOAP11, NS_XSD, NS_XSI } from '../constants.js';
import { ERRORS, GatewayError, isGatewayError, type ErrorCode } from '../errors.js';
import { parseXml } from './parser.js';
import type { XmlElement, XmlLimits } from './types.js';
import { escapeText } from './xml-escape.js';

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/**
 * The answer to a notifications call, shaped like Salesforce's own sample (fixtures/ack.xml).
 *
 * @example ackEnvelope(true) // '<?xml …?><soapenv:Envelope …><soapenv:Body><notificationsResponse …><Ack>true</Ack>…'
 */
export function ackEnvelope(ack: boolean): string {
  return `${XML_DECLARATION}<soapenv:Envelope xmlns:soapenv="${NS_SOAP11}" xmlns:xsd="${NS_XSD}" xmlns:xsi="${NS_XSI}">`
    + `<soapenv:Body><notificationsResponse xmlns="${NS_OUTBOUND}"><Ack>${ack ? 'true' : 'false'}</Ack></notificationsResponse>`
    + '</soapenv:Body></soapenv:Envelope>';
}

/**
 * A SOAP 1.1 Fault for a rejection (SOAP 1.1 section 4.4): faultcode Client when the sender is at
 * fault (4xx), Server otherwise (5xx). The faultcode value is a QName, so the envelope prefix is
 * `soap`; faultcode and faultstring are unqualified, as section 4.4 requires.
 *
 * @example faultEnvelope('GW_ERR_ORG_DENIED') // '…<faultcode>soap:Client</faultcode><faultstring>GW_ERR_ORG_DENIED: organization is not allowed</faultstring>…'
 */
export function faultEnvelope(code: ErrorCode): string {
  const { status, message } = ERRORS[code];
  return `${XML_DECLARATION}<soap:Envelope xmlns:soap="${NS_SOAP11}"><soap:Body><soap:Fault>`
    + `<faultcode>${status >= 500 ? 'soap:Server' : 'soap:Client'}</faultcode>`
    + `<faultstring>${escapeText(`${code}: ${message}`)}</faultstring>`
    + '</soap:Fault></soap:Body></soap:Envelope>';
}

/** An acknowledgement is four elements deep and a few bytes of text; a Fault fails the limits or the checks. */
const ACK_LIMITS: XmlLimits = Object.freeze({
  maxDepth: 8,
  maxElements: 64,
  maxAttributesPerElement: 16,
  maxNameLength: 128,
  maxTextLength: 4_096,
});

// xsd:boolean collapses XML whitespace (XML Schema 1.0 part 2, section 3.2.2), and only that.
const ACK_VALUE = /^[ \t\r\n]*(true|1|false|0)[ \t\r\n]*$/;

function badResponse(detail: string): GatewayError {
  return new GatewayError('GW_ERR_UPSTREAM_BAD_RESPONSE', detail);
}

function childElements(element: XmlElement, ns: string, local: string): readonly XmlElement[] {
  return element.children.filter((child) => child.ns === ns && child.local === local);
}

/**
 * Reads an internal service's SOAP answer: true for Ack true (or 1), false for Ack false (or 0);
 * throws GW_ERR_UPSTREAM_BAD_RESPONSE for anything else, a Fault included.
 */
export function readSoapAck(body: Buffer): boolean {
  // An internal service answers with the same bytes every time: its verdict is remembered by
  // the exact bytes (the parse is a pure function of them), which spares a parse per request.
  for (const known of knownAnswers) {
    if (known.bytes.equals(body)) return known.ack;
  }
  const ack = parseSoapAck(body);
  if (body.length <= KNOWN_ANSWER_MAX_BYTES) {
    if (knownAnswers.length >= KNOWN_ANSWERS) knownAnswers.shift();
    // A copy: the answer's buffer may be a slice of a larger pooled one.
    knownAnswers.push({ bytes: Buffer.from(body), ack });
  }
  return ack;
}

/** Answers remembered with their verdict: a few services, each with its Ack true and Ack false. */
const KNOWN_ANSWERS = 8;
const KNOWN_ANSWER_MAX_BYTES = 1_024;
const knownAnswers: { readonly bytes: Buffer; readonly ack: boolean }[] = [];

function parseSoapAck(body: Buffer): boolean {
  let root: XmlElement;
  try {
    root = parseXml(body, ACK_LIMITS);
  } catch (err) {
    throw badResponse(isGatewayError(err) ? `answer is not acceptable XML (${err.code})` : 'answer is not XML');
  }
  if (root.ns !== NS_SOAP11 || root.local !== 'Envelope') throw badResponse('not a SOAP 1.1 envelope');
  const [soapBody, extraBody] = childElements(root, NS_SOAP11, 'Body');
  if (soapBody === undefined || extraBody !== undefined) throw badResponse('expected one SOAP Body');
  const [response, extra] = soapBody.children;
  if (response === undefined || extra !== undefined) throw badResponse('expected one element in the SOAP Body');
  if (response.ns === NS_SOAP11 && response.local === 'Fault') throw badResponse('SOAP Fault');
  if (response.ns !== NS_OUTBOUND || response.local !== 'notificationsResponse') throw badResponse('not a notificationsResponse');
  const [ack, extraAck] = childElements(response, NS_OUTBOUND, 'Ack');
  if (ack === undefined || extraAck !== undefined || ack.children.length > 0) throw badResponse('expected one Ack');
  switch (ACK_VALUE.exec(ack.text)?.[1]) {
    case 'true':
    case '1':
      return true;
    case 'false':
    case '0':
      return false;
    default:
      throw badResponse('Ack is not a boolean');
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Reads an internal service's JSON answer `{"ack": true|false}`; anything else throws GW_ERR_UPSTREAM_BAD_RESPONSE. */
export function readJsonAck(body: Buffer): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(UTF8.decode(body));
  } catch {
    throw badResponse('answer is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.hasOwn(parsed, 'ack')) {
    throw badResponse('answer is not an object with ack');
  }
  const { ack } = parsed as { readonly ack: unknown };
  if (typeof ack !== 'boolean') throw badResponse('ack is not a boolean');
  return ack;
}
