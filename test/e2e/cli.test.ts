/**
 * The core commands as an operator runs them: `node dist/cli.js …` in a child process, real
 * files, real certificates. check-config lists every problem by key path; send acts as
 * Salesforce; start serves until SIGTERM and then exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, CLI, ROOT } from '../helpers/cli.js';
import { FIXTURE_ORG, FIXTURES } from '../helpers/gateway.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { fakeUpstream, type FakeUpstream } from '../helpers/upstream.js';

let pki: Pki;
let upstream: FakeUpstream;
let good: Record<string, unknown>;
let goodFile: string;
beforeAll(async () => {
  pki = await makePki({ prefix: 'sfom-cli-' });
  upstream = await fakeUpstream();
  good = {
    listen: { host: '127.0.0.1', port: 0 },
    tls: { cert: pki.server.certPath, key: pki.server.keyPath, clientCa: pki.ca.certPath, clientCertificates: [pki.client.certPath] },
    allowlist: { cidrs: ['127.0.0.1/32'] },
    organizations: [FIXTURE_ORG],
    upstream: { allowedPorts: [upstream.port] },
    routes: [{ path: '/outbound/contact', target: upstream.url('/contact'), format: 'soap' }],
    log: { level: 'info' },
  };
  goodFile = path.join(pki.dir, 'good.yaml');
  await writeFile(goodFile, stringify({ ...good, listen: { host: '127.0.0.1', port: 18443 } }));
});
afterAll(async () => { await upstream.close(); await pki.cleanup(); });

describe('check-config', () => {
  it('prints the listener, routes, certificates, allowlist size and organizations, exit 0', async () => {
    const r = await cli(['check-config', '--config', goodFile]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('127.0.0.1:18443');
    expect(r.stdout).toContain('/outbound/contact');
    expect(r.stdout).toContain(upstream.url('/contact'));
    expect(r.stdout).toContain('soap');
    expect(r.stdout).toContain(FIXTURE_ORG);
    expect(r.stdout).toMatch(/days? left/);
  });

  it('lists every problem by key path and exits non-zero', async () => {
    const bad = path.join(pki.dir, 'bad.json');
    await writeFile(bad, JSON.stringify({
      ...good,
      listen: { host: '127.0.0.1', port: 80 },
      organizations: ['00D000000000001EAB'],
      allowlist: { cidrs: ['0177.0.0.1'] },
      routes: [{ path: '/x', target: 'http://127.0.0.1:9/x', format: 'soap', colour: 'red' }],
    }));
    const r = await cli(['check-config', '--config', bad]);
    expect(r.code).not.toBe(0);
    for (const key of ['listen.port', 'organizations[0]', 'allowlist.cidrs[0]', 'routes[0].target', 'routes[0].colour']) {
      expect(r.stdout + r.stderr).toContain(key);
    }
  });

  it('requires --config and explains itself with --help', async () => {
    expect((await cli(['check-config'])).code).toBe(2);
    const help = await cli(['check-config', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('sfom-gateway check-config --config FILE');
  });
});

describe('start, send, stop', () => {
  let child: ChildProcess;
  let output = '';
  afterAll(() => { child?.kill('SIGKILL'); });

  it('serves a message sent by `send` and exits 0 on SIGTERM', async () => {
    const file = path.join(pki.dir, 'run.yaml');
    await writeFile(file, stringify({ ...good, listen: { host: '127.0.0.1', port: 0 } }));
    // Port 0 is refused outside tests, so pick a free port through the OS first.
    const net = await import('node:net');
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    await writeFile(file, stringify({ ...good, listen: { host: '127.0.0.1', port } }));
    child = spawn(process.execPath, [CLI, 'start', '--config', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c: Buffer) => { output += c.toString(); });
    const deadline = Date.now() + 10_000;
    while (!output.includes('"event":"listening"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(output).toContain('"event":"listening"');

    const sent = await cli(['send', '--url', `https://127.0.0.1:${port}/outbound/contact`,
      '--cert', pki.client.certPath, '--key', pki.client.keyPath, '--ca', pki.ca.certPath,
      '--payload', path.join(FIXTURES, 'contact-10.xml')]);
    expect(sent.stdout).toContain('status: 200');
    expect(sent.stdout).toContain('ack: true');
    expect(sent.code).toBe(0);
    expect(upstream.received.at(-1)!.body.match(/<Notification>/g)).toHaveLength(10);

    upstream.behaviour = { kind: 'nack' };
    const nacked = await cli(['send', '--url', `https://127.0.0.1:${port}/outbound/contact`,
      '--cert', pki.client.certPath, '--key', pki.client.keyPath, '--ca', pki.ca.certPath]);
    expect(nacked.stdout).toContain('ack: false');
    expect(nacked.code).toBe(1);
    upstream.behaviour = { kind: 'ack' };

    const denied = await cli(['send', '--url', `https://127.0.0.1:${port}/outbound/contact`,
      '--cert', pki.client2.certPath, '--key', pki.client2.keyPath, '--ca', pki.ca.certPath]);
    expect(denied.stdout).toContain('status: 403');
    expect(denied.stdout).toContain('GW_ERR_CLIENT_CERT_DENIED');
    expect(denied.code).toBe(1);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('"event":"stopped"');
  });
});
