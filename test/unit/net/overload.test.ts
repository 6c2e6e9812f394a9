import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { OverloadGuard } from '../../../src/net/overload.js';

const WINDOW = 100;
const LIMIT = 50;
const DELAY = /^event-loop delay (\d+) ms$/;

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* a stall */ }
}

/** Waits until the guard lets requests through again; returns how long that took (ms). */
async function quiet(guard: OverloadGuard): Promise<number> {
  const start = performance.now();
  while (guard.reason() !== null && performance.now() - start < 30 * WINDOW) await sleep(5);
  expect(guard.reason()).toBeNull();
  return performance.now() - start;
}

function delayOf(reason: string | null): number {
  expect(reason).toMatch(DELAY);
  return Number(DELAY.exec(reason!)![1]);
}

describe('the overload guard', () => {
  it('sheds right after a stall, in the same turn of the loop, before its sampler has run', async () => {
    const guard = new OverloadGuard({ maxEventLoopDelayMs: LIMIT, maxHeapFraction: 1, maxBufferedBytes: 1 }, WINDOW);
    try {
      for (const stall of [2 * LIMIT, WINDOW, 3 * WINDOW]) {
        await quiet(guard);
        busy(stall);
        // a request read in the same turn: nothing else has run since the stall
        expect(delayOf(guard.reason()), `stall ${stall} ms`).toBeGreaterThan(LIMIT);
        // ...and one read after the timers ran
        await sleep(1);
        expect(delayOf(guard.reason()), `stall ${stall} ms`).toBeGreaterThanOrEqual(stall - 20);
        // a stall that ends inside a timer callback, as a parse in a timer would
        await new Promise<void>((resolve) => setTimeout(() => {
          busy(stall);
          expect(delayOf(guard.reason())).toBeGreaterThan(LIMIT);
          resolve();
        }, 1));
      }
    } finally {
      guard.close();
    }
  });

  it('keeps shedding for the window the stall fell in and the next, then lets requests through', async () => {
    const guard = new OverloadGuard({ maxEventLoopDelayMs: LIMIT, maxHeapFraction: 1, maxBufferedBytes: 1 }, WINDOW);
    try {
      await quiet(guard);
      busy(2 * LIMIT);
      const took = await quiet(guard);
      expect(took).toBeGreaterThanOrEqual(WINDOW - 15);
      expect(took).toBeLessThan(2 * WINDOW + 200);
    } finally {
      guard.close();
    }
  });

  it('reserves body bytes up to the budget, always lets one body through, and releases once', () => {
    const guard = new OverloadGuard({ maxEventLoopDelayMs: 1e9, maxHeapFraction: 1, maxBufferedBytes: 100 }, WINDOW);
    try {
      const big = guard.reserve(500);
      expect(big).not.toBeNull();
      expect(guard.reserve(1)).toBeNull();
      big!();
      big!();
      expect(guard.bufferedBytes).toBe(0);
      const a = guard.reserve(60)!;
      expect(guard.reserve(41)).toBeNull();
      const b = guard.reserve(40)!;
      expect(guard.bufferedBytes).toBe(100);
      a(); b();
      expect(guard.bufferedBytes).toBe(0);
    } finally {
      guard.close();
    }
  });

  it('sheds while the heap is over its fraction of the limit, judged once a window', async () => {
    const guard = new OverloadGuard({ maxEventLoopDelayMs: 1e9, maxHeapFraction: 1e-6, maxBufferedBytes: 1 }, WINDOW);
    try {
      expect(guard.reason()).toBeNull();
      await sleep(WINDOW + 30);
      expect(guard.reason()).toBe('heap near its limit');
    } finally {
      guard.close();
    }
  });
});
