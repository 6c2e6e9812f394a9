/**
 * `workers: 1` against `workers: 2` (node:cluster), through the real CLI (`sfom-gateway start
 * --config`): total throughput and CPU per request of the whole process tree (primary and
 * workers), keep-alive and new-connection, 1 notification. Not pinned: with 2 workers the
 * gateway may use both cores, shared with the load generator, so on this 2-core machine the
 * figures show the cost of the cluster more than its gain (the gain needs cores the load
 * generator does not take). Run: npm run build && node bench/workers.mjs
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLoad } from './lib/load.mjs';
import { notificationPayloads } from './lib/payloads.mjs';
import { makePki } from './lib/pki.mjs';
import { freePort, gatewayConfig, startUpstream } from './lib/servers.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DURATION_MS = 6000;
const WARMUP_MS = 1000;

function accepts(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

async function startCluster(config, file, workers) {
  await writeFile(file, JSON.stringify({ ...config, workers }));
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'start', '--config', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c) => { out += c.toString(); });
  // Logs are at warn (as in the main bench), so readiness is read off the port, then a pause
  // for every worker to be up.
  const deadline = Date.now() + 20_000;
  while (!(await accepts(config.listen.port))) {
    if (Date.now() > deadline) throw new Error(`gateway with ${workers} workers did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 1500));
  return child;
}

async function main() {
  const tmp = await mkdtemp(join(os.tmpdir(), 'sfom-bench-workers-'));
  const pki = await makePki(tmp);
  const body = join(tmp, 'contact-1.xml');
  await writeFile(body, notificationPayloads()[1]);
  const upstream = await startUpstream({ core: null, name: 'internal' });
  const tls = { cert: pki.client.certPath, key: pki.client.keyPath, ca: pki.ca.certPath };
  const rows = [];
  try {
    for (const workers of [1, 2]) {
      const port = await freePort();
      const config = gatewayConfig({ pki, cert: 'ecdsa', upstreamPort: upstream.port });
      config.listen = { host: '127.0.0.1', port };
      const child = await startCluster(config, join(tmp, `workers-${workers}.json`), workers);
      try {
        for (const mode of ['keep-alive', 'new-connection']) {
          const r = await runLoad({
            kind: 'closed',
            target: { protocol: 'https', port, path: '/outbound/contact' },
            tls, newConnection: mode === 'new-connection', concurrency: 16, warmupMs: WARMUP_MS, durationMs: DURATION_MS,
            bodyFile: body, notifications: 1, serverPid: child.pid, benchPids: [process.pid, upstream.pid],
          }, { core: null, timeoutMs: WARMUP_MS + DURATION_MS + 45_000 });
          rows.push({ workers, mode, reqPerSec: r.reqPerSec, cpuPerReqUs: r.cpuPerReqUs, p99Ms: r.p99Ms, errors: r.errors });
          console.log(`workers=${workers} ${mode.padEnd(14)} ${r.reqPerSec.toFixed(0).padStart(6)} req/s  ` +
            `CPU ${r.cpuPerReqUs.toFixed(0)} µs/req (primary + workers)  p99 ${r.p99Ms.toFixed(1)} ms  errors ${r.errors}`);
        }
      } finally {
        // The primary alone: it stops its workers (a signal to each would look like a crash).
        process.kill(child.pid, 'SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    }
  } finally {
    await upstream.stop();
  }
  const [k1, n1, k2, n2] = rows;
  console.log(`\n2 workers / 1 worker: keep-alive throughput ${(k2.reqPerSec / k1.reqPerSec).toFixed(2)}×, CPU/req ${(k2.cpuPerReqUs / k1.cpuPerReqUs).toFixed(2)}×; ` +
    `new-connection throughput ${(n2.reqPerSec / n1.reqPerSec).toFixed(2)}×, CPU/req ${(n2.cpuPerReqUs / n1.cpuPerReqUs).toFixed(2)}×`);
}

main().catch((err) => { console.error(err); process.exitCode = 1; });
