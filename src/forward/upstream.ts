/**
 * The client for internal services: pooled keep-alive connections, one deadline per exchange,
 * a cap on the answer's size, and no redirect ever followed (undici's dispatcher follows none; a
 * 3xx is just an answer that is not an Ack). Errors are mapped to stable codes; the target
 * address, errno and library names stay in the log detail, never in the answer to Salesforce.
 *
 * Built on undici's dispatch API rather than node:http's client: the same exchange costs about
 * 25 µs of CPU instead of 45 here (bench/README.md), and no stream objects are made per answer.
 */
import type { Socket } from 'node:net';
import { Agent, buildConnector, Client, type Dispatcher } from 'undici';
import { GatewayError } from '../errors.js';
import { BodyBuffers } from '../http/body-buffers.js';

/**
 * Errors of a connection that broke before any answer: most often a pooled connection the
 * service closed while idle, its keep-alive timeout racing our reuse (see the retry in send).
 */
const BROKEN_CONNECTION: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/** Largest answer read from an internal service: an Ack envelope is a few hundred bytes. */
export const MAX_UPSTREAM_ANSWER_BYTES = 64 * 1024;

/** A body to send: one buffer, or parts sent one after another (forward/canonical-body.ts). */
export type ForwardBody = Buffer | readonly Buffer[];

export function bodyLength(body: ForwardBody): number {
  if (Buffer.isBuffer(body)) return body.length;
  let length = 0;
  for (const part of body) length += part.length;
  return length;
}

/** The body as one buffer (a copy when it is in parts). */
export function joinBody(body: ForwardBody): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.concat(body);
}

export interface UpstreamRequest {
  readonly target: URL;
  readonly body: ForwardBody;
  readonly contentType: string;
  readonly requestId: string;
  readonly timeoutMs: number;
  readonly soapAction?: string;
}

export interface UpstreamAnswer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

interface RequestTarget {
  /** scheme://host:port, as undici's dispatcher takes it. */
  readonly origin: string;
  readonly path: string;
}

/** Origin and path of each configured target, read once. */
const requestTargets = new WeakMap<URL, RequestTarget>();

function requestTarget(url: URL): RequestTarget {
  let target = requestTargets.get(url);
  if (target === undefined) {
    // Targets carry no user information (config/schema-routes.ts refuses it).
    target = Object.freeze({ origin: url.origin, path: url.pathname + url.search });
    requestTargets.set(url, target);
  }
  return target;
}

/**
 * Connection settings. The exchange's deadline is send()'s own timer, not undici's headers and
 * body timeouts (those restart with each byte: an answer that trickles in would never end).
 */
const CONNECTIONS = { pipelining: 1, headersTimeout: 0, bodyTimeout: 0 } as const;

export class UpstreamClient {
  /** Every open connection to an internal service, to tell when no write is pending on any. */
  readonly #sockets = new Set<Socket>();
  readonly #connect: buildConnector.connector;
  readonly #agent: Agent;
  /**
   * Buffers for bodies in parts. One given back may still be queued on a connection (a service
   * can answer before it has read the whole body), so it is reused only once no connection has
   * a byte left to write: then no write in progress can be holding it.
   */
  readonly #buffers = new BodyBuffers(undefined, () => this.#allWritten());

  constructor() {
    const connect = buildConnector({});
    this.#connect = (options, callback) => {
      connect(options, (...args) => {
        // On an error undici passes the error alone.
        const socket = args[1];
        if (socket) {
          this.#sockets.add(socket);
          socket.once('close', () => this.#sockets.delete(socket));
        }
        callback(...args);
      });
    };
    this.#agent = new Agent({ ...CONNECTIONS, connections: 256, connect: this.#connect });
  }

  /**
   * No connection has bytes queued or being written. A destroyed one counts as busy until it is
   * closed: only then has the system released what it was writing.
   */
  #allWritten(): boolean {
    for (const socket of this.#sockets) if (socket.destroyed || socket.writableLength > 0) return false;
    return true;
  }

