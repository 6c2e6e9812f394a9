import { describe, expect, it } from 'vitest';
import { BodyBuffers, POOLED_MIN_BYTES } from '../../../src/http/body-buffers.js';

const MAX = 256 * 1024;

describe('BodyBuffers', () => {
  it('pools only bodies from POOLED_MIN_BYTES up to (not including) the largest size', () => {
    const buffers = new BodyBuffers(MAX);
    expect(buffers.take(POOLED_MIN_BYTES - 1)).toBeNull();
    expect(buffers.take(MAX)).toBeNull();
    expect(buffers.take(POOLED_MIN_BYTES)?.length).toBe(POOLED_MIN_BYTES);
    expect(buffers.take(MAX - 1)?.length).toBe(MAX - 1);
  });

  it('hands a given-back buffer out again, as a view of exactly the new length', () => {
    const buffers = new BodyBuffers(MAX);
    const first = buffers.take(40_000)!;
    first.fill(0x41);
    buffers.give(first);
    expect(buffers.idleBytes).toBe(65_536);
    const second = buffers.take(33_000)!;
    expect(second.buffer).toBe(first.buffer);
    expect(second.length).toBe(33_000);
    expect(second.byteOffset).toBe(0);
    expect(buffers.idleBytes).toBe(0);
    // another size class gets its own
    const third = buffers.take(20_000)!;
    expect(third.buffer).not.toBe(first.buffer);
  });

  it('never hands one buffer to two holders: a second give, or a foreign buffer, is ignored', () => {
    const buffers = new BodyBuffers(MAX);
    const a = buffers.take(20_000)!;
    buffers.give(a);
    buffers.give(a);
    expect(buffers.idleBytes).toBe(32_768);
    const b = buffers.take(20_000)!;
    const c = buffers.take(20_000)!;
    expect(c.buffer).not.toBe(b.buffer);
    buffers.give(Buffer.alloc(20_000));
    buffers.give(Buffer.from(new ArrayBuffer(32_768), 0, 20_000));
    expect(buffers.idleBytes).toBe(0);
  });

  it('with a `settled` rule, reuses a given-back buffer only once the rule says so', () => {
    let settled = false;
    const buffers = new BodyBuffers(MAX, () => settled);
    const a = buffers.take(20_000)!;
    buffers.give(a);
    expect(buffers.idleBytes).toBe(0);
    const b = buffers.take(20_000)!;
    expect(b.buffer).not.toBe(a.buffer);
    settled = true;
    const c = buffers.take(20_000)!;
    expect(c.buffer).toBe(a.buffer);
    // b was never given back: still out
    buffers.give(b);
    settled = false;
    expect(buffers.take(20_000)!.buffer).not.toBe(b.buffer);
  });

  it('keeps at most 16 MiB idle', () => {
    const buffers = new BodyBuffers(MAX);
    const taken = Array.from({ length: 80 }, () => buffers.take(200_000)!);
    for (const t of taken) buffers.give(t);
    expect(buffers.idleBytes).toBe(64 * 262_144);
  });
});
