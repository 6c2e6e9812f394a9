/**
 * The overload guard sheds new requests with 503 GW_ERR_OVERLOADED (Salesforce retries them)
 * before the heap or the event loop runs away.
 *
 * The attack: more concurrent large bodies than memory should hold, work that stalls the event
 * loop, a heap near V8's limit. The defence (net/overload.ts, the pipeline's first stage):
 * bodies reserve their declared size from a budget before a byte is read, and a request that
 * does not fit is shed; the worst event-loop delay and the heap in use are judged once a second,
 * and while either is over its limit every new request is shed. Shedding is cheap: no body is
 * read, nothing is forwarded, and a 503 fault with its code is logged. The limits are lowered
 * through the harness's Gateway options so that each signal trips on purpose.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OverloadLimits } from '../../src/net/overload.js';
import { startHarness, type Harness } from '../helpers/gateway.js';
import type { Pki } from '../helpers/pki.js';
import { expectRejected, expectValidAccepted, parsedLines, attackSuite, viaPost } from '../security/expect-rejected.js';
import { addresses, flood, largeMessage, MIB, tally } from './flood.js';

/** One judging window of the guard (net/overload.ts WINDOW_MS), plus a margin. */
const WINDOW_MS = 1100;
const RELAXED: OverloadLimits = { maxEventLoopDelayMs: 60_000, maxHeapFraction: 0.99, maxBufferedBytes: 1024 * MIB };

let pki: Pki;
let body: string;
beforeAll(async () => {
  ({ pki, body } = await attackSuite());
});
afterAll(() => pki.cleanup());

function gateway(overload: Partial<OverloadLimits>): Promise<Harness> {
  return startHarness((raw) => {
    raw.allowlist = { cidrs: ['127.0.0.0/8'] };
    Object.assign(raw.limits as object, { maxConnections: 100, maxConnectionsPerIp: 100, requestTimeoutMs: 30_000 });
  }, { pki }, { overload: { ...RELAXED, ...overload } });
}

describe('the body budget', () => {
  let h: Harness;
  beforeAll(async () => { h = await gateway({ maxBufferedBytes: 12 * MIB }); });
  afterAll(() => h.close());

  it('sheds the bodies that do not fit in maxBufferedBytes, and serves the others', async () => {
    const bodyFile = path.join(pki.dir, 'overload-large.xml');
    await writeFile(bodyFile, largeMessage(4_900_000));
    const firstLine = h.logs.lines.length;
    const results = await flood(h, { bodyFile, connections: addresses(12, 1, 31), holdMs: 100 });
    const counts = tally(results);
    const served = results.filter((r) => r.status === 200);
    // Shedding reads no body, so the close after the 503 may reset the connection under it:
    // the client sees the fault or a reset, and either way Salesforce retries.
    const shed = results.filter((r) => r.status !== 200);
    const received = h.upstream.received.length;
    h.upstream.received.length = 0;
    console.log(`body budget 12 MiB, 12 concurrent 4.9 MB bodies: ${JSON.stringify(counts)}; shed ${shed.length}, forwarded ${received}`);
    expect(served.length).toBeGreaterThanOrEqual(1);
    expect(shed.length).toBeGreaterThanOrEqual(1);
    for (const r of shed) expect(r.outcome === 'closed' || r.code === 'GW_ERR_OVERLOADED', JSON.stringify(r)).toBe(true);
    for (const r of served) expect(r.ack).toBe('true');
    expect(received).toBe(served.length);
    const lines = h.logs.requests().filter((r) => r.reason === 'GW_ERR_OVERLOADED');
    expect(lines.length).toBe(shed.length);
    expect(lines.every((r) => r.detail === 'buffered request bodies over budget' && r.status === 503)).toBe(true);
    expect(h.logs.lines.slice(firstLine).join('\n')).not.toContain('AAAAAAAAAA');
    expect(h.gateway.openConnections).toBeLessThanOrEqual(1);
    await expectValidAccepted(h);
  });
});

describe('the event-loop delay', () => {
  let h: Harness;
  beforeAll(async () => { h = await gateway({ maxEventLoopDelayMs: 200 }); });
  afterAll(() => h.close());

  /** Sends the valid message every 50 ms until `want` says stop or `ms` pass; returns the statuses seen. */
  async function probe(want: (status: number) => boolean, ms: number): Promise<number[]> {
    const seen: number[] = [];
    const deadline = performance.now() + ms;
    while (performance.now() < deadline) {
      const answer = await viaPost(h, { body })();
      const status = answer.kind === 'answer' ? answer.status : 0;
      seen.push(status);
      if (want(status)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return seen;
  }

  it('sheds new requests in the window after the loop stalled, then serves again', async () => {
    // a quiet start (the test machine itself may lag)
    expect((await probe((s) => s === 200, 4 * WINDOW_MS)).at(-1)).toBe(200);
    const received = h.upstream.received.length;
    const firstLine = h.logs.lines.length;
    // a one-second stall, as a pathological message or a long GC would cause
    const until = performance.now() + 1000;
    while (performance.now() < until) { /* busy */ }
    // shed from the first request after the stall, for the rest of its one-second window and
    // the next...
    const during = await probe((s) => s === 200, 4 * WINDOW_MS);
    const shed = during.filter((s) => s === 503).length;
    // ...and served again once a window passes without a stall
    expect(during.at(-1), JSON.stringify(during)).toBe(200);
    console.log(`event-loop guard (limit 200 ms) after a 1 s stall: ${shed} requests shed before one was served again (${JSON.stringify(during)})`);
    expect(shed).toBeGreaterThanOrEqual(1);
    expect(during.every((s) => s === 503 || s === 200)).toBe(true);
    const lines = parsedLines(h.logs.lines.slice(firstLine)).filter((r) => r.reason === 'GW_ERR_OVERLOADED');
    expect(lines).toHaveLength(shed);
    for (const line of lines) {
      expect(line.status).toBe(503);
      expect(Number(/^event-loop delay (\d+) ms$/.exec(String(line.detail))?.[1])).toBeGreaterThan(200);
    }
    // only the served ones were forwarded
    expect(h.upstream.received.length - received).toBe(during.length - shed);
    await expectValidAccepted(h);
  });
});

describe('the heap', () => {
  let h: Harness;
  beforeAll(async () => { h = await gateway({ maxHeapFraction: 0.0001 }); });
  afterAll(() => h.close());

  it('sheds new requests while the heap is over its fraction of the limit, reading no body', async () => {
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const { records } = await expectRejected(h, viaPost(h, { body }), { status: 503, code: 'GW_ERR_OVERLOADED' }, { maxMs: 1000, followUp: false });
    expect(records.find((r) => r.reason === 'GW_ERR_OVERLOADED')?.detail).toBe('heap near its limit');
    expect(h.upstream.received).toHaveLength(0);
  });
});