  /** The body as one buffer: parts are copied into a reused one when it is not too large. */
  #join(body: ForwardBody): { data: Buffer; pooled: boolean } {
    if (Buffer.isBuffer(body)) return { data: body, pooled: false };
    const into = this.#buffers.take(bodyLength(body));
    if (into === null) return { data: Buffer.concat(body), pooled: false };
    let at = 0;
    for (const part of body) at += part.copy(into, at);
    return { data: into, pooled: true };
  }

  /** Sends one request; resolves with the answer or rejects with a GatewayError (502/504). */
  send(request: UpstreamRequest): Promise<UpstreamAnswer> {
    const { origin, path } = requestTarget(request.target);
    const { body } = request;
    const connect = this.#connect;
    // Every header is built here: nothing from the incoming request is passed on.
    const headers = [
      'content-type', request.contentType,
      'content-length', String(bodyLength(body)),
      'x-request-id', request.requestId,
      'accept', request.soapAction === undefined ? 'application/json' : 'text/xml',
    ];
    if (request.soapAction !== undefined) headers.push('soapaction', request.soapAction);
    // Parts are copied into one buffer here, at once: they may point into the received body,
    // whose buffer is reused when the request ends (http/body-buffers.ts).
    const sent = this.#join(body);
    const options: Dispatcher.DispatchOptions = { origin, path, method: 'POST', headers, body: sent.data };

    return new Promise<UpstreamAnswer>((resolve, reject) => {
      let settled = false;
      let current: Dispatcher.DispatchController | null = null;
      let retryClient: Client | null = null;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
        // The one-off connection of a retry is not kept.
        if (retryClient !== null) void retryClient.destroy().catch(() => undefined);
        if (sent.pooled) this.#buffers.give(sent.data);
      };
      const fail = (code: 'GW_ERR_UPSTREAM_UNAVAILABLE' | 'GW_ERR_UPSTREAM_BAD_RESPONSE', detail: string): void => {
        settle(() => reject(new GatewayError(code, detail)));
      };
      // One deadline for the whole exchange, a retry included.
      const timer = setTimeout(() => {
        settle(() => reject(new GatewayError('GW_ERR_UPSTREAM_TIMEOUT', `no answer within ${request.timeoutMs} ms`)));
        current?.abort(new Error('deadline'));
      }, request.timeoutMs);

      const attempt = (dispatcher: Dispatcher, retried: boolean): void => {
        let answered = false;
        const chunks: Buffer[] = [];
        let size = 0;
        let status = 0;
        let contentType: string | undefined;
        const handler: Dispatcher.DispatchHandler = {
          onRequestStart(controller) {
            current = controller;
            // The deadline passed while the request waited for a connection.
            if (settled) controller.abort(new Error('settled'));
          },
          onResponseStart(controller, statusCode, answerHeaders) {
            answered = true;
            status = statusCode;
            const type = answerHeaders['content-type'];
            contentType = Array.isArray(type) ? type[0] : type;
            // Settled before aborting: the abort reports an error, which would otherwise settle
            // the exchange as an interrupted answer (502 unavailable) instead of an oversized one.
            const declared = Number(answerHeaders['content-length'] ?? '0');
            if (declared > MAX_UPSTREAM_ANSWER_BYTES) {
              fail('GW_ERR_UPSTREAM_BAD_RESPONSE', `answer of ${declared} bytes`);
              controller.abort(new Error('oversized'));
            }
          },
          onResponseData(controller, chunk) {
            if (settled) return;
            size += chunk.length;
            if (size > MAX_UPSTREAM_ANSWER_BYTES) {
              fail('GW_ERR_UPSTREAM_BAD_RESPONSE', 'answer over the size cap');
              controller.abort(new Error('oversized'));
              return;
            }
            chunks.push(chunk);
          },
          onResponseEnd() {
            settle(() => resolve({ status, contentType, body: chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, size) }));
          },
          onResponseError(_controller, err: Error & { code?: string }) {
            if (settled) return;
            // A connection that broke before any answer (most often a pooled one the service
            // closed while idle, its keep-alive timeout racing our reuse): the service did not
            // take the request. Retried once on a new connection, not a pooled one, which may be
            // just as stale. At worst the service sees a duplicate, as with any retry by
            // Salesforce: delivery is at-least-once.
            if (!retried && !answered && BROKEN_CONNECTION.has(err.code ?? '')) {
              retryClient = new Client(origin, { ...CONNECTIONS, connect });
              attempt(retryClient, true);
              return;
            }
            fail('GW_ERR_UPSTREAM_UNAVAILABLE', answered ? `answer interrupted: ${err.code ?? 'error'}` : err.code ?? 'request error');
          },
        };
        dispatcher.dispatch(options, handler);
      };
      attempt(this.#agent, false);
    });
  }

  async close(): Promise<void> {
    await this.#agent.destroy();
  }
}
