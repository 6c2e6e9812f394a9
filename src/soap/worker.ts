/**
 * Worker-thread entry: prepares one large message at a time off the event loop (see
 * soap/worker-pool.ts). Answers `{ ok, message, forwardBody }` with the rebuilt body's bytes
 * transferred, or `{ ok: false, code, detail }` for a rejected message.
 */
import { parentPort } from 'node:worker_threads';
import { isGatewayError } from '../errors.js';
import { prepareMessage, summarize, type PrepareOptions } from './prepare.js';

export interface WorkerRequest {
  readonly id: number;
  readonly body: Uint8Array;
  readonly opts: PrepareOptions;
}

export type WorkerAnswer =
  | { readonly id: number; readonly ok: true; readonly message: ReturnType<typeof summarize>; readonly forwardBody: Uint8Array }
  | { readonly id: number; readonly ok: false; readonly code: string; readonly detail: string | undefined };

parentPort?.on('message', (req: WorkerRequest) => {
  let answer: WorkerAnswer;
  try {
    const body = Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength);
    const prepared = prepareMessage(body, req.opts);
    // Its own ArrayBuffer, so it can be transferred rather than copied.
    const out = new Uint8Array(prepared.forwardBody.byteLength);
    out.set(prepared.forwardBody);
    answer = { id: req.id, ok: true, message: summarize(prepared.message), forwardBody: out };
    parentPort!.postMessage(answer, [out.buffer]);
    return;
  } catch (err) {
    answer = isGatewayError(err)
      ? { id: req.id, ok: false, code: err.code, detail: err.detail }
      : { id: req.id, ok: false, code: 'GW_ERR_INTERNAL', detail: err instanceof Error ? `unexpected ${err.name}` : 'unexpected throw' };
  }
  parentPort!.postMessage(answer);
});
