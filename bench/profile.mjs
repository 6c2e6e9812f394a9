/**
 * Profiles the gateway process in one bench cell: the launcher runs under `node --cpu-prof`
 * (pinned to core 1, the load on core 0, as in run.mjs), the cell runs, the gateway is closed
 * through IPC so V8 writes the profile, and the profile is summarised (cpuprofile-summary.mjs).
 *
 *   npm run build && node bench/profile.mjs --cell keep-alive-100 --cert rsa
 *
 * --cell: new-connection | keep-alive-1 | keep-alive-10 | keep-alive-100 | max-fields | max-text
 * --perf: also sample the whole process with Linux perf (perf record -g), which sees what the V8
 *         profile cannot: OpenSSL, libuv, the kernel. V8 counts native work that runs from an
 *         I/O callback with no JavaScript on the stack (TLS handshakes and record decryption)
 *         as "(idle)". --server nginx|passthrough|gateway picks whose process perf samples
 *         (nginx: its worker); the V8 profile is for the gateway only.
 * --perf-report FILE: summarise an existing perf.data file.
 * Profiles are kept in bench/out/profiles/ (git-ignored): open them in Chrome DevTools too.
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { start, stop, stopAll } from './lib/children.mjs';
import { findNginx } from './lib/nginx.mjs';
import { descendants } from './lib/proc.mjs';
import { runLoad } from './lib/load.mjs';
import { makePki } from './lib/pki.mjs';
import { maxFieldsMessage, maxTextMessage, notificationPayloads } from './lib/payloads.mjs';
import { startGateway, startNginx, startPassthrough, startUpstream } from './lib/servers.mjs';
import { formatSummary, summarise } from './cpuprofile-summary.mjs';
import { perfSummary } from './lib/perf.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
if (arg('perf-report', null)) {
  // Summarise an existing perf.data file and stop.
  console.log(await perfSummary(arg('perf-report', null)));
  process.exit(0);
}
const cell = arg('cell', 'keep-alive-100');
const cert = arg('cert', 'rsa');
const durationMs = Number(arg('duration-ms', '5000'));
const serverName = arg('server', 'gateway');
const PERF = process.argv.includes('--perf');
const CELLS = {
  'new-connection': { mode: 'new-connection', payload: 1 },
  'keep-alive-1': { mode: 'keep-alive', payload: 1 },
  'keep-alive-10': { mode: 'keep-alive', payload: 10 },
  'keep-alive-100': { mode: 'keep-alive', payload: 100 },
  'max-text': { mode: 'sequential', payload: 'max-text' },
  'max-fields': { mode: 'sequential', payload: 'max-fields' },
};
if (!CELLS[cell] || !['rsa', 'ecdsa'].includes(cert) || !['gateway', 'nginx', 'passthrough'].includes(serverName) || (serverName !== 'gateway' && !PERF)) {
  console.error(`usage: node bench/profile.mjs --cell ${Object.keys(CELLS).join('|')} --cert rsa|ecdsa [--duration-ms N] [--perf [--server gateway|nginx|passthrough]]`);
  process.exit(2);
}

const tmp = await mkdtemp(join(os.tmpdir(), 'sfom-profile-'));
const profileDir = join(HERE, 'out', 'profiles');
await mkdir(profileDir, { recursive: true });
try {
  const pki = await makePki(tmp);
  const spec = CELLS[cell];
  const payloads = { ...notificationPayloads(), 'max-text': maxTextMessage(), 'max-fields': maxFieldsMessage() };
  const bodyFile = join(tmp, 'payload.xml');
  await writeFile(bodyFile, payloads[spec.payload]);
  const internal = await startUpstream({ core: 0, name: 'internal' });
  const before = new Set(await readdir(profileDir));
  let server;
  if (serverName === 'gateway') {
    server = await startGateway({
      core: 1, pki, cert, upstreamPort: internal.port,
      execArgv: ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-interval', '250', ...(PERF ? ['--perf-basic-prof-only-functions'] : [])],
    });
  } else if (serverName === 'passthrough') {
    server = await startPassthrough({ core: 1, pki, cert, upstreamPort: internal.port });
  } else {
    const bin = findNginx();
    if (!bin) throw new Error('nginx is not installed');
    server = await startNginx({ core: 1, bin, pki, cert, upstreamPort: internal.port, prefix: join(tmp, 'nginx') });
  }
  const target = { protocol: 'https', port: server.port, path: '/outbound/contact' };
  const tls = { cert: pki.client.certPath, key: pki.client.keyPath, ca: pki.ca.certPath };
  let perf = null;
  const perfFile = join(profileDir, `perf-${serverName}-${cell}-${cert}-${Date.now()}.data`);
  if (PERF) {
    // nginx: the worker does the work; node: the process itself (all its threads).
    const pid = serverName === 'nginx' ? descendants(server.pid)[0] : server.pid;
    perf = start('perf', ['record', '-F', '999', '-g', '-p', String(pid), '-o', perfFile], { core: 0 });
    await new Promise((r) => setTimeout(r, 500));
  }
  const result = spec.mode === 'sequential'
    ? await runLoad({ kind: 'sequential', target, tls, count: 3, gapMs: 2100, bodyFile, notifications: 100 }, { timeoutMs: 60_000 })
    : await runLoad({
      kind: 'closed', target, tls, newConnection: spec.mode === 'new-connection', concurrency: 16,
      warmupMs: 1000, durationMs, bodyFile, notifications: spec.payload, serverPid: server.pid, benchPids: [internal.pid],
    }, { timeoutMs: durationMs + 60_000 });
  console.log(`cell ${cell} ${cert}, ${serverName}: ${result.requests ?? result.ok} requests, errors ${result.errors}` +
    (result.cpuPerReqUs ? `, ${result.cpuPerReqUs.toFixed(0)} µs CPU/req (under the profiler)` : '') +
    (result.errors ? `\n  errors: ${JSON.stringify(result.errorSamples)}` : ''));
  if (perf) {
    await stop(perf, 'SIGINT', 10_000);
    console.log(`perf data: ${perfFile}\n`);
    console.log(await perfSummary(perfFile));
  }
  if (serverName === 'gateway') {
    server.child.send({ type: 'stop' });
    await new Promise((r) => server.child.once('exit', r));
    const fresh = (await readdir(profileDir)).filter((f) => f.endsWith('.cpuprofile') && !before.has(f));
    if (fresh.length === 0) throw new Error('no .cpuprofile was written');
    const name = `gateway-${cell}-${cert}-${Date.now()}.cpuprofile`;
    await rename(join(profileDir, fresh[0]), join(profileDir, name));
    console.log(`\nV8 profile: ${join(profileDir, name)}\n`);
    console.log(formatSummary(summarise(JSON.parse(await readFile(join(profileDir, name), 'utf8')))));
  } else {
    await server.stop();
  }
  await internal.stop();
} finally {
  await stopAll();
  await rm(tmp, { recursive: true, force: true });
}
