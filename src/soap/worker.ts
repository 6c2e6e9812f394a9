/**
 * Worker-thread entry: prepares one large message at a time off the event loop (see
 * soap/worker-pool.ts). Answers `{ ok, message, forwardBody }` with the rebuilt body's bytes
 * transferred, or `{ ok: false, code, detail }` for a rejected message.
 */
import os from 'node:os';
import { parentPort } from 'node:worker_threads';
import { isGatewayError } from '../errors.js';
import { joinBody } from '../forward/upstream.js';
import type { MessageHead } from './types.js';
import { prepareMessage, type ParseWay, type PrepareOptions } from './prepare.js';
import { transferable } from './transfer.js';

export interface WorkerRequest {
  readonly id: number;
  readonly body: Uint8Array;
  readonly opts: PrepareOptions;
}

export type WorkerAnswer =
  | { readonly id: number; readonly ok: true; readonly message: MessageHead; readonly forwardBody: Uint8Array; readonly way: ParseWay }
  | { readonly id: number; readonly ok: false; readonly code: string; readonly detail: string | undefined };

/**
 * Nice value of this thread: a large message waits for the event loop, not the other way round.
 * When the worker and the event loop share a core (a busy machine, or a gateway pinned to one
 * core), the scheduler otherwise gives the worker long slices while the event loop, which
 * answers every other request and handshake, waits: with the bench's gateway on one core the
 * worst event-loop pause on a 5 MB message was 12–57 ms, the worker's parse included.
 * On Linux a nice value belongs to a thread (setpriority(2), "Linux/NPTL"), and 0 names the
 * calling thread; elsewhere it would name the whole process, so it is left alone there.
 */
export const WORKER_NICE = 10;
if (process.platform === 'linux' && parentPort) {
  try {
    os.setPriority(0, WORKER_NICE);
  } catch {
    // Not allowed (a container's seccomp profile): the worker runs at the process's priority.
  }
}

parentPort?.on('message', (req: WorkerRequest) => {
  let answer: WorkerAnswer;
  try {
    const body = Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength);
    const prepared = prepareMessage(body, req.opts);
    // Transferred, not copied back: as it is when it has an ArrayBuffer of its own (a large
    // body does), else a copy that has.
    const out = transferable(joinBody(prepared.forwardBody));
    answer = { id: req.id, ok: true, message: prepared.message, forwardBody: out, way: prepared.way };
    parentPort!.postMessage(answer, [out.buffer]);
    return;
  } catch (err) {
    answer = isGatewayError(err)
      ? { id: req.id, ok: false, code: err.code, detail: err.detail }
      : { id: req.id, ok: false, code: 'GW_ERR_INTERNAL', detail: err instanceof Error ? `unexpected ${err.name}` : 'unexpected throw' };
  }
  parentPort!.postMessage(answer);
});
