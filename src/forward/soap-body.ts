/**
 * The SOAP body forwarded to an internal service: a clean notifications envelope in Salesforce's
 * own shape (shared/SALESFORCE.md "The call", fixtures/contact-1.xml), written from the validated
 * model only, never from the bytes received (STYLE.md habit 7). Every value is escaped so that a
 * conforming parser reads back exactly what Salesforce sent.
 */
import { NS_OUTBOUND, NS_SOAP11, NS_SOBJECT, NS_XSD, NS_XSI } from '../constants.js';
import { GatewayError } from '../errors.js';
import { SOBJECT_NAME } from '../soap/envelope.js';
import type { Notification, OutboundMessage } from '../soap/types.js';
import { escapeText } from '../soap/xml-escape.js';

export interface ForwardBodyOptions {
  /** The SessionId is a live credential: forwarded only when the route opts in. */
  readonly forwardSessionId: boolean;
}

/** Names become element names unescaped, so one that is not an API name is a bug upstream. */
function apiName(name: string): string {
  if (!SOBJECT_NAME.test(name)) throw new GatewayError('GW_ERR_INTERNAL', 'model holds an invalid sObject or field name');
  return name;
}

function sObject(notification: Notification): string {
  const type = notification.type === null ? '' : ` xsi:type="sf:${apiName(notification.type)}"`;
  const open = `    <sObject${type} xmlns:sf="${NS_SOBJECT}"`;
  if (notification.fields.length === 0) return `${open}/>\n`;
  const fields = notification.fields.map(({ name, value }) => {
    const tag = `sf:${apiName(name)}`;
    return value === null ? `     <${tag} xsi:nil="true"/>\n` : `     <${tag}>${escapeText(value)}</${tag}>\n`;
  });
  return `${open}>\n${fields.join('')}    </sObject>\n`;
}

/**
 * Builds the notifications envelope for `msg`. SessionId is `xsi:nil` unless the route forwards
 * it and Salesforce sent one.
 *
 * @example buildSoapRequest(msg, { forwardSessionId: false }) // '<?xml …?>\n<soapenv:Envelope …'
 */
export function buildSoapRequest(msg: OutboundMessage, opts: ForwardBodyOptions): string {
  const session = opts.forwardSessionId && msg.sessionId !== null
    ? `<SessionId>${escapeText(msg.sessionId)}</SessionId>`
    : '<SessionId xsi:nil="true"/>';
  const notifications = msg.notifications.map((notification) =>
    '   <Notification>\n'
    + `    <Id>${escapeText(notification.id)}</Id>\n`
    + sObject(notification)
    + '   </Notification>\n');
  return '<?xml version="1.0" encoding="UTF-8"?>\n'
    + `<soapenv:Envelope xmlns:soapenv="${NS_SOAP11}" xmlns:xsd="${NS_XSD}" xmlns:xsi="${NS_XSI}">\n`
    + ' <soapenv:Body>\n'
    + `  <notifications xmlns="${NS_OUTBOUND}">\n`
    + `   <OrganizationId>${escapeText(msg.organizationId)}</OrganizationId>\n`
    + `   <ActionId>${escapeText(msg.actionId)}</ActionId>\n`
    + `   ${session}\n`
    + `   <EnterpriseUrl>${escapeText(msg.enterpriseUrl)}</EnterpriseUrl>\n`
    + `   <PartnerUrl>${escapeText(msg.partnerUrl)}</PartnerUrl>\n`
    + notifications.join('')
    + '  </notifications>\n'
    + ' </soapenv:Body>\n'
    + '</soapenv:Envelope>\n';
}
