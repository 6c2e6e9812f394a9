/**
 * The load generator: one process per measurement, started by run.mjs pinned to core 0. It gets
 * its job over IPC, runs it, reads the server's CPU time and memory from /proc itself at the
 * edges of the measured window (so the window and the count of answers are the same), answers
 * with the figures, and exits. Requests go through the lean client of lib/client.mjs (raw TLS
 * sockets, one prebuilt request per job, a strict response reader), so that the load generator
 * costs little per request and the server under test, not the client, is the bottleneck.
 *
 * Jobs:
 *   closed      `concurrency` loops, each sending its next request as soon as the previous
 *               answer is in; keep-alive (one connection per loop, reopened when the server
 *               closes it) or a new connection per request with `Connection: close` (TLS 1.3,
 *               no session resumption: a full handshake every time).
 *   paced       open loop at `rate` requests/s over a pool of `concurrency` connections;
 *               latency counts from the scheduled send time, so a slow server cannot hide its
 *               queueing (no coordinated omission).
 *   sequential  `count` requests one after another, `gapMs` apart (the maximum-size messages).
 *   connections open `idle` keep-alive connections, then send `busy` requests at once on
 *               `busy` more connections; the server's RSS is sampled throughout.
 * Every loop is bounded by a deadline and every request by a timeout.
 */
import { readFileSync } from 'node:fs';
import { Connection, Pool, Target } from './lib/client.mjs';
import { LogHistogram } from './lib/histogram.mjs';
import { cpuSeconds, machineBusySeconds, peakRssBytes, rssBytes, treePids } from './lib/proc.mjs';

const REQUEST_TIMEOUT_MS = 15_000;
/** 16 maximum-size bodies are parsed one after another: allow the last one its turn. */
const BIG_REQUEST_TIMEOUT_MS = 90_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Stats {
  constructor() {
    this.histogram = new LogHistogram();
    this.ok = 0;
    this.errors = 0;
    this.errorSamples = new Map();
    this.handshakes = 0;
    this.resumed = 0;
    this.protocol = null;
    this.cipher = null;
    this.keyExchange = null;
  }
  error(what) {
    this.errors++;
    this.errorSamples.set(what, (this.errorSamples.get(what) ?? 0) + 1);
  }
  toJSON() {
    const h = this.histogram;
    return {
      ok: this.ok,
      errors: this.errors,
      errorSamples: Object.fromEntries([...this.errorSamples].slice(0, 5)),
      p50Ms: h.count > 0 ? h.percentile(50) / 1e6 : null,
      p99Ms: h.count > 0 ? h.percentile(99) / 1e6 : null,
      maxMs: h.count > 0 ? h.percentile(100) / 1e6 : null,
      /** [bucket, count] pairs in nanoseconds (lib/histogram.mjs): rounds are merged from these. */
      latencyBuckets: h.toJSON(),
      handshakes: this.handshakes,
      resumed: this.resumed,
      protocol: this.protocol,
      cipher: this.cipher,
      keyExchange: this.keyExchange,
    };
  }
}

/** Samples the server's RSS every `everyMs` until stopped; returns the maximum seen. */
function rssSampler(pids, everyMs = 100) {
  let max = 0;
  const sample = () => { max = Math.max(max, rssBytes(pids)); };
  sample();
  const timer = setInterval(sample, everyMs);
  return { stop() { clearInterval(timer); sample(); return max; } };
}

/** CPU readings at one edge of the measured window: the server, the bench's own processes, the machine. */
function snapshot(pids, job) {
  const self = process.cpuUsage();
  return {
    server: cpuSeconds(pids),
    bench: (self.user + self.system) / 1e6 + cpuSeconds(job.benchPids ?? []),
    machine: machineBusySeconds(),
  };
}

