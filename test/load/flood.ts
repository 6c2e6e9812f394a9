/**
 * Drives test/load/flood-client.mjs in a child process and samples the gateway process's memory
 * meanwhile. The gateway runs in the test process; the clients do not.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Harness } from '../helpers/gateway.js';
import { DEFAULT_FIELDS, envelope, notification, type EnvelopeOptions } from '../security/envelopes.js';

const CLIENT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'flood-client.mjs');
export const MIB = 1024 * 1024;

export interface FloodResult {
  readonly localAddress: string;
  readonly outcome: 'answer' | 'closed';
  readonly status?: number;
  readonly code?: string;
  readonly ack?: 'true' | 'false';
  readonly error?: string;
  readonly ms: number;
}

export interface FloodOptions {
  /** Path of a file holding the body (written once per suite). */
  readonly bodyFile: string;
  readonly path?: string;
  /** One local address per connection (127.0.0.0/8). */
  readonly connections: readonly string[];
  /** Keep every connection open this long before sending (to hold the slots). */
  readonly holdMs?: number;
}

/** Opens every connection at once from a child process, sends the body on each, collects the answers. */
export function flood(h: Harness, opts: FloodOptions): Promise<FloodResult[]> {
  const input = JSON.stringify({
    port: h.port,
    ca: h.salesforce.ca,
    cert: h.salesforce.cert,
    key: h.salesforce.key,
    bodyFile: opts.bodyFile,
    path: opts.path ?? '/outbound/contact',
    connections: opts.connections.map((localAddress) => ({ localAddress })),
    holdMs: opts.holdMs ?? 0,
  });
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLIENT, input], { maxBuffer: 16 * MIB, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`flood client failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as FloodResult[]);
    });
  });
}

/** Counts results by `status code` (or `closed`). */
export function tally(results: readonly FloodResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) {
    const key = r.outcome === 'closed' ? 'closed' : `${r.status}${r.code ? ` ${r.code}` : ''}${r.ack ? ` Ack ${r.ack}` : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Samples RSS and heap every `everyMs` until stopped; returns the peaks. */
export function sampleMemory(everyMs = 20): () => { peakRss: number; peakHeap: number } {
  let peakRss = 0;
  let peakHeap = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return () => {
    clearInterval(timer);
    sample();
    return { peakRss, peakHeap };
  };
}

let gcFn: (() => void) | undefined;
/** A full garbage collection (V8's gc, exposed at run time), so that "after" means retained. */
export function collectGarbage(): void {
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}

/**
 * A valid message of `notifications` notifications whose Description fields bring it to about
 * `bytes` bytes (under maxBodyBytes, every text node under the parser's maxTextLength).
 */
export function largeMessage(bytes: number, notifications = 100, opts: EnvelopeOptions = {}): string {
  const perField = Math.floor((bytes - 2000) / notifications) - 400;
  const list = Array.from({ length: notifications }, (_, i) =>
    notification(`${DEFAULT_FIELDS}<sf:Description>${String.fromCharCode(65 + (i % 26)).repeat(perField)}</sf:Description>`, {}, i + 1));
  return envelope({ ...opts, notifications: list });
}

/** `count` loopback addresses starting at 127.0.<net>.1, each used `perAddress` times. */
export function addresses(count: number, perAddress: number, net = 20): string[] {
  return Array.from({ length: count }, (_, i) => Array.from({ length: perAddress }, () => `127.0.${net}.${i + 1}`)).flat();
}
