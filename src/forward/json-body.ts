/**
 * The JSON body forwarded to an internal service, written from the validated model only (STYLE.md
 * habit 7). Field keys are sObject field names, which come from the network: they go into
 * null-prototype objects, so a field named `__proto__` becomes an ordinary own key instead of
 * reaching Object.prototype's setter and vanishing from the output.
 */
import type { OutboundMessage } from '../soap/types.js';
import type { ForwardBodyOptions } from './soap-body.js';

/**
 * Builds `{ organizationId, actionId, [sessionId], enterpriseUrl, partnerUrl,
 * notifications: [{ id, type, fields: { <name>: value | null } }] }`. `sessionId` is present only
 * when the route forwards it and Salesforce sent one.
 *
 * @example JSON.parse(buildJsonRequest(msg, { forwardSessionId: false })).notifications[0].fields.Email
 */
export function buildJsonRequest(msg: OutboundMessage, opts: ForwardBodyOptions): string {
  const notifications = msg.notifications.map((notification) => {
    const fields: Record<string, string | null> = Object.create(null) as Record<string, string | null>;
    // Field names start with a letter (soap/envelope.ts SOBJECT_NAME), so none is an array index
    // and JSON.stringify keeps them in document order.
    for (const { name, value } of notification.fields) fields[name] = value;
    return { id: notification.id, type: notification.type, fields };
  });
  const body = {
    organizationId: msg.organizationId,
    actionId: msg.actionId,
    ...(opts.forwardSessionId && msg.sessionId !== null ? { sessionId: msg.sessionId } : {}),
    enterpriseUrl: msg.enterpriseUrl,
    partnerUrl: msg.partnerUrl,
    notifications,
  };
  return JSON.stringify(body);
}