function windowFigures(pids, s0, s1, seconds, count, job, acknowledged = count) {
  const cpu0 = s0.server;
  const cpu1 = s1.server;
  const other = (s1.machine - s0.machine) - (cpu1 - cpu0) - (s1.bench - s0.bench);
  return {
    loadCpuUtil: (s1.bench - s0.bench) / seconds,
    /** Cores' worth of CPU used by processes outside the bench during the window. */
    otherCpuUtil: Math.max(0, other / seconds),
    seconds,
    reqPerSec: count / seconds,
    notificationsPerSec: (count * job.notifications) / seconds,
    cpuSeconds: cpu1 - cpu0,
    /** Per acknowledged message: a shed request (a quick 503) must not make the average cheaper. */
    cpuPerReqUs: acknowledged > 0 ? ((cpu1 - cpu0) / acknowledged) * 1e6 : null,
    serverCpuUtil: (cpu1 - cpu0) / seconds,
    hwmBytes: peakRssBytes(pids),
  };
}

async function closed(job) {
  const stats = new Stats();
  const target = new Target(job, stats);
  // New-connection mode: `Connection: close` and a new socket for every request.
  const request = target.request(readFileSync(job.bodyFile), { close: Boolean(job.newConnection) });
  const connections = Array.from({ length: job.concurrency }, () => new Connection(target));
  const pids = treePids(job.serverPid);
  let phase = 'warmup';
  let measured = 0;
  const loop = async (conn) => {
    // Bounded by the phase switch below and by the hard deadline.
    const hardStop = Date.now() + job.warmupMs + job.durationMs + REQUEST_TIMEOUT_MS;
    while (phase !== 'stop' && Date.now() < hardStop) {
      const r = await conn.send(request, process.hrtime.bigint(), REQUEST_TIMEOUT_MS);
      if (phase !== 'measure') continue;
      measured++;
      if (r.ok) { stats.ok++; stats.histogram.record(Math.max(1, r.ns)); } else stats.error(r.what);
      if (!r.ok) await sleep(5);
    }
  };
  const loops = connections.map(loop);
  await sleep(job.warmupMs);
  const rss = rssSampler(pids);
  const cpu0 = snapshot(pids, job);
  const t0 = performance.now();
  phase = 'measure';
  await sleep(job.durationMs);
  const cpu1 = snapshot(pids, job);
  const seconds = (performance.now() - t0) / 1000;
  const count = measured;
  phase = 'stop';
  const peakRss = rss.stop();
  await Promise.all(loops);
  for (const conn of connections) conn.close();
  return { ...stats.toJSON(), requests: count, ...windowFigures(pids, cpu0, cpu1, seconds, count, job, stats.ok), peakRssBytes: peakRss };
}

async function paced(job) {
  const stats = new Stats();
  const target = new Target(job, stats);
  const request = target.request(readFileSync(job.bodyFile));
  const pool = new Pool(target, job.concurrency);
  const pids = treePids(job.serverPid);
  const intervalMs = 1000 / job.rate;
  const total = Math.round(((job.warmupMs + job.durationMs) / 1000) * job.rate);
  const firstMeasured = Math.round((job.warmupMs / 1000) * job.rate);
  const startMs = performance.now() + 20;
  const originNs = process.hrtime.bigint() + 20_000_000n;
  const pending = new Set();
  let dropped = 0;
  let cpu0 = null;
  let t0 = 0;
  let rss = null;
  for (let i = 0; i < total; i++) {
    const due = startMs + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait - 1);
    while (performance.now() < due) { /* spin the last millisecond: timers are too coarse */ }
    if (i === firstMeasured) { rss = rssSampler(pids); cpu0 = snapshot(pids, job); t0 = performance.now(); }
    if (pending.size > 1000) { if (i >= firstMeasured) dropped++; continue; }
    const scheduledNs = originNs + BigInt(Math.round(i * intervalMs * 1e6));
    const measuredOne = i >= firstMeasured;
    const p = pool.send(request, scheduledNs, REQUEST_TIMEOUT_MS).then((r) => {
      pending.delete(p);
      if (!measuredOne) return;
      if (r.ok) { stats.ok++; stats.histogram.record(Math.max(1, r.ns)); } else stats.error(r.what);
    });
    pending.add(p);
  }
  await Promise.race([Promise.all(pending), sleep(REQUEST_TIMEOUT_MS)]);
  const cpu1 = snapshot(pids, job);
  const seconds = (performance.now() - t0) / 1000;
  const count = total - firstMeasured - dropped;
  const peakRss = rss?.stop() ?? null;
  pool.close();
  return {
    ...stats.toJSON(), requests: count, dropped, rate: job.rate,
    ...windowFigures(pids, cpu0, cpu1, seconds, count, job, stats.ok), peakRssBytes: peakRss,
  };
}

