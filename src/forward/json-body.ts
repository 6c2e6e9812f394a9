/**
 * The JSON body forwarded to an internal service, written from the validated model only (STYLE.md
 * habit 7). Field keys are sObject field names, which come from the network: they go into
 * null-prototype objects, so a field named `__proto__` becomes an ordinary own key instead of
 * reaching Object.prototype's setter and vanishing from the output.
 */
import type { NotificationHead, OutboundMessage } from '../soap/types.js';
import type { EnvelopeHead, ForwardBodyOptions } from './soap-body.js';

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
  return JSON.stringify(headObject(msg, opts, notifications));
}

function headObject(msg: EnvelopeHead, opts: ForwardBodyOptions, notifications: unknown[]): object {
  return {
    organizationId: msg.organizationId,
    actionId: msg.actionId,
    ...(opts.forwardSessionId && msg.sessionId !== null ? { sessionId: msg.sessionId } : {}),
    enterpriseUrl: msg.enterpriseUrl,
    partnerUrl: msg.partnerUrl,
    notifications,
  };
}

/*
 * The parts of the document around the fields, for forward/canonical-body.ts, which writes the
 * same bytes from a message read the fast way. Each is JSON.stringify's own output with its
 * closing brackets cut off, so the two cannot drift apart.
 */

/** The document up to the first notification: `{…,"notifications":[`. */
export function jsonHead(msg: EnvelopeHead, opts: ForwardBodyOptions): string {
  return JSON.stringify(headObject(msg, opts, [])).slice(0, -2);
}

/** A notification up to its first field: `{"id":…,"type":…,"fields":{`; it ends with `}}`. */
export function jsonNotificationStart(notification: NotificationHead): string {
  return JSON.stringify({ id: notification.id, type: notification.type, fields: {} }).slice(0, -2);
}
