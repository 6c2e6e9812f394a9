/**
 * `npm run bench`: the gateway against nginx, a bare Node passthrough and the internal service
 * alone, same machine, same run. See bench/README.md for the method and the figures.
 *
 * Options (also as environment variables):
 *   --warmup-ms N    (BENCH_WARMUP_MS,   default 1000) warm-up before each measured window
 *   --duration-ms N  (BENCH_DURATION_MS, default 5000) measured window per cell
 *   --quick          0.3 s warm-up, 1 s windows, fewer maximum-size messages: a smoke test
 *   --skip-xml       skip the XML parser micro-benchmark
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ask, interrupted, start, stop, stopAll } from './lib/children.mjs';
import { runLoad } from './lib/load.mjs';
import { findNginx, nginxVersion } from './lib/nginx.mjs';
import { machineBusySeconds } from './lib/proc.mjs';
import { LogHistogram } from './lib/histogram.mjs';
import { makePki } from './lib/pki.mjs';
import { maxFieldsMessage, maxTextMessage, notificationPayloads } from './lib/payloads.mjs';
import {
  MANY_CONNECTION_LIMITS, startGateway, startNginx, startPassthrough, startUpstream,
} from './lib/servers.mjs';
import { evaluateGoals, formatReport } from './lib/report.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const LOAD_CORE = 0;
const SERVER_CORE = 1;
/** The whole run is aborted (every child stopped) past this. */
const OVERALL_TIMEOUT_MS = 15 * 60_000;

function option(name, env, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i !== -1 && process.argv[i + 1] !== undefined) return Number(process.argv[i + 1]);
  if (process.env[env] !== undefined) return Number(process.env[env]);
  return fallback;
}
const QUICK = process.argv.includes('--quick');
const SKIP_XML = process.argv.includes('--skip-xml');
const WARMUP_MS = option('warmup-ms', 'BENCH_WARMUP_MS', QUICK ? 300 : 1000);
const DURATION_MS = option('duration-ms', 'BENCH_DURATION_MS', QUICK ? 1000 : 5000);
const CONCURRENCY = 16;
const PACED_RATE = 200;
const PACED_MS = QUICK ? 1000 : 5000;
/** The gateway's overload guard sheds for up to two 1 s windows after a pause over 500 ms. */
const MAX_MESSAGE_GAP_MS = 2100;
const MAX_MESSAGES_PER_VARIANT = QUICK ? 1 : 2;
const IDLE_CONNECTIONS = QUICK ? 100 : 1000;
/**
 * Each cell is measured in ROUNDS windows of DURATION_MS / ROUNDS, the servers taking turns
 * (nginx, passthrough, gateway, then gateway, passthrough, nginx): a burst of other work on the
 * machine then falls on every server rather than on one. Later rounds need only a short warm-up
 * (the server is warm; the load generator's 16 connections are new).
 */
const ROUNDS = 2;
const LATER_WARMUP_MS = Math.min(WARMUP_MS, 500);
/** Per server and kind of traffic, before its first cell: see the warm-up loop in main(). */
const JIT_WARMUP_MS = QUICK ? 300 : 1500;
const BUSY_MAX_BODIES = 16;

