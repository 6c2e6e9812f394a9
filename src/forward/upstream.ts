/**
 * The client for internal services: pooled keep-alive connections, one deadline per exchange,
 * a cap on the answer's size, and no redirect ever followed (node:http follows none; a 3xx is
 * just an answer that is not an Ack). Errors are mapped to stable codes; the target address,
 * errno and library names stay in the log detail, never in the answer to Salesforce.
 */
import http from 'node:http';
import https from 'node:https';
import { GatewayError } from '../errors.js';

/** Largest answer read from an internal service: an Ack envelope is a few hundred bytes. */
export const MAX_UPSTREAM_ANSWER_BYTES = 64 * 1024;

export interface UpstreamRequest {
  readonly target: URL;
  readonly body: Buffer;
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
      'Content-Length': request.body.length,
      'X-Request-Id': request.requestId,
      Accept: request.soapAction === undefined ? 'application/json' : 'text/xml',
    };
    if (request.soapAction !== undefined) headers.SOAPAction = request.soapAction;

    return new Promise<UpstreamAnswer>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const req = (isHttps ? https : http).request(target, {
        method: 'POST',
        headers,
        agent: isHttps ? this.#https : this.#http,
      });
      const timer = setTimeout(() => {
        settle(() => reject(new GatewayError('GW_ERR_UPSTREAM_TIMEOUT', `no answer within ${request.timeoutMs} ms`)));
        req.destroy();
      }, request.timeoutMs);

      req.on('error', (err: NodeJS.ErrnoException) => {
        settle(() => reject(new GatewayError('GW_ERR_UPSTREAM_UNAVAILABLE', err.code ?? 'request error')));
      });
      req.on('response', (res) => {
        const declared = Number(res.headers['content-length'] ?? '0');
        // Settled before destroying: destroy() emits 'aborted' at once, which would settle the
        // exchange as an interrupted answer (502 unavailable) instead of an oversized one.
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
      });
      req.end(request.body);
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}
