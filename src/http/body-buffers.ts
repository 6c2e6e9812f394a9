/**
 * Reusable buffers for request bodies of known length, from 16 KiB up to the size that goes to
 * the worker thread. A fresh buffer of that size per request is costly in the server: it is
 * allocated outside V8's heap, and its pages are faulted in again each time. Reusing them cut the
 * 100-notification cell by ~50 µs a message (bench/README.md).
 *
 * A buffer is given back when its request ends (pipeline/run.ts), never earlier: the message's
 * parts may point into it until the forward stage has copied them into the request to the
 * internal service. It is handed out again only as a view of exactly the next body's length, which
 * the body reader fills completely before anyone reads it (http/read-body.ts), so no byte of one
 * request can be read through another.
 */

/** Smallest body worth a pooled buffer: smaller ones usually arrive in one chunk, used as it is. */
export const POOLED_MIN_BYTES = 16 * 1024;

/** Idle buffers kept, in bytes, over all sizes. */
const MAX_IDLE_BYTES = 16 * 1024 * 1024;

export class BodyBuffers {
  readonly #maxBytes: number;
  /** Idle buffers by size (powers of two). */
  readonly #idle = new Map<number, ArrayBuffer[]>();
  /** Buffers handed out and not yet given back. */
  readonly #out = new WeakSet<ArrayBuffer>();
  #idleBytes = 0;

  /** @param maxBytes largest body to pool (bodies of this size or more are not pooled). */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** A buffer of exactly `length` bytes (of unspecified content), or null when not pooled. */
  take(length: number): Buffer | null {
    if (length < POOLED_MIN_BYTES || length >= this.#maxBytes) return null;
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
