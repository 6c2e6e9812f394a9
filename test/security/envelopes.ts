/**
 * Builds notifications envelopes for the hostile-input suites: Salesforce's shape by default
 * (fixtures/contact-1.xml), every part replaceable by raw XML. The default message carries a live
 * looking SessionId and a marker value, so every case also checks that neither reaches a log.
 */
import { FIXTURE_ORG } from '../helpers/gateway.js';
import { toId18 } from '../../src/policy/ids.js';
import { SECRET_SESSION } from './expect-rejected.js';

export const NS = Object.freeze({
  soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  soap12: 'http://www.w3.org/2003/05/soap-envelope',
  outbound: 'http://soap.sforce.com/2005/09/outbound',
  sobject: 'urn:sobject.enterprise.soap.sforce.com',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
});

/** A field value that must never appear in a log line (raw body content). */
export const BODY_MARKER = 'RawBodyMarker-7f3a9c';
export const ACTION_ID = '04k5g000000Gm3QAAS';
export const ENTERPRISE_URL = 'https://acme-corp.my.salesforce.com/services/Soap/c/61.0/00D5g000004XyZq';
export const PARTNER_URL = 'https://acme-corp.my.salesforce.com/services/Soap/u/61.0/00D5g000004XyZq';

/** The n-th notification id (`04l…`, 18 characters with a correct checksum). */
export function notificationId(n: number): string {
  return toId18(`04l5g0000b${String(n).padStart(5, '0')}`) as string;
}

export const DEFAULT_FIELDS =
  '<sf:Id>0035g0000IqDoXoAQK</sf:Id>'
  + `<sf:Email>hiroshi.obrien@example.com</sf:Email><sf:Title>${BODY_MARKER}</sf:Title>`;

export interface NotificationOptions {
  readonly id?: string;
  /** Raw attributes of sObject (default: xsi:type="sf:Contact" xmlns:sf=…). */
  readonly sObjectAttributes?: string;
}

/** One `<Notification>` with `fields` (raw XML) inside its sObject. */
export function notification(fields: string = DEFAULT_FIELDS, opts: NotificationOptions = {}, n = 1): string {
  const attributes = opts.sObjectAttributes ?? `xsi:type="sf:Contact" xmlns:sf="${NS.sobject}"`;
  return `<Notification><Id>${opts.id ?? notificationId(n)}</Id><sObject ${attributes}>${fields}</sObject></Notification>`;
}

export interface EnvelopeOptions {
  /** Everything before the root element (default: the UTF-8 XML declaration). */
  readonly prolog?: string;
  /** Namespace of the Envelope element. */
  readonly envelopeNs?: string;
  /** Raw XML between `<soapenv:Envelope …>` and `<soapenv:Body>` (e.g. a Header). */
  readonly beforeBody?: string;
  /** Raw XML after `</soapenv:Body>`. */
  readonly afterBody?: string;
  /** Namespace of the notifications element and its children. */
  readonly outboundNs?: string;
  readonly organizationId?: string;
  readonly actionId?: string;
  /** Raw SessionId element (default: one holding SECRET_SESSION). */
  readonly session?: string;
  readonly enterpriseUrl?: string;
  readonly partnerUrl?: string;
  /** Raw XML replacing the five header fields. */
  readonly headerFields?: string;
  /** Raw `<Notification>` elements (default: one). */
  readonly notifications?: readonly string[];
}

/**
 * A notifications envelope.
 *
 * @example envelope({ organizationId: '00D000000000002EAA' })
 */
export function envelope(o: EnvelopeOptions = {}): string {
  const headerFields = o.headerFields ?? (
    `<OrganizationId>${o.organizationId ?? FIXTURE_ORG}</OrganizationId>`
    + `<ActionId>${o.actionId ?? ACTION_ID}</ActionId>`
    + (o.session ?? `<SessionId>${SECRET_SESSION}</SessionId>`)
    + `<EnterpriseUrl>${o.enterpriseUrl ?? ENTERPRISE_URL}</EnterpriseUrl>`
    + `<PartnerUrl>${o.partnerUrl ?? PARTNER_URL}</PartnerUrl>`);
  return (o.prolog ?? '<?xml version="1.0" encoding="UTF-8"?>\n')
    + `<soapenv:Envelope xmlns:soapenv="${o.envelopeNs ?? NS.soap11}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="${NS.xsi}">`
    + (o.beforeBody ?? '')
    + '<soapenv:Body>'
    + `<notifications xmlns="${o.outboundNs ?? NS.outbound}">`
    + headerFields
    + (o.notifications ?? [notification()]).join('')
    + '</notifications>'
    + '</soapenv:Body>'
    + (o.afterBody ?? '')
    + '</soapenv:Envelope>';
}

/** `count` notifications, each with distinct ids. */
export function notifications(count: number, fields: string = DEFAULT_FIELDS): string[] {
  return Array.from({ length: count }, (_, i) => notification(fields, {}, i + 1));
}