const log = (line) => process.stdout.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function preflight() {
  if (!existsSync(join(ROOT, 'dist', 'gateway.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  try { execFileSync('taskset', ['-V'], { stdio: 'ignore' }); } catch { throw new Error('taskset (util-linux) is required'); }
  if (os.cpus().length < 2) throw new Error('two cores are needed: the server on core 1, the load on core 0');
}

function meta() {
  const git = (args) => { try { return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { return null; } };
  return {
    date: new Date().toISOString(),
    node: process.version,
    openssl: process.versions.openssl,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    commit: git(['rev-parse', '--short', 'HEAD']),
    dirty: (git(['status', '--porcelain', '--', 'src']) ?? '') !== '',
    warmupMs: WARMUP_MS,
    durationMs: DURATION_MS,
    concurrency: CONCURRENCY,
    loadCore: LOAD_CORE,
    serverCore: SERVER_CORE,
    quick: QUICK,
  };
}

/** Other work on the machine over one second, in cores (the bench itself is idle then). */
async function backgroundLoad() {
  const a = machineBusySeconds();
  await sleep(1000);
  return machineBusySeconds() - a;
}

async function main() {
  const started = Date.now();
  preflight();
  const info = meta();
  const tmp = await mkdtemp(join(os.tmpdir(), 'sfom-bench-'));
  // nginx workers run as `nobody` when the bench runs as root: they must traverse into their prefix.
  await chmod(tmp, 0o711);
  const results = { meta: info, cells: [], paced: [], eventLoop: [], connections: [], xmlParsers: null, notes: [] };
  try {
    log(`sfom-gateway bench — ${info.cpu}, ${info.cores} cores, Node ${info.node}, commit ${info.commit}${info.dirty ? ' (src modified)' : ''}`);
    log(`server under test on core ${SERVER_CORE}, load generator on core ${LOAD_CORE}; warm-up ${WARMUP_MS} ms, window ${DURATION_MS} ms, ${CONCURRENCY} connections`);

    const pki = await makePki(await mkdirp(join(tmp, 'pki')));
    const bodies = {};
    const payloads = { ...notificationPayloads(), 'max-text': maxTextMessage(), 'max-fields': maxFieldsMessage() };
    for (const [name, buffer] of Object.entries(payloads)) {
      bodies[name] = join(tmp, `payload-${name}.xml`);
      await writeFile(bodies[name], buffer);
    }
    results.meta.payloadBytes = Object.fromEntries(Object.entries(payloads).map(([k, v]) => [k, v.length]));
    const tls = { cert: pki.client.certPath, key: pki.client.keyPath, ca: pki.ca.certPath };

    const idle = await backgroundLoad();
    results.meta.backgroundCoresAtStart = idle;
    log(`background load before start: ${idle.toFixed(2)} cores busy${idle > 0.2 ? '  (!) other work on this machine: figures will be noisier' : ''}`);

    const nginxBin = findNginx();
    results.meta.nginx = nginxBin ? nginxVersion(nginxBin) : null;
    if (!nginxBin) {
      const note = 'nginx is not installed: the nginx cells and the gateway/nginx ratios are skipped (apt-get install -y nginx)';
      results.notes.push(note);
      log(`NOTE: ${note}`);
    } else {
      log(`nginx: ${results.meta.nginx} (${nginxBin})`);
    }

    const internal = await startUpstream({ core: LOAD_CORE, name: 'internal' });
    const direct = await startUpstream({ core: SERVER_CORE, name: 'direct' });
    const benchPids = (server, others) => [process.pid, internal.pid, ...others.filter((s) => s && s !== server).map((s) => s.pid)];

    /** Measures one cell for each of `servers`, in ROUNDS alternating rounds; records the sums. */
    const runCells = async (servers, others, cert, mode, n) => {
      const rounds = new Map(servers.map((s) => [s, []]));
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? servers : [...servers].reverse();
        for (const server of order) {
          rounds.get(server).push(await measureCell(server, others, mode, n, round === 0 ? WARMUP_MS : LATER_WARMUP_MS, DURATION_MS / ROUNDS));
        }
      }
      for (const server of servers) {
        const r = combineRounds(rounds.get(server), n);
        results.cells.push({ server: server.name, cert, mode, notifications: n, ...r });
        log(`  ${server.name.padEnd(11)} ${cert.padEnd(5)} ${mode.padEnd(14)} ${String(n).padStart(3)} notif: ` +
          `${r.reqPerSec.toFixed(0).padStart(6)} req/s  p50 ${r.p50Ms?.toFixed(2) ?? '-'} ms  p99 ${r.p99Ms?.toFixed(2) ?? '-'} ms  ` +
          `CPU ${r.cpuPerReqUs?.toFixed(0) ?? '-'} µs/req  errors ${r.errors}  other load ${r.otherCpuUtil.toFixed(2)} cores`);
        if (r.errors > 0) log(`    errors: ${JSON.stringify(r.errorSamples)}`);
        if (mode === 'new-connection' && r.resumed > 0) log(`    (!) ${r.resumed} resumed sessions`);
      }
    };

    const measureCell = (server, others, mode, n, warmupMs, durationMs) => runLoad({
      kind: 'closed',
      target: { protocol: server.name === 'direct' ? 'http' : 'https', port: server.port, path: '/outbound/contact' },
      tls,
      newConnection: mode === 'new-connection',
      concurrency: CONCURRENCY,
      warmupMs,
      durationMs,
      bodyFile: bodies[n],
      notifications: n,
      serverPid: server.pid,
      benchPids: benchPids(server, others),
    }, { core: LOAD_CORE, timeoutMs: warmupMs + durationMs + 45_000 });

    const runPaced = async (server, others) => {
      const r = await runLoad({
        kind: 'paced',
        target: { protocol: server.name === 'direct' ? 'http' : 'https', port: server.port, path: '/outbound/contact' },
        tls, rate: PACED_RATE, concurrency: CONCURRENCY, warmupMs: WARMUP_MS, durationMs: PACED_MS,
        bodyFile: bodies[100], notifications: 100, serverPid: server.pid, benchPids: benchPids(server, others),
      }, { core: LOAD_CORE, timeoutMs: WARMUP_MS + PACED_MS + 45_000 });
      const { latencyBuckets: _buckets, ...figures } = r;
      results.paced.push({ server: server.name, cert: server.name === 'direct' ? '-' : 'rsa', notifications: 100, ...figures });
      log(`  paced ${server.name.padEnd(11)} ${PACED_RATE} msg/s × 100 notif: p50 ${r.p50Ms?.toFixed(2)} ms  p99 ${r.p99Ms?.toFixed(2)} ms  ` +
        `CPU ${r.cpuPerReqUs?.toFixed(0)} µs/msg  errors ${r.errors}  dropped ${r.dropped}`);
    };

    // ---- direct: the internal service alone, plain http (the limit) ----
    log('\n[direct] the internal service alone, plain http');
    await runCells([direct], [], '-', 'new-connection', 1);
    for (const n of [1, 10, 100]) await runCells([direct], [], '-', 'keep-alive', n);

    // ---- the three mTLS servers, interleaved cell by cell, RSA then ECDSA ----
    for (const cert of ['rsa', 'ecdsa']) {
      log(`\n[${cert.toUpperCase()} server certificate] nginx, passthrough and gateway, interleaved`);
      const servers = [];
      if (nginxBin) {
        servers.push(await startNginx({ core: SERVER_CORE, bin: nginxBin, pki, cert, upstreamPort: internal.port, prefix: join(tmp, `nginx-${cert}`) }));
      }
      servers.push(await startPassthrough({ core: SERVER_CORE, pki, cert, upstreamPort: internal.port }));
      const gateway = await startGateway({ core: SERVER_CORE, pki, cert, upstreamPort: internal.port });
      servers.push(gateway);
      const everyone = [...servers, direct];
      const cells = [['new-connection', 1], ['keep-alive', 1], ['keep-alive', 10], ['keep-alive', 100]];
      // Unmeasured: every server gets every kind of traffic first, so that no cell measures V8
      // still compiling the hot paths (the Node servers took several seconds to settle; the first
      // cell, new-connection, used to catch the gateway half-compiled).
      for (const server of servers) {
        for (const [mode, n] of cells) await measureCell(server, everyone, mode, n, JIT_WARMUP_MS, 200);
      }
      for (const [mode, n] of cells) {
        await runCells(servers, everyone, cert, mode, n);
      }
      if (cert === 'rsa') {
        log(`\n[paced] ${PACED_RATE} messages/s of 100 notifications, keep-alive, RSA`);
        for (const server of [direct, ...servers]) await runPaced(server, everyone);
        log('\n[event loop] the gateway handling maximum-size messages, one at a time');
        for (const variant of ['max-text', 'max-fields']) {
          await sleep(MAX_MESSAGE_GAP_MS);
          await ask(gateway.child, { type: 'eld', action: 'start' }, 5000, 'gateway event-loop monitor');
          const r = await runLoad({
            kind: 'sequential',
            target: { protocol: 'https', port: gateway.port, path: '/outbound/contact' },
            tls, count: MAX_MESSAGES_PER_VARIANT, gapMs: MAX_MESSAGE_GAP_MS, bodyFile: bodies[variant], notifications: 100,
            serverPid: gateway.pid, benchPids: benchPids(gateway, everyone),
          }, { core: LOAD_CORE, timeoutMs: 60_000 });
          const eld = await ask(gateway.child, { type: 'eld', action: 'read' }, 5000, 'gateway event-loop monitor');
          const entry = { variant, bytes: r.bytes, messages: MAX_MESSAGES_PER_VARIANT, ok: r.ok, errors: r.errors, errorSamples: r.errorSamples,
            latenciesMs: r.latenciesMs, worstPauseMs: eld.maxMs, p99DelayMs: eld.p99Ms, otherCpuUtil: r.otherCpuUtil };
          results.eventLoop.push(entry);
          log(`  ${variant.padEnd(10)} ${(r.bytes / 1e6).toFixed(2)} MB: worst event-loop pause ${eld.maxMs?.toFixed(1)} ms, ` +
            `request latency ${r.latenciesMs.map((x) => x.toFixed(0)).join(', ')} ms, acked ${r.ok}/${MAX_MESSAGES_PER_VARIANT}`);
        }
      }
      for (const s of servers) await s.stop();
    }
    await direct.stop();

    // ---- memory: 1,000 open connections plus 16 maximum-size bodies at once ----
    log(`\n[memory] ${IDLE_CONNECTIONS} open keep-alive connections, then ${BUSY_MAX_BODIES} concurrent max-fields bodies (RSA; fresh processes)`);
    const memoryServers = [
      ...(nginxBin ? [() => startNginx({ core: SERVER_CORE, bin: nginxBin, pki, cert: 'rsa', upstreamPort: internal.port, prefix: join(tmp, 'nginx-memory'), limits: MANY_CONNECTION_LIMITS })] : []),
      () => startPassthrough({ core: SERVER_CORE, pki, cert: 'rsa', upstreamPort: internal.port, limits: MANY_CONNECTION_LIMITS }),
      // The event-loop-delay guard is lifted here (heap and buffer budgets stay): with it, the
      // gateway sheds most of the 16 bodies with 503 while it parses the first ones, and the
      // scenario would measure the shedding, not the memory of 16 bodies held at once.
      () => startGateway({ core: SERVER_CORE, pki, cert: 'rsa', upstreamPort: internal.port, limits: MANY_CONNECTION_LIMITS,
        overload: { maxEventLoopDelayMs: 3_600_000 } }),
    ];
    for (const make of memoryServers) {
      const server = await make();
      try {
        await sleep(200);
        const r = await runLoad({
          kind: 'connections',
          target: { protocol: 'https', port: server.port, path: '/outbound/contact' },
          tls, idle: IDLE_CONNECTIONS, busy: BUSY_MAX_BODIES, openConcurrency: 32, openTimeoutMs: 40_000,
          smallBodyFile: bodies[1], bigBodyFile: bodies['max-fields'], serverPid: server.pid,
        }, { core: LOAD_CORE, timeoutMs: 180_000 });
        results.connections.push({ server: server.name, cert: 'rsa', ...r });
        log(`  ${server.name.padEnd(11)} RSS at start ${mib(r.baselineRssBytes)} MiB, with ${r.idleOpen} connections ${mib(r.idleRssBytes)} MiB, ` +
          `peak with ${BUSY_MAX_BODIES} bodies ${mib(r.hwmBytes)} MiB; bodies acked ${r.ok}/${BUSY_MAX_BODIES} in ${r.busySeconds.toFixed(1)} s` +
          `${r.errors ? `; errors ${JSON.stringify(r.errorSamples)}` : ''}`);
      } finally {
        await server.stop();
      }
    }
    await internal.stop();

    // ---- the XML parsers, in-process ----
    if (!SKIP_XML) {
      log('\n[xml parsers] micro-benchmark (bench/xml-parsers.mjs), pinned to core 1');
      results.xmlParsers = await runXmlParsers();
    }
  } finally {
    await stopAll();
    await rm(tmp, { recursive: true, force: true });
  }

  results.goals = evaluateGoals(results);
  results.meta.elapsedSeconds = (Date.now() - started) / 1000;
  log(`\n${formatReport(results)}`);
  const outDir = join(HERE, 'out');
  await mkdir(outDir, { recursive: true });
  const stamp = results.meta.date.replace(/:/g, '').replace(/\.\d+Z$/, 'Z');
  const file = join(outDir, `results-${stamp}.json`);
  await writeFile(file, JSON.stringify(results, null, 2) + '\n');
  log(`\nwritten: ${file} (${results.meta.elapsedSeconds.toFixed(0)} s)`);
}

/** One cell's figures from its rounds: sums of answers, CPU and time; merged latencies. */
function combineRounds(rounds, notifications) {
  const sum = (key) => rounds.reduce((t, r) => t + (r[key] ?? 0), 0);
  const seconds = sum('seconds');
  const requests = sum('requests');
  const cpu = sum('cpuSeconds');
  const latency = new LogHistogram();
  for (const r of rounds) latency.merge(new LogHistogram(r.latencyBuckets));
  const errorSamples = {};
  for (const r of rounds) for (const [k, v] of Object.entries(r.errorSamples)) errorSamples[k] = (errorSamples[k] ?? 0) + v;
  const weighted = (key) => rounds.reduce((t, r) => t + r[key] * r.seconds, 0) / seconds;
  const first = rounds[0];
  return {
    rounds: rounds.length,
    requests,
    ok: sum('ok'),
    errors: sum('errors'),
    errorSamples,
    seconds,
    reqPerSec: requests / seconds,
    notificationsPerSec: (requests * notifications) / seconds,
    p50Ms: latency.count > 0 ? latency.percentile(50) / 1e6 : null,
    p99Ms: latency.count > 0 ? latency.percentile(99) / 1e6 : null,
    cpuSeconds: cpu,
    // Per acknowledged message (see loadgen.mjs windowFigures).
    cpuPerReqUs: sum('ok') > 0 ? (cpu / sum('ok')) * 1e6 : null,
    serverCpuUtil: cpu / seconds,
    loadCpuUtil: weighted('loadCpuUtil'),
    otherCpuUtil: weighted('otherCpuUtil'),
    peakRssBytes: Math.max(...rounds.map((r) => r.peakRssBytes ?? 0)),
    hwmBytes: Math.max(...rounds.map((r) => r.hwmBytes ?? 0)),
    handshakes: sum('handshakes'),
    resumed: sum('resumed'),
    protocol: first.protocol,
    cipher: first.cipher,
    keyExchange: first.keyExchange,
    perRound: rounds.map((r) => ({ requests: r.requests, seconds: r.seconds, cpuPerReqUs: r.cpuPerReqUs, otherCpuUtil: r.otherCpuUtil, errors: r.errors })),
  };
}

async function mkdirp(dir) {
  await mkdir(dir, { recursive: true });
  return dir;
}

function mib(bytes) {
  return bytes == null ? '-' : (bytes / 2 ** 20).toFixed(0);
}

async function runXmlParsers() {
  const child = start(process.execPath, [join(HERE, 'xml-parsers.mjs'), '--json', ...(QUICK ? ['--quick'] : [])], { core: SERVER_CORE });
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  const timer = setTimeout(() => void stop(child), 90_000);
  const code = await new Promise((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);
  if (code !== 0) {
    log(`  xml-parsers failed (${code}): ${child.tail.slice(-5).join(' | ')}`);
    return null;
  }
  const parsed = JSON.parse(out.slice(out.indexOf('{')));
  log(parsed.table);
  return parsed;
}

const overall = setTimeout(() => {
  process.stderr.write(`bench: over ${OVERALL_TIMEOUT_MS / 60_000} minutes, aborting\n`);
  void stopAll().finally(() => process.exit(2));
}, OVERALL_TIMEOUT_MS);

main().then(() => {
  clearTimeout(overall);
}, async (err) => {
  clearTimeout(overall);
  if (interrupted()) process.stderr.write(`bench interrupted (${interrupted()}): every child process stopped, nothing written\n`);
  else process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
  await stopAll();
  process.exitCode = 1;
});

