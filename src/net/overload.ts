/**
 * The overload guard: sheds new requests with 503 (Salesforce retries them) before the heap or
 * the event-loop lag runs away. Three signals, each cheap to read on the hot path: event-loop
 * delay (how late a 10 ms timer runs; the worst of this window and the last), heap in use
 * against V8's limit, and the bytes of request bodies buffered right now against a budget.
 */
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';

export interface OverloadLimits {
  /** Shed when the worst event-loop delay in this window or the last exceeds this (ms). */
  readonly maxEventLoopDelayMs: number;
  /** Shed when heap in use exceeds this fraction of V8's heap limit. */
  readonly maxHeapFraction: number;
  /** Shed when request bodies buffered at once exceed this many bytes. */
  readonly maxBufferedBytes: number;
}

export const DEFAULT_OVERLOAD_LIMITS: OverloadLimits = Object.freeze({
  maxEventLoopDelayMs: 500,
  maxHeapFraction: 0.85,
  maxBufferedBytes: 256 * 1024 * 1024,
});

/** How long the worst event-loop delay seen keeps shedding: the window it fell in, and the next (ms). */
export const WINDOW_MS = 1000;

/** How often the delay sampler asks to run (ms): its lateness is the event-loop delay. */
const TICK_MS = 10;

export class OverloadGuard {
  readonly #limits: OverloadLimits;
  readonly #windowMs: number;
  readonly #timer: NodeJS.Timeout;
  readonly #heapLimit = v8.getHeapStatistics().heap_size_limit;
  #tickAt = performance.now();
  #windowStart = this.#tickAt;
  /** Worst delay in the current window, and in the window before it (ms). */
  #windowMaxMs = 0;
  #lastWindowMaxMs = 0;
  #heapHigh = false;
  #buffered = 0;

  /** `windowMs` is for tests; the gateway uses WINDOW_MS. */
  constructor(limits: OverloadLimits = DEFAULT_OVERLOAD_LIMITS, windowMs = WINDOW_MS) {
    this.#limits = limits;
    this.#windowMs = windowMs;
    // Our own sampler, not perf_hooks' histogram read by a second timer: after a stall both are
    // overdue and libuv may run them in either order, so a stall could be judged a window late,
    // after the requests that queued behind it were let through.
    this.#timer = setInterval(() => {
      const now = performance.now();
      const delay = now - this.#tickAt - TICK_MS;
      this.#tickAt = now;
      if (delay > this.#windowMaxMs) this.#windowMaxMs = delay;
      if (now - this.#windowStart < this.#windowMs) return;
      this.#lastWindowMaxMs = this.#windowMaxMs;
      this.#windowMaxMs = 0;
      this.#windowStart = now;
      // Sampled once a window, not per request: reading heap statistics is not free.
      this.#heapHigh = v8.getHeapStatistics().used_heap_size > this.#heapLimit * this.#limits.maxHeapFraction;
    }, TICK_MS);
    this.#timer.unref();
  }

  /**
   * Why a new request must be shed, or null. The delay is the worst of this window, the last one,
   * and the stall going on right now: a request read in the same turn of the loop that a stall
   * ended in (before the sampler could run) is judged by how long the sampler has been kept waiting.
   */
  reason(): string | null {
    const now = performance.now() - this.#tickAt - TICK_MS;
    const delay = Math.max(now, this.#windowMaxMs, this.#lastWindowMaxMs);
    if (delay > this.#limits.maxEventLoopDelayMs) return `event-loop delay ${Math.round(delay)} ms`;
    if (this.#heapHigh) return 'heap near its limit';
    return null;
  }

  /**
   * Reserves `bytes` of body buffer (the declared length, or the cap for a chunked body) before
   * reading, so buffered bodies never exceed the budget by more than one request. Returns the
   * release function, or null when the budget has no room: shed the request.
   */
  reserve(bytes: number): (() => void) | null {
    if (this.#buffered > 0 && this.#buffered + bytes > this.#limits.maxBufferedBytes) return null;
    this.#buffered += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#buffered -= bytes;
    };
  }

  get bufferedBytes(): number {
    return this.#buffered;
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
