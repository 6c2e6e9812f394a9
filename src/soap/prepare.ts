/**
 * Parse → validate → rebuild, as one function of the body bytes: the part of the pipeline that
 * costs CPU in proportion to the message. Used inline for ordinary messages and inside the
 * worker thread (soap/worker.ts) for large ones, so both paths run exactly the same code.
 */
import { buildJsonRequest } from '../forward/json-body.js';
import { buildSoapRequest } from '../forward/soap-body.js';
import type { RouteFormat } from '../config/types.js';
import { readOutboundMessage } from './envelope.js';
import { parseXml } from './parser.js';
import type { OutboundMessage, XmlLimits } from './types.js';

export interface PrepareOptions {
  readonly format: RouteFormat;
  readonly forwardSessionId: boolean;
  readonly limits: XmlLimits;
}

export interface Prepared {
  readonly message: OutboundMessage;
  /** The sanitized body for the route's format, rebuilt from the validated model. */
  readonly forwardBody: Buffer;
}

/** Throws a GatewayError (GW_ERR_XML_*, GW_ERR_SOAP_*, GW_ERR_ID_INVALID, …) for a bad message. */
export function prepareMessage(body: Buffer, opts: PrepareOptions): Prepared {
  const message = readOutboundMessage(parseXml(body, opts.limits));
  return { message, forwardBody: buildForwardBody(message, opts.format, opts.forwardSessionId) };
}

/** The sanitized body for a route: a clean SOAP envelope or the JSON document, as bytes. */
export function buildForwardBody(message: OutboundMessage, format: RouteFormat, forwardSessionId: boolean): Buffer {
  const built = format === 'soap'
    ? buildSoapRequest(message, { forwardSessionId })
    : buildJsonRequest(message, { forwardSessionId });
  return typeof built === 'string' ? Buffer.from(built) : built;
}

/**
 * What crosses back from the worker: the model without its field values (policy needs ids,
 * types and URLs; the values are already in the rebuilt body), so the main thread never
 * deserializes megabytes of strings.
 */
export function summarize(message: OutboundMessage): OutboundMessage {
  return {
    organizationId: message.organizationId,
    actionId: message.actionId,
    sessionId: null,
    enterpriseUrl: message.enterpriseUrl,
    partnerUrl: message.partnerUrl,
    notifications: message.notifications.map((n) => ({ id: n.id, type: n.type, fields: [] })),
  };
}
