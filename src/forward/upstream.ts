/**
 * The client for internal services: pooled keep-alive connections, one deadline per exchange,
 * a cap on the answer's size, and no redirect ever followed (node:http follows none; a 3xx is
 * just an answer that is not an Ack). Errors are mapped to stable codes; the target address,
 * errno and library names stay in the log detail, never in the answer to Salesforce.
 */
import http from 'node:http';
import https from 'node:https';
import { GatewayError } from '../errors.js';

/** Errors of a pooled connection the service closed while idle (see the retry in send). */
const STALE_CONNECTION: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

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
  readonly protocol: string;
  readonly hostname: string;
  readonly port: number | undefined;
  readonly path: string;
}

/** Request options of each configured target, read once (what node:http derives from a URL on every request). */
const requestTargets = new WeakMap<URL, RequestTarget>();

function requestTarget(url: URL): RequestTarget {
  let target = requestTargets.get(url);
  if (target === undefined) {
    // Targets carry no user information (config/schema-routes.ts refuses it).
    target = Object.freeze({
      protocol: url.protocol,
      // An IPv6 literal is written in brackets in a URL, without them as a hostname.
      hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port === '' ? undefined : Number(url.port),
      path: url.pathname + url.search,
    });
    requestTargets.set(url, target);
  }
  return target;
}

export class UpstreamClient {
  readonly #http = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 32, scheduling: 'lifo' });
  readonly #https = new https.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 32, scheduling: 'lifo' });

  /** Sends one request; resolves with the answer or rejects with a GatewayError (502/504). */
  send(request: UpstreamRequest): Promise<UpstreamAnswer> {
    const { target } = request;
    const isHttps = target.protocol === 'https:';
    // Every header is built here: nothing from the incoming request is passed on.
    const headers: Record<string, string | number> = {
      'Content-Type': request.contentType,
      'Content-Length': bodyLength(request.body),
      'X-Request-Id': request.requestId,
      Accept: request.soapAction === undefined ? 'application/json' : 'text/xml',
    };
    if (request.soapAction !== undefined) headers.SOAPAction = request.soapAction;

    return new Promise<UpstreamAnswer>((resolve, reject) => {
      let settled = false;
      let current: http.ClientRequest | null = null;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      // One deadline for the whole exchange, a retry included.
      const timer = setTimeout(() => {
        settle(() => reject(new GatewayError('GW_ERR_UPSTREAM_TIMEOUT', `no answer within ${request.timeoutMs} ms`)));
        current?.destroy();
      }, request.timeoutMs);

      const attempt = (fresh: boolean): void => {
        let answered = false;
        const req = (isHttps ? https : http).request({
          ...requestTarget(target),
          method: 'POST',
          headers,
          // The retry takes a new connection: another pooled one may be just as stale.
          agent: fresh ? false : isHttps ? this.#https : this.#http,
        });
        current = req;
        req.on('error', (err: NodeJS.ErrnoException) => {
          // A pooled connection that the service closed while it was idle (its keep-alive timeout
          // racing our reuse) fails before any answer; the service did not take the request.
          // Retried once on a new connection, as Node's http.Agent documentation advises
          // (request.reusedSocket). At worst the service sees a duplicate, as with any retry by
          // Salesforce: delivery is at-least-once.
          if (!fresh && !answered && !settled && req.reusedSocket && STALE_CONNECTION.has(err.code ?? '')) {
            attempt(true);
            return;
          }
          settle(() => reject(new GatewayError('GW_ERR_UPSTREAM_UNAVAILABLE', err.code ?? 'request error')));
        });
        req.on('response', (res) => {
          answered = true;
          this.#read(res, settle, resolve, reject);
        });
        const { body } = request;
        if (Buffer.isBuffer(body)) {
          req.end(body);
        } else {
          // Written before the socket is assigned, so node:http sends them in one writev.
          for (let k = 0; k < body.length - 1; k++) req.write(body[k]);
          req.end(body[body.length - 1]);
        }
      };
      attempt(false);
    });
  }

  /** Reads an answer under the size cap. */
  #read(
    res: http.IncomingMessage,
    settle: (fn: () => void) => void,
    resolve: (answer: UpstreamAnswer) => void,
    reject: (err: GatewayError) => void,
  ): void {
    // Settled before destroying: destroy() emits 'aborted' at once, which would settle the
    // exchange as an interrupted answer (502 unavailable) instead of an oversized one.
    const declared = Number(res.headers['content-length'] ?? '0');
    if (declared > MAX_UPSTREAM_ANSWER_BYTES) {
      settle(() => reject(new GatewayError('GW_ERR_UPSTREAM_BAD_RESPONSE', `answer of ${declared} bytes`)));
      res.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_UPSTREAM_ANSWER_BYTES) {
        settle(() => reject(new GatewayError('GW_ERR_UPSTREAM_BAD_RESPONSE', 'answer over the size cap')));
        res.destroy();
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => {
      settle(() => resolve({
        status: res.statusCode ?? 0,
        contentType: res.headers['content-type'],
        body: Buffer.concat(chunks, size),
      }));
    });
    res.on('error', (err: NodeJS.ErrnoException) => {
      settle(() => reject(new GatewayError('GW_ERR_UPSTREAM_UNAVAILABLE', `answer interrupted: ${err.code ?? 'error'}`)));
    });
    res.on('aborted', () => {
      settle(() => reject(new GatewayError('GW_ERR_UPSTREAM_UNAVAILABLE', 'answer interrupted')));
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}
