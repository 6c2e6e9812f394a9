/**
 * Operating without downtime: under a continuous, bounded loop of real mTLS requests, rotate the
 * server certificate, add a new client pin then remove the old one, and change the allowlist,
 * all by reload. No request that should succeed fails; after the removal the old client is
 * refused; a broken configuration changes nothing.
 */
import { copyFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { connectTls, post, type ClientIdentity } from '../helpers/client.js';
import { fixture, FIXTURE_ORG } from '../helpers/gateway.js';
import { logSink, type LogSink } from '../helpers/log-sink.js';
import { makePki, SERVER_SANS, type Pki } from '../helpers/pki.js';
import { fakeUpstream, type FakeUpstream } from '../helpers/upstream.js';

let pki: Pki;
let upstream: FakeUpstream;
let logs: LogSink;
let gateway: Gateway;
let port: number;
let contact1: string;
let configFile: string;
let raw: Record<string, unknown>;
const load = (): ReturnType<typeof loadConfig> => loadConfig(configFile, { allowPortZero: true });
const write = (obj: Record<string, unknown>): Promise<void> => writeFile(configFile, stringify(obj));
let salesforce: ClientIdentity;
let salesforceNew: ClientIdentity;

beforeAll(async () => {
  pki = await makePki();
  upstream = await fakeUpstream();
  logs = logSink();
  contact1 = await fixture('contact-1.xml');
  salesforce = { cert: pki.client.certPem, key: pki.client.keyPem, ca: pki.ca.certPem };
  salesforceNew = { cert: pki.client2.certPem, key: pki.client2.keyPem, ca: pki.ca.certPem };
  // Files under stable names, as an operator keeps them; rotation replaces their contents.
  await copyFile(pki.server.certPath, path.join(pki.dir, 'server.crt'));
  await copyFile(pki.server.keyPath, path.join(pki.dir, 'server.key'));
  configFile = path.join(pki.dir, 'gateway.yaml');
  raw = {
    listen: { host: '127.0.0.1', port: 0 },
    tls: { cert: 'server.crt', key: 'server.key', clientCa: path.basename(pki.ca.certPath), clientCertificates: [path.basename(pki.client.certPath)] },
    allowlist: { cidrs: ['127.0.0.1/32'] },
    organizations: [FIXTURE_ORG],
    upstream: { allowedPorts: [upstream.port] },
    routes: [{ path: '/outbound/contact', target: upstream.url('/contact'), format: 'soap', timeoutMs: 3000 }],
    log: { level: 'info' },
  };
  await write(raw);
  gateway = new Gateway(await load(), { logDestination: logs.stream });
  port = (await gateway.start()).port;
});
afterAll(async () => {
  await gateway.close(0);
  await upstream.close();
  await pki.cleanup();
});

/** A bounded loop of requests over a keep-alive agent plus fresh connections, counting outcomes. */
function loadLoop(identity: () => ClientIdentity): { stop: () => Promise<{ ok: number; failed: string[] }> } {
  let running = true;
  const failed: string[] = [];
  let ok = 0;
  const worker = async (keepAlive: boolean): Promise<void> => {
    let agent: https.Agent | false = false;
    let current = identity();
    for (let i = 0; running && i < 2000; i++) {
      if (identity() !== current || !agent) {
        current = identity();
        if (agent) agent.destroy();
        agent = keepAlive ? new https.Agent({ keepAlive: true, maxSockets: 2, ...current, servername: 'localhost' }) : false;
      }
      try {
        const a = await post(port, current, { body: contact1, agent });
        if (a.status === 200 && a.body.includes('<Ack>true</Ack>')) ok++;
        else failed.push(`${a.status} ${a.body.slice(0, 120)}`);
      } catch (e) {
        failed.push(String(e));
      }
    }
    if (agent) agent.destroy();
  };
  const done = Promise.all([worker(true), worker(true), worker(false)]);
  return { stop: async () => { running = false; await done; return { ok, failed }; } };
}

async function serverFingerprint(): Promise<string> {
  const s = await connectTls(port, salesforce);
  const fp = s.getPeerX509Certificate()!.fingerprint256;
  s.destroy();
  return fp;
}

describe('reload under load', () => {
  it('rotates the server certificate, client pins and allowlist with no failed request', async () => {
    let who = salesforce;
    const loop = loadLoop(() => who);
    await new Promise((r) => setTimeout(r, 300));

    // 1. Server certificate renewal: new certificate and key under the same file names.
    const renewed = await pki.makeCert({ subject: 'CN=localhost renewed', issuer: pki.ca, sans: SERVER_SANS, eku: ['serverAuth'] }, 'renewed');
    await copyFile(renewed.certPath, path.join(pki.dir, 'server.crt'));
    await copyFile(renewed.keyPath, path.join(pki.dir, 'server.key'));
    expect(await gateway.reload(load)).toEqual({ ok: true, restartNeeded: [] });
    expect(await serverFingerprint()).toBe(renewed.x509.fingerprint256);
    await new Promise((r) => setTimeout(r, 200));

    // 2. Salesforce's new certificate, added as a second pin; traffic moves over to it.
    (raw.tls as Record<string, unknown>).clientCertificates = [path.basename(pki.client.certPath), path.basename(pki.client2.certPath)];
    await write(raw);
    expect((await gateway.reload(load)).ok).toBe(true);
    expect((await post(port, salesforceNew, { body: contact1 })).status).toBe(200);
    expect((await post(port, salesforce, { body: contact1 })).status).toBe(200);
    who = salesforceNew;
    await new Promise((r) => setTimeout(r, 300));

    // 3. The old pin removed: the old certificate is refused, on new and on kept-alive connections.
    const oldAgent = new https.Agent({ keepAlive: true, maxSockets: 1, ...salesforce, servername: 'localhost' });
    expect((await post(port, salesforce, { body: contact1, agent: oldAgent })).status).toBe(200);
    (raw.tls as Record<string, unknown>).clientCertificates = [path.basename(pki.client2.certPath)];
    await write(raw);
    expect((await gateway.reload(load)).ok).toBe(true);
    const refused = await post(port, salesforce, { body: contact1 });
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('GW_ERR_CLIENT_CERT_DENIED');
    expect((await post(port, salesforce, { body: contact1, agent: oldAgent })).status).toBe(403);
    oldAgent.destroy();

    // 4. The allowlist grows to another source address.
    expect((await post(port, salesforceNew, { body: contact1, localAddress: '127.0.0.2' }).catch(() => null))).toBeNull();
    raw.allowlist = { cidrs: ['127.0.0.1/32', '127.0.0.2/32'] };
    await write(raw);
    expect((await gateway.reload(load)).ok).toBe(true);
    expect((await post(port, salesforceNew, { body: contact1, localAddress: '127.0.0.2' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));

    const result = await loop.stop();
    expect(result.failed).toEqual([]);
    expect(result.ok).toBeGreaterThan(20);
    const reloads = logs.records().filter((r) => r.event === 'reload');
    expect(reloads.map((r) => r.result)).toEqual(['success', 'success', 'success', 'success']);
    expect(await gateway.metrics.metrics()).toMatch(/sfom_config_reloads_total\{result="success"\} 4/);
  });

  it('keeps the old configuration whole when the new one is broken', async () => {
    const before = await serverFingerprint();
    const broken = { ...raw, organizations: ['00D000000000001EAB'], routes: [], tls: { ...(raw.tls as object), cert: 'missing.crt' } };
    await write(broken);
    const outcome = await gateway.reload(load);
    expect(outcome.ok).toBe(false);
    const paths = outcome.ok ? [] : outcome.problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['organizations[0]', 'routes', 'tls.cert']));
    const line = logs.records().filter((r) => r.event === 'reload').at(-1)!;
    expect(line).toMatchObject({ result: 'failure', level: 'error' });
    expect(JSON.stringify(line.problems)).toContain('tls.cert');
    // still serving, with the same certificate and rules
    expect(await serverFingerprint()).toBe(before);
    expect((await post(port, salesforceNew, { body: contact1 })).status).toBe(200);
    await write(raw);
  });

  it('says that a change of listen needs a restart', async () => {
    await write({ ...raw, listen: { host: '127.0.0.1', port: 1 + port } });
    const outcome = await gateway.reload(load);
    expect(outcome).toEqual({ ok: true, restartNeeded: ['listen'] });
    expect(gateway.address()?.port).toBe(port);
    await write(raw);
    await gateway.reload(load);
  });

  it('lets a request in flight finish under the configuration it started with', async () => {
    const socket = await connectTls(port, salesforceNew);
    const body = Buffer.from(contact1);
    socket.write(`POST /outbound/contact HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body.subarray(0, 100));
    await new Promise((r) => setTimeout(r, 100));
    // The organization is removed while the request is being read.
    await write({ ...raw, organizations: ['00D000000000001EAA'] });
    expect((await gateway.reload(load)).ok).toBe(true);
    const answer = await new Promise<string>((resolve) => {
      let out = '';
      socket.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('</soapenv:Envelope>')) resolve(out); });
      socket.write(body.subarray(100));
    });
    socket.destroy();
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toContain('<Ack>true</Ack>');
    const next = await post(port, salesforceNew, { body: contact1 });
    expect(next.status).toBe(403);
    expect(next.body).toContain('GW_ERR_ORG_DENIED');
    await write(raw);
    await gateway.reload(load);
  });
});

describe('expiry warnings', () => {
  it('warns at start about a certificate that expires in 5 days', async () => {
    const soon = await pki.expiringSoon(5);
    const sink = logSink();
    const file = path.join(pki.dir, 'soon.yaml');
    await writeFile(file, stringify({ ...raw, tls: { ...(raw.tls as object), cert: soon.certPath, key: soon.keyPath } }));
    const g = new Gateway(await loadConfig(file, { allowPortZero: true }), { logDestination: sink.stream });
    await g.start();
    try {
      const warning = sink.records().find((r) => r.event === 'certificate_expiry' && r.kind === 'server');
      expect(warning).toBeDefined();
      expect(warning!.level).toBe('warn');
      expect([4, 5]).toContain(warning!.daysLeft);
      expect(await g.metrics.metrics()).toMatch(/sfom_certificate_expiry_days\{name="[^"]*",kind="server"\} [45]/);
    } finally {
      await g.close(0);
    }
  });
});