async function sequential(job) {
  const body = readFileSync(job.bodyFile);
  const stats = new Stats();
  const target = new Target(job, stats);
  const request = target.request(body);
  const conn = new Connection(target);
  const latencies = [];
  const pids = job.serverPid ? treePids(job.serverPid) : [];
  const s0 = snapshot(pids, job);
  const t0 = performance.now();
  for (let i = 0; i < job.count; i++) {
    if (i > 0) await sleep(job.gapMs);
    const r = await conn.send(request, process.hrtime.bigint(), BIG_REQUEST_TIMEOUT_MS);
    latencies.push(r.ns / 1e6);
    if (r.ok) stats.ok++; else stats.error(r.what);
  }
  const s1 = snapshot(pids, job);
  const seconds = (performance.now() - t0) / 1000;
  conn.close();
  const { latencyBuckets: _buckets, ...figures } = stats.toJSON();
  return {
    ...figures, latenciesMs: latencies, bytes: body.length,
    otherCpuUtil: Math.max(0, ((s1.machine - s0.machine) - (s1.server - s0.server) - (s1.bench - s0.bench)) / seconds),
  };
}

async function connections(job) {
  const pids = treePids(job.serverPid);
  const stats = new Stats();
  // target.open counts the connections left open after their answer.
  const target = new Target(job, stats);
  const small = target.request(readFileSync(job.smallBodyFile));
  const bigBody = readFileSync(job.bigBodyFile);
  const big = target.request(bigBody);
  const rss = rssSampler(pids, 50);
  const baselineRss = rssBytes(pids);
  const connections = Array.from({ length: job.idle + job.busy }, () => new Connection(target));
  const deadline = Date.now() + job.openTimeoutMs;
  const idleConnections = connections.slice(0, job.idle);
  let next = 0;
  const opener = async () => {
    while (next < idleConnections.length && Date.now() < deadline) {
      const c = idleConnections[next++];
      const r = await c.send(small, process.hrtime.bigint(), REQUEST_TIMEOUT_MS);
      if (!r.ok) stats.error(r.what);
    }
  };
  await Promise.all(Array.from({ length: job.openConcurrency }, opener));
  await sleep(300);
  const idleOpen = target.open;
  const idleRss = rssBytes(pids);
  const t0 = performance.now();
  const results = await Promise.all(connections.slice(job.idle).map((c) => c.send(big, process.hrtime.bigint(), BIG_REQUEST_TIMEOUT_MS)));
  const busySeconds = (performance.now() - t0) / 1000;
  for (const r of results) {
    if (r.ok) { stats.ok++; stats.histogram.record(Math.max(1, r.ns)); } else stats.error(r.what);
  }
  const openAtEnd = target.open;
  const peak = rss.stop();
  const hwm = peakRssBytes(pids);
  for (const c of connections) c.close();
  return {
    ...stats.toJSON(), idleOpen, openAtEnd, busySeconds, baselineRssBytes: baselineRss,
    idleRssBytes: idleRss, peakRssBytes: peak, hwmBytes: hwm, bigBytes: bigBody.length,
  };
}

const JOBS = { closed, paced, sequential, connections };

process.once('message', async (job) => {
  try {
    const result = await JOBS[job.kind](job);
    process.send({ type: 'result', result }, () => process.exit(0));
  } catch (err) {
    process.send({ type: 'result', error: String(err?.stack ?? err) }, () => process.exit(1));
  }
});
process.on('disconnect', () => process.exit(0));
