/**
 * Many concurrent connections sending maximum-size bodies.
 *
 * The attack: fill every connection slot with a body just under maxBodyBytes, and open more
 * connections than the caps allow, to exhaust the gateway's memory or its slots.
 *
 * The defence: the connection caps refuse excess sockets before TLS (globally and per source
 * address); each body is read under its cap; the overload guard's body budget
 * (maxBufferedBytes) bounds what is buffered at once. The bound checked here: the gateway's peak
 * RSS stays under baseline + maxConnections x maxBodyBytes x 6 (the raw body, its UTF-16 string
 * twice the size, the tags-only copy, the rebuilt body and the upstream request), and after the
 * storm the heap returns to within 32 MiB of where it started. The clients run in a child
 * process (flood-client.mjs), so only the gateway is measured.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness } from '../helpers/gateway.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { expectValidAccepted, useValidMessage, startGateway } from '../security/expect-rejected.js';
import { envelope } from '../security/envelopes.js';
import { addresses, collectGarbage, flood, largeMessage, MIB, sampleMemory, tally } from './flood.js';

const MAX_BODY_BYTES = 5 * MIB;
const MAX_CONNECTIONS = 24;
const MAX_PER_IP = 6;

let pki: Pki;
let h: Harness;
let bodyFile: string;
let bodyBytes: number;
/** Set by the first storm: the gateway's RSS and heap before it, and the bound it was held to. */
let baseline = { rss: 0, heapUsed: 0, bound: 0 };

beforeAll(async () => {
  pki = await makePki();
  useValidMessage(envelope());
  const body = largeMessage(MAX_BODY_BYTES - 64 * 1024);
  bodyBytes = Buffer.byteLength(body);
  bodyFile = path.join(pki.dir, 'large.xml');
  await writeFile(bodyFile, body);
  h = await startGateway((raw) => {
    raw.allowlist = { cidrs: ['127.0.0.0/8'] };
    Object.assign(raw.limits as object, {
      maxBodyBytes: MAX_BODY_BYTES, maxConnections: MAX_CONNECTIONS, maxConnectionsPerIp: MAX_PER_IP,
      requestTimeoutMs: 30_000, headersTimeoutMs: 10_000,
    });
    (raw.routes as Array<Record<string, unknown>>).forEach((r) => { r.timeoutMs = 20_000; });
  }, { pki });
});
afterAll(async () => {
  await h.close();
  await pki.cleanup();
});

/** A flood, while the internal service's record (it lives in this process too) is emptied as it fills. */
async function floodDrained(opts: Parameters<typeof flood>[1]): Promise<Awaited<ReturnType<typeof flood>>> {
  const drain = setInterval(() => { h.upstream.received.length = 0; }, 10);
  try {
    return await flood(h, opts);
  } finally {
    clearInterval(drain);
    h.upstream.received.length = 0;
  }
}

/**
 * The storm (and the full GC that measures it) blocks the event loop long enough for the
 * overload guard to shed the next request, as it should: the follow-up waits out one of its
 * one-second windows.
 */
function afterOverloadWindow(): Promise<void> {
  return new Promise((r) => setTimeout(r, 1100));
}

describe('maximum-size bodies on every slot, and more connections than the caps', () => {
  it('serves what fits, refuses the excess before TLS, and keeps memory bounded', async () => {
    // 8 from one address (per-address cap 6), then 5 addresses x 5: 33 > maxConnections (24)
    const connections = [...addresses(1, 8, 21), ...addresses(5, 5, 22)];
    collectGarbage();
    const before = process.memoryUsage();
    const refusedBefore = h.logs.records().filter((r) => r.event === 'connection_refused').length;
    const stop = sampleMemory();
    const started = performance.now();
    const results = await floodDrained({ bodyFile, connections, holdMs: 200 });
    const elapsed = performance.now() - started;
    const peak = stop();
    h.upstream.received.length = 0;
    collectGarbage();
    const after = process.memoryUsage();

    const counts = tally(results);
    const refused = h.logs.records().filter((r) => r.event === 'connection_refused').slice(refusedBefore);
    const byReason = Object.fromEntries(['connection_limit', 'per_ip_limit'].map((reason) => [reason, refused.filter((r) => r.reason === reason).length]));
    const bound = before.rss + MAX_CONNECTIONS * MAX_BODY_BYTES * 6;
    console.log([
      `${connections.length} connections x ${(bodyBytes / MIB).toFixed(2)} MiB bodies in ${Math.round(elapsed)} ms: ${JSON.stringify(counts)}`,
      `refused before TLS: ${JSON.stringify(byReason)}`,
      `gateway RSS ${(before.rss / MIB).toFixed(0)} MiB before, peak ${(peak.peakRss / MIB).toFixed(0)} MiB (bound ${(bound / MIB).toFixed(0)} MiB), ${(after.rss / MIB).toFixed(0)} MiB after`,
      `heap ${(before.heapUsed / MIB).toFixed(0)} MiB before, peak ${(peak.peakHeap / MIB).toFixed(0)} MiB, ${(after.heapUsed / MIB).toFixed(0)} MiB after a full GC`,
    ].join('\n'));

    // every connection got a clean outcome: an answer, or closed before TLS
    const served = results.filter((r) => r.outcome === 'answer');
    const closed = results.filter((r) => r.outcome === 'closed');
    expect(served.length).toBe(MAX_CONNECTIONS);
    expect(closed.length).toBe(connections.length - MAX_CONNECTIONS);
    expect(refused.length).toBe(closed.length);
    // the order connections arrive in decides which cap refuses which; both must have worked
    expect(byReason.per_ip_limit).toBeGreaterThanOrEqual(1);
    expect(byReason.connection_limit).toBeGreaterThanOrEqual(1);
    expect((byReason.per_ip_limit ?? 0) + (byReason.connection_limit ?? 0)).toBe(closed.length);
    // served: Ack true, or shed with 503 when the body budget is full; nothing else
    for (const r of served) {
      expect(r.status === 200 ? r.ack : r.code, JSON.stringify(r)).toBe(r.status === 200 ? 'true' : 'GW_ERR_OVERLOADED');
    }
    expect(peak.peakRss).toBeLessThan(bound);
    expect(after.heapUsed - before.heapUsed).toBeLessThan(32 * MIB);
    expect(elapsed).toBeLessThan(45_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(h.gateway.openConnections).toBe(0);
    await afterOverloadWindow();
    await expectValidAccepted(h);
    baseline = { rss: before.rss, heapUsed: before.heapUsed, bound };
  });

  it('keeps to the same bound on a second storm and keeps nothing of it: the memory is reused', async () => {
    const connections = addresses(MAX_CONNECTIONS, 1, 23);
    const stop = sampleMemory();
    const results = await floodDrained({ bodyFile, connections, holdMs: 100 });
    const peak = stop();
    collectGarbage();
    const after = process.memoryUsage();
    console.log(`second storm: ${JSON.stringify(tally(results))}; peak RSS ${(peak.peakRss / MIB).toFixed(0)} MiB (bound ${(baseline.bound / MIB).toFixed(0)} MiB); `
      + `heap after a full GC ${(after.heapUsed / MIB).toFixed(0)} MiB (${(baseline.heapUsed / MIB).toFixed(0)} MiB before the first)`);
    expect(results.every((r) => r.outcome === 'answer')).toBe(true);
    expect(peak.peakRss).toBeLessThan(baseline.bound);
    expect(after.heapUsed - baseline.heapUsed).toBeLessThan(32 * MIB);
    await afterOverloadWindow();
    await expectValidAccepted(h);
  });
});
