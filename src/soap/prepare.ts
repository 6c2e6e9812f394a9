/**
 * Parse → validate → rebuild, as one function of the body bytes: the part of the pipeline that
 * costs CPU in proportion to the message. Used inline for ordinary messages and inside the
 * worker thread (soap/worker.ts) for large ones, so both paths run exactly the same code.
 *
 * A body of the shape Salesforce writes is read the fast way (soap/canonical.ts, no element
 * tree, values copied as bytes into the rebuilt body); any other goes the general way (the
 * scanner, the envelope reader and the model's builders), which also gives every rejection its
 * code. Both give the same head and the same bytes for what the fast way accepts.
 */
import { buildCanonicalBody } from '../forward/canonical-body.js';
import { buildJsonRequest } from '../forward/json-body.js';
import { buildSoapRequest } from '../forward/soap-body.js';
import type { ForwardBody } from '../forward/upstream.js';
import type { RouteFormat } from '../config/types.js';
import { readCanonical } from './canonical.js';
import { readOutboundMessage } from './envelope.js';
import { checkLimits, parseXml } from './parser.js';
import type { MessageHead, OutboundMessage, XmlLimits } from './types.js';

export interface PrepareOptions {
  readonly format: RouteFormat;
  readonly forwardSessionId: boolean;
  readonly limits: XmlLimits;
}

/** Which reader took the message: the fast way for Salesforce's own layout, or the general one. */
export type ParseWay = 'fast' | 'general';

export interface Prepared {
  /** What policy and the logs need; the SessionId and the field values are only in forwardBody. */
  readonly message: MessageHead;
  /** The sanitized body for the route's format, rebuilt from the validated message. */
  readonly forwardBody: ForwardBody;
  readonly way: ParseWay;
}

/**
 * Throws a GatewayError (GW_ERR_XML_*, GW_ERR_SOAP_*, GW_ERR_ID_INVALID, …) for a bad message.
 * The rebuilt body may be in parts, some of them parts of `body` that were checked to be exactly
 * what the writer would write: `body` must not change while the rebuilt body is in use.
 */
export function prepareMessage(body: Buffer, opts: PrepareOptions): Prepared {
  checkLimits(opts.limits);
  const canonical = readCanonical(body, opts.limits);
  if (canonical !== undefined) {
    const { organizationId, actionId, enterpriseUrl, partnerUrl, notifications } = canonical;
    // Its notifications hold ids, types and offsets only (nothing of the body): kept as they are.
    const message = { organizationId, actionId, enterpriseUrl, partnerUrl, notifications };
    return { message, forwardBody: buildCanonicalBody(canonical, opts.format, opts.forwardSessionId), way: 'fast' };
  }
  const message = readOutboundMessage(parseXml(body, opts.limits));
  return { message: headOf(message), forwardBody: buildForwardBody(message, opts.format, opts.forwardSessionId), way: 'general' };
}

/** The sanitized body for a route: a clean SOAP envelope or the JSON document, as bytes. */
export function buildForwardBody(message: OutboundMessage, format: RouteFormat, forwardSessionId: boolean): Buffer {
  const built = format === 'soap'
    ? buildSoapRequest(message, { forwardSessionId })
    : buildJsonRequest(message, { forwardSessionId });
  return typeof built === 'string' ? Buffer.from(built) : built;
}

/**
 * The head of a message, with nothing else: no SessionId, no field values, and none of the
 * reader's tables, so that what the request keeps (and what the worker sends back) is small.
 */
export function headOf(message: MessageHead): MessageHead {
  return {
    organizationId: message.organizationId,
    actionId: message.actionId,
    enterpriseUrl: message.enterpriseUrl,
    partnerUrl: message.partnerUrl,
    notifications: message.notifications.map((n) => ({ id: n.id, type: n.type })),
  };
}
