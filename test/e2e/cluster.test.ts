/**
 * `workers: 2`: two processes share the listening port, each with the whole pipeline. Reload
 * (SIGHUP to the primary) and graceful stop reach every worker; a worker that dies is replaced
 * while the other keeps serving; /metrics sums the workers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../helpers/cli.js';
import { post, type ClientIdentity } from '../helpers/client.js';
import { fixture, FIXTURE_ORG } from '../helpers/gateway.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { fakeUpstream, type FakeUpstream } from '../helpers/upstream.js';


function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}
function get(port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}
async function until(what: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await what()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

let pki: Pki;
let upstream: FakeUpstream;
let child: ChildProcess;
let output = '';
let port: number;
let adminPort: number;
let file: string;
let raw: Record<string, unknown>;
let contact1: string;
let salesforce: ClientIdentity;
const logLines = (): Array<Record<string, unknown>> =>
  output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  pki = await makePki({ prefix: 'sfom-cluster-' });
  upstream = await fakeUpstream();
  contact1 = await fixture('contact-1.xml');
  salesforce = { cert: pki.client.certPem, key: pki.client.keyPem, ca: pki.ca.certPem };
  [port, adminPort] = [await freePort(), await freePort()];
  file = path.join(pki.dir, 'cluster.yaml');
  raw = {
    listen: { host: '127.0.0.1', port },
    tls: { cert: pki.server.certPath, key: pki.server.keyPath, clientCa: pki.ca.certPath, clientCertificates: [pki.client.certPath] },
    allowlist: { cidrs: ['127.0.0.1/32'] },
    organizations: [FIXTURE_ORG],
    upstream: { allowedPorts: [upstream.port] },
    routes: [{ path: '/outbound/contact', target: upstream.url('/contact'), format: 'soap' }],
    admin: { host: '127.0.0.1', port: adminPort },
    workers: 2,
    limits: { shutdownGraceMs: 1000 },
    log: { level: 'info' },
  };
  await writeFile(file, stringify(raw));
  child = spawn(process.execPath, [CLI, 'start', '--config', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => { output += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { output += c.toString(); });
  await until(async () => (await get(adminPort, '/readyz').catch(() => ({ status: 0 }))).status === 200);
});
afterAll(async () => {
  if (process.env.SFOM_DEBUG_CLUSTER) console.log(output);
  child.kill('SIGKILL');
  await upstream.close();
  await pki.cleanup();
});

describe('two workers', () => {
  it('serves from both workers and sums their metrics', async () => {
    for (let i = 0; i < 12; i++) expect((await post(port, salesforce, { body: contact1 })).status).toBe(200);
    const pids = new Set(logLines().filter((l) => l.event === 'request').map((l) => l.pid));
    expect(pids.size).toBe(2);
    const metrics = await get(adminPort, '/metrics');
    expect(metrics.body).toMatch(/sfom_requests_total\{route="\/outbound\/contact",outcome="acked",reason="OK"\} 12/);
  });

  it('replaces a worker that dies while the other keeps serving', async () => {
    const workerPids = [...new Set(logLines().filter((l) => l.event === 'request').map((l) => l.pid as number))];
    process.kill(workerPids[0]!, 'SIGKILL');
    // Once the primary has seen the exit, the other worker takes every new connection.
    await until(() => logLines().some((l) => l.event === 'worker_exit'));
    for (let i = 0; i < 6; i++) expect((await post(port, salesforce, { body: contact1, timeoutMs: 5000 })).status).toBe(200);
    await until(async () => (await get(adminPort, '/readyz')).status === 200);
    await until(() => logLines().filter((l) => l.event === 'listening').length >= 3);
  });

  it('reloads every worker on SIGHUP to the primary', async () => {
    await writeFile(file, stringify({ ...raw, organizations: ['00D000000000001EAA'] }));
    const before = logLines().filter((l) => l.event === 'reload' && l.result === 'success').length;
    child.kill('SIGHUP');
    await until(() => logLines().filter((l) => l.event === 'reload' && l.result === 'success').length >= before + 2);
    for (let i = 0; i < 6; i++) {
      const a = await post(port, salesforce, { body: contact1 });
      expect(a.status).toBe(403);
      expect(a.body).toContain('GW_ERR_ORG_DENIED');
    }
  });

  it('stops every worker and exits 0 on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(logLines().filter((l) => l.event === 'stopped').length).toBeGreaterThanOrEqual(2);
  });
});
