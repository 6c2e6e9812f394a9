/**
 * The one runner: stages in order, the first GatewayError answers, anything else is a 500 that
 * never leaks its message. Emits exactly one decision per request for logs and metrics.
 */
import { GatewayError, isGatewayError, type ErrorCode } from '../errors.js';
import { discardBody } from '../http/read-body.js';
import { sendAck, sendFault } from '../http/respond.js';
import type { GatewayEvents, RequestDecision } from '../observability/events.js';
import { clientGone, closeAfter } from './connection.js';
import type { RequestContext } from './context.js';
import type { Stage } from './stages.js';

export async function runPipeline(ctx: RequestContext, stages: readonly Stage[], events: GatewayEvents): Promise<void> {
  let error: GatewayError | null = null;
  try {
    for (const stage of stages) {
      // Most stages are synchronous: awaiting only what returns a promise saves a microtask
      // turn per stage.
      const pending = stage.run(ctx);
      if (pending !== undefined) await pending;
    }
  } catch (err) {
    error = isGatewayError(err) ? err : new GatewayError('GW_ERR_INTERNAL', describeUnexpected(err));
  }

  // Whoever answers logs: a request already answered elsewhere (a timeout raised by Node's HTTP
  // server, a forced answer while stopping) has had its decision published there.
  if (ctx.res.headersSent) return;
  if (clientGone(ctx)) {
    // Nobody is left to answer, but the decision is still published (upstreamStatus tells
    // whether the internal service got the message; Salesforce will send it again).
    events.emit('request', decisionOf(ctx, error ?? new GatewayError('GW_ERR_CLIENT_CLOSED', 'connection closed before the answer')));
    return;
  }
  if (error) {
    // A body left unread (or half read) makes the connection unusable: close it after the answer.
    const close = !ctx.bodyConsumed || ctx.lastOnConnection;
    if (close) closeAfter(ctx);
    if (!ctx.bodyConsumed && error.code !== 'GW_ERR_OVERLOADED') {
      // Refused before its body was read: take the body in first (and throw it away), so that the
      // close does not reset the connection under the answer. Shedding stays cheap instead.
      await discardBody(ctx.req, ctx.runtime.config.limits.maxBodyBytes);
      if (ctx.res.headersSent) return; // answered meanwhile (a timeout), and logged there
      if (clientGone(ctx)) {
        events.emit('request', decisionOf(ctx, error));
        return;
      }
    }
    sendFault(ctx.res, error.code, ctx.requestId, close);
  } else {
    sendAck(ctx.res, ctx.ack === true, ctx.requestId, ctx.lastOnConnection);
  }
  events.emit('request', decisionOf(ctx, error));
}

export function decisionOf(ctx: RequestContext, error: GatewayError | null): RequestDecision {
  const msg = ctx.message;
  const summary = ctx.summary;
  let outcome: RequestDecision['outcome'];
  let reason: ErrorCode | 'OK' | 'UPSTREAM_NACK';
  if (error) {
    outcome = error.status >= 500 ? 'failed' : 'rejected';
    reason = error.code;
  } else if (ctx.ack === true) {
    outcome = 'acked';
    reason = 'OK';
  } else {
    outcome = 'nacked';
    reason = 'UPSTREAM_NACK';
  }
  return {
    requestId: ctx.requestId,
    outcome,
    reason,
    status: error ? error.status : 200,
    remoteAddress: ctx.remoteAddress,
    clientCertFingerprint: ctx.clientCertFingerprint,
    route: ctx.route?.path ?? null,
    organizationId: msg?.organizationId ?? summary?.organizationId ?? null,
    actionId: msg?.actionId ?? summary?.actionId ?? null,
    notificationCount: msg?.notifications.length ?? summary?.notificationCount ?? null,
    parseWay: ctx.parseWay,
    upstreamStatus: ctx.upstreamStatus,
    durationMs: Math.round((performance.now() - ctx.startedAt) * 1000) / 1000,
    upstreamDurationMs: ctx.upstreamDurationMs === null ? null : Math.round(ctx.upstreamDurationMs * 1000) / 1000,
    detail: error?.detail,
  };
}

/** An unexpected exception's class name only: its message may hold paths or data. */
function describeUnexpected(err: unknown): string {
  return err instanceof Error ? `unexpected ${err.name}` : 'unexpected throw';
}
