/**
 * Reusable buffers for bodies of known length, from 16 KiB up to the size that goes to the worker
 * thread: the bodies read from Salesforce, and those sent to internal services. A fresh buffer of
 * that size per message is costly in the server: it is allocated outside V8's heap, and its pages
 * are faulted in again each time. Reusing them cut the 100-notification cell by ~70 µs a message
 * for the received body and ~40 µs for the sent one (bench/README.md).
 *
 * A buffer is given back when its holder is done with it, never earlier: a received body when its
 * request ends (pipeline/run.ts), since the message's parts may point into it until the forward
 * stage has copied them; a sent body when its exchange ends. A sent body may still be queued on a
 * connection after that (a service can answer before it has read everything), so a pool for sent
 * bodies is given `idle`: buffers given back wait until it says every connection's writes have
 * completed. A buffer is handed out again only as a view of exactly the next body's length, which
 * its taker fills completely before anyone reads it, so no byte of one message can be read
 * through another.
 */

/** Smallest body worth a pooled buffer: smaller ones usually arrive in one chunk, used as it is. */
export const POOLED_MIN_BYTES = 16 * 1024;

/**
 * Bodies of this size or more are not pooled: the received ones are read into a buffer of their
 * own and handed to the parser's worker thread (soap/worker-pool.ts OFFLOAD_MIN_BYTES, the same
 * size), which detaches it; a reused buffer must never be.
 */
export const POOLED_MAX_BYTES = 256 * 1024;

/** Idle buffers kept, in bytes, over all sizes. */
const MAX_IDLE_BYTES = 16 * 1024 * 1024;

export class BodyBuffers {
  readonly #maxBytes: number;
  readonly #settled: (() => boolean) | null;
  /** Idle buffers by size (powers of two). */
  readonly #idle = new Map<number, ArrayBuffer[]>();
  /** Given back, waiting for `settled` to say they are no longer referenced. */
  #waiting: ArrayBuffer[] = [];
  #waitingBytes = 0;
  /** Buffers handed out and not yet given back. */
  readonly #out = new WeakSet<ArrayBuffer>();
  #idleBytes = 0;

  /**
   * @param maxBytes bodies of this size or more are not pooled.
   * @param settled when given, buffers given back are reused only once it returns true.
   */
  constructor(maxBytes: number = POOLED_MAX_BYTES, settled: (() => boolean) | null = null) {
    this.#maxBytes = maxBytes;
    this.#settled = settled;
  }

  /** A buffer of exactly `length` bytes (of unspecified content), or null when not pooled. */
  take(length: number): Buffer | null {
    if (length < POOLED_MIN_BYTES || length >= this.#maxBytes) return null;
    if (this.#waiting.length > 0 && this.#settled!()) {
      const waiting = this.#waiting;
      this.#waiting = [];
      this.#waitingBytes = 0;
      for (const slab of waiting) this.#keep(slab);
    }
    const size = sizeFor(length);
    const idle = this.#idle.get(size);
    let slab = idle?.pop();
    if (slab === undefined) {
      slab = new ArrayBuffer(size);
    } else {
      this.#idleBytes -= size;
    }
    this.#out.add(slab);
    return Buffer.from(slab, 0, length);
  }

  /** Gives back a buffer from take(); anything else, or a second give, is ignored. */
  give(buffer: Buffer): void {
    const slab = buffer.buffer;
    if (!(slab instanceof ArrayBuffer) || !this.#out.has(slab)) return;
    this.#out.delete(slab);
    if (this.#settled === null) {
      this.#keep(slab);
    } else if (this.#idleBytes + this.#waitingBytes + slab.byteLength <= MAX_IDLE_BYTES) {
      this.#waiting.push(slab);
      this.#waitingBytes += slab.byteLength;
    }
  }

  #keep(slab: ArrayBuffer): void {
    if (this.#idleBytes + slab.byteLength > MAX_IDLE_BYTES) return;
    let idle = this.#idle.get(slab.byteLength);
    if (idle === undefined) {
      idle = [];
      this.#idle.set(slab.byteLength, idle);
    }
    idle.push(slab);
    this.#idleBytes += slab.byteLength;
  }

  get idleBytes(): number {
    return this.#idleBytes;
  }
}

/** The power of two at or above `length`. */
function sizeFor(length: number): number {
  return 2 ** Math.ceil(Math.log2(length));
}
