/**
 * Large messages are prepared in a worker thread, so no single message blocks the event loop
 * for long (a 5 MB body takes a few hundred milliseconds to parse, validate and rebuild; every
 * other connection would wait that long). One worker, one message at a time, in arrival order;
 * the body buffer budget (net/overload.ts) bounds what can queue. A worker that dies is
 * replaced and its request fails with GW_ERR_INTERNAL (Salesforce retries).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ERRORS, GatewayError, type ErrorCode } from '../errors.js';
import type { PrepareOptions, Prepared } from './prepare.js';
import { transferable } from './transfer.js';
import type { WorkerAnswer, WorkerRequest } from './worker.js';

/** Bodies at least this large go to the worker; smaller ones cost less inline than the hop. */
export const OFFLOAD_MIN_BYTES = 256 * 1024;

/**
 * The compiled worker entry. Under the test runner this module is TypeScript source while the
 * worker needs JavaScript, so it falls back to the build output (npm test builds first).
 */
function workerFile(): URL {
  const here = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return new URL('../../dist/soap/worker.js', import.meta.url);
}

interface Pending {
  readonly resolve: (p: Prepared) => void;
  readonly reject: (e: GatewayError) => void;
}

export class PreparePool {
  #worker: Worker | null = null;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #closed = false;

  #spawn(): Worker {
    const worker = new Worker(workerFile());
    worker.unref();
    worker.on('message', (answer: WorkerAnswer) => {
      const pending = this.#pending.get(answer.id);
      if (!pending) return;
      this.#pending.delete(answer.id);
      if (answer.ok) {
        const forwardBody = Buffer.from(answer.forwardBody.buffer, answer.forwardBody.byteOffset, answer.forwardBody.byteLength);
        pending.resolve({ message: answer.message, forwardBody, way: answer.way });
      } else {
        const code = (answer.code in ERRORS ? answer.code : 'GW_ERR_INTERNAL') as ErrorCode;
        pending.reject(new GatewayError(code, answer.detail));
      }
      if (this.#pending.size === 0) worker.unref();
    });
    const fail = (): void => {
      if (this.#worker === worker) this.#worker = null;
      for (const p of this.#pending.values()) p.reject(new GatewayError('GW_ERR_INTERNAL', 'parser worker stopped'));
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    return worker;
  }

  /**
   * Prepares `body` in the worker; rejects with the same GatewayError the inline path throws.
   * `body` may be detached afterwards.
   */
  prepare(body: Buffer, opts: PrepareOptions): Promise<Prepared> {
    if (this.#closed) return Promise.reject(new GatewayError('GW_ERR_SHUTTING_DOWN'));
    this.#worker ??= this.#spawn();
    const worker = this.#worker;
    worker.ref();
    const id = this.#nextId++;
    return new Promise<Prepared>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // Handed over without a copy when the body has an ArrayBuffer of its own (http/read-body.ts
      // reads large bodies so): the caller must not use `body` again. Otherwise a copy the worker
      // owns, since a small buffer may share Node's pool with other data.
      const owned = transferable(body);
      const request: WorkerRequest = { id, body: owned, opts };
      worker.postMessage(request, [owned.buffer]);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = null;
    if (worker) await worker.terminate();
  }
}

