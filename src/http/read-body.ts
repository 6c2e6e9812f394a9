/**
 * Reads a request body under a byte cap (fastify's body reader): a declared Content-Length over
 * the cap is refused before reading, bytes are counted as they arrive and reading stops at the
 * cap, and the total must equal the declared length. Every listener is removed on every exit.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError } from '../errors.js';
import { POOLED_MAX_BYTES, type BodyBuffers } from './body-buffers.js';

/**
 * Bodies declared at least this long are read into a buffer of their own (see readBody): the
 * size above which nothing is pooled, so no reused buffer can go to the worker thread.
 */
const PREALLOCATE_MIN_BYTES = POOLED_MAX_BYTES;

/**
 * @param buffers where a body of known length may be read into a reused buffer; the caller gives
 *   that buffer back (buffers.give) when the request ends. On a refusal it is given back here.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, maxBytes: number, buffers?: BodyBuffers): Promise<Buffer> {
  const declaredHeader = req.headers['content-length'];
  const declared = declaredHeader === undefined ? null : Number(declaredHeader);
  if (declared !== null && (!Number.isSafeInteger(declared) || declared < 0)) {
    return Promise.reject(new GatewayError('GW_ERR_BAD_REQUEST', 'invalid Content-Length'));
  }
  if (declared !== null && declared > maxBytes) {
    return Promise.reject(new GatewayError('GW_ERR_BODY_TOO_LARGE', `declared ${declared} bytes`));
  }
  // Expect: 100-continue (RFC 9110 section 10.1.1): the checks before this point have passed.
  if (req.headers.expect?.toLowerCase() === '100-continue') res.writeContinue();

  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    // A large body of known length is copied into its own buffer as it arrives, rather than
    // joined at the end: joining touched every page of a fresh 5 MB buffer in one go, which held
    // the event loop for ~15 ms here (page faults), and the buffer can then be handed to the
    // parser's worker thread without another copy (soap/worker-pool.ts).
    // A smaller one of known length goes into a reused buffer (http/body-buffers.ts).
    const into = declared === null ? null
      : declared >= PREALLOCATE_MIN_BYTES ? Buffer.allocUnsafe(declared) : buffers?.take(declared) ?? null;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const fail = (err: GatewayError): void => {
      cleanup();
      req.pause();
      if (into) buffers?.give(into);
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > maxBytes) {
        chunks.length = 0;
        fail(new GatewayError('GW_ERR_BODY_TOO_LARGE', `more than ${maxBytes} bytes`));
        return;
      }
      if (into) {
        // Node's parser frames the body by its Content-Length, so it cannot run past it; if it
        // ever did, the request is refused rather than cut.
        if (received > into.length) {
          fail(new GatewayError('GW_ERR_BAD_REQUEST', 'body longer than its Content-Length'));
          return;
        }
        chunk.copy(into, received - chunk.length);
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = (): void => {
      cleanup();
      if (declared !== null && received !== declared) {
        if (into) buffers?.give(into);
        reject(new GatewayError('GW_ERR_BODY_INCOMPLETE', `declared ${declared}, received ${received}`));
        return;
      }
      if (into) resolve(into);
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received));
    };
    const onError = (): void => fail(new GatewayError('GW_ERR_BAD_REQUEST', 'request stream error'));
    const onClose = (): void => {
      if (!req.complete) fail(new GatewayError('GW_ERR_BODY_INCOMPLETE', 'connection closed before the body ended'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * Reads and throws away the body of a request refused before its body was read (wrong path,
 * media type or certificate): at most `maxBytes` of a declared Content-Length. A connection
 * closed with unread bytes is reset by the kernel, and the reset destroys the answer in flight
 * (RFC 9112 section 9.6, "lingering close"): the peer would see a reset instead of the fault,
 * and Salesforce would show that instead of the reason. A chunked or oversized body is not
 * waited for, nor one whose sender waits for 100 Continue; Node's requestTimeout bounds a slow one.
 */
export function discardBody(req: IncomingMessage, maxBytes: number): Promise<void> {
  const declared = Number(req.headers['content-length']);
  if (req.complete || req.destroyed || req.readableEnded || !Number.isSafeInteger(declared) || declared > maxBytes
    || req.headers.expect?.toLowerCase() === '100-continue') {
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => {
    const done = (): void => {
      req.off('end', done);
      req.off('close', done);
      req.off('error', done);
      resolve();
    };
    req.on('end', done);
    req.on('close', done);
    req.on('error', done);
    req.resume();
  });
}
