/**
 * The overload guard: sheds new requests with 503 (Salesforce retries them) before the heap or
 * the event-loop lag runs away. Three signals, each cheap to read on the hot path: event-loop
 * delay (sampled by perf_hooks, judged over the last window), heap in use against V8's limit,
 * and the bytes of request bodies buffered right now against a budget.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import v8 from 'node:v8';

export interface OverloadLimits {
  /** Shed when the worst event-loop delay in the last window exceeds this (ms). */
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

/** How often the delay histogram is judged and reset (ms). */
const WINDOW_MS = 1000;

export class OverloadGuard {
  readonly #limits: OverloadLimits;
  readonly #histogram: IntervalHistogram;
  readonly #timer: NodeJS.Timeout;
  readonly #heapLimit = v8.getHeapStatistics().heap_size_limit;
  #lastWindowMaxMs = 0;
  #heapHigh = false;
  #buffered = 0;

  constructor(limits: OverloadLimits = DEFAULT_OVERLOAD_LIMITS) {
    this.#limits = limits;
    this.#histogram = monitorEventLoopDelay({ resolution: 10 });
    this.#histogram.enable();
    this.#timer = setInterval(() => {
      this.#lastWindowMaxMs = this.#histogram.max / 1e6;
      this.#histogram.reset();
      // Sampled here, not per request: reading heap statistics is not free.
      this.#heapHigh = v8.getHeapStatistics().used_heap_size > this.#heapLimit * this.#limits.maxHeapFraction;
    }, WINDOW_MS);
    this.#timer.unref();
  }

  /** Why a new request must be shed, or null. */
  reason(): string | null {
    if (this.#lastWindowMaxMs > this.#limits.maxEventLoopDelayMs) return `event-loop delay ${Math.round(this.#lastWindowMaxMs)} ms`;
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
    this.#histogram.disable();
  }
}
