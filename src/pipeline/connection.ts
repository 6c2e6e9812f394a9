/**
 * Where a request stands on its connection, for pipelining (RFC 9112 section 9.3.2). Node emits
 * every pipelined request as soon as it is parsed and queues the answers; when one answer closes
 * the connection (a refusal that left its body unread, the last of maxRequestsPerSocket), the
 * answers queued behind it are never sent. Those requests must not be forwarded: the internal
 * service would receive messages that no answer went back for.
 */
import { GatewayError } from '../errors.js';
import type { RequestContext } from './context.js';

/** Position of the request whose answer closes the connection. */
const closingAt = new WeakMap<object, number>();

/** Marks the last request a connection may carry. Runs when Node emits the request (the first stage). */
export function enterConnection(ctx: RequestContext): void {
  if (ctx.lastOnConnection) closeAfter(ctx);
}

/** The connection closes after this request's answer. */
export function closeAfter(ctx: RequestContext): void {
  const position = ctx.positionOnConnection;
  const socket = ctx.req.socket;
  const current = closingAt.get(socket);
  if (current === undefined || position < current) closingAt.set(socket, position);
}

/**
 * Throws when this request can no longer be answered: the client closed the connection (Node
 * then aborts the request, and ends the socket even after a half-close), or an earlier answer on
 * the connection closes it.
 */
export function checkAnswerable(ctx: RequestContext): void {
  if (clientGone(ctx)) throw new GatewayError('GW_ERR_CLIENT_CLOSED', 'connection closed before the answer');
  const closing = closingAt.get(ctx.req.socket);
  if (closing !== undefined && ctx.positionOnConnection > closing) {
    throw new GatewayError('GW_ERR_BAD_REQUEST', 'pipelined behind the last answer on its connection');
  }
}

/** The answer can no longer be written: the connection is closed or its sending side ended. */
export function clientGone(ctx: RequestContext): boolean {
  const socket = ctx.req.socket;
  return ctx.res.destroyed || socket.destroyed || !socket.writable;
}
