import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeConfig, formatHostPort } from '../../../src/config/describe.js';
import { loadConfigFromObject } from '../../../src/config/load.js';
import type { GatewayConfig } from '../../../src/config/types.js';
import { makePki, type CertFiles, type Pki } from '../../helpers/pki.js';

const DAY = 86_400_000;
let pki: Pki;
let expiring: CertFiles;
beforeAll(async () => {
  pki = await makePki();
  expiring = await pki.expiringSoon(5);
});
afterAll(() => pki.cleanup());

function raw(extra: Record<string, unknown> = {}, tls: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    listen: { host: '127.0.0.1', port: 8443 },
    tls: { cert: 'server.crt', key: 'server.key', clientCa: 'ca.crt', clientCertificates: ['client.crt'], ...tls },
    allowlist: { cidrs: ['127.0.0.1/32', '::1'] },
    organizations: ['00D000000000001EAA', '00D5g000004XyZqEAK'],
    upstream: { allowedPorts: [8080] },
    routes: [
      { path: '/outbound/contact', target: 'http://127.0.0.1:8080/contact', format: 'soap', objectTypes: ['Contact'] },
      { path: '/outbound/json', target: 'http://127.0.0.1:8080/json', format: 'json', timeoutMs: 5000, forwardSessionId: true },
    ],
    ...extra,
  };
}

const load = (r: Record<string, unknown>): Promise<GatewayConfig> => loadConfigFromObject(r, pki.dir, 'test');
const lineWith = (lines: string[], text: string): string => {
  const line = lines.find((l) => l.includes(text));
  if (!line) throw new Error(`no line contains ${JSON.stringify(text)}:\n${lines.join('\n')}`);
  return line;
};

describe('describeConfig', () => {
  it('names the listener, with IPv6 hosts in brackets', async () => {
    expect(describeConfig(await load(raw()))[0]).toBe('listener: https://127.0.0.1:8443 (TLS >= TLSv1.2, client certificate required)');
    const v6 = await load(raw({ listen: { host: '::', port: 443 } }, { minVersion: 'TLSv1.3' }));
    expect(describeConfig(v6)[0]).toBe('listener: https://[::]:443 (TLS >= TLSv1.3, client certificate required)');
    expect(formatHostPort('::1', 9090)).toBe('[::1]:9090');
  });

  it('lists each route with path, target and format', async () => {
    const lines = describeConfig(await load(raw()));
    expect(lines).toContain('routes: 2');
    expect(lines).toContain('  /outbound/contact -> http://127.0.0.1:8080/contact (soap, timeout 20000 ms, actions: any, object types: Contact, session id not forwarded)');
    expect(lines).toContain('  /outbound/json -> http://127.0.0.1:8080/json (json, timeout 5000 ms, actions: any, object types: any, session id forwarded)');
  });

  it('lists every certificate with subject, not-after date and days left', async () => {
    const cfg = await load(raw({}, { cert: pki.serverChain.chainPath, key: pki.serverChain.keyPath }));
    const now = new Date();
    const lines = describeConfig(cfg, now);
    const notAfter = (c: CertFiles): string => new Date(c.x509.validTo).toISOString().slice(0, 10);
    const days = (c: CertFiles): number => Math.floor((new Date(c.x509.validTo).getTime() - now.getTime()) / DAY);
    expect(lines).toContain(`  server ${pki.serverChain.chainPath}#0: CN=localhost, not after ${notAfter(pki.serverChain)} (${days(pki.serverChain)} days left)`);
    expect(lineWith(lines, `server ${pki.serverChain.chainPath}#1: CN=sfom test intermediate CA`)).toMatch(/\(\d+ days left\)$/);
    expect(lineWith(lines, 'client CA ca.crt: CN=sfom test root CA')).toContain(`not after ${notAfter(pki.ca)}`);
    expect(lines).toContain(`  client pin client.crt: CN=proxy.salesforce.com,O=Salesforce.com Inc, not after ${notAfter(pki.client)} (${days(pki.client)} days left)`);
    expect(lines).toContain('client subjects accepted: no (pinned certificates only)');
  });

  it('marks expired, expiring and not yet valid certificates', async () => {
    const cfg = await load(raw({}, {
      clientCertificates: ['client.crt', 'expired-client.crt', expiring.certPath, 'not-yet-valid-client.crt'],
    }));
    const lines = describeConfig(cfg);
    expect(lineWith(lines, 'client pin client.crt')).not.toMatch(/\[/);
    expect(lineWith(lines, 'client pin expired-client.crt')).toMatch(/\(expired 1\d days ago\)  \[EXPIRED\]$/);
    expect(lineWith(lines, `client pin ${expiring.certPath}`)).toMatch(/\([45] days left\)  \[EXPIRING within 30 days\]$/);
    expect(lineWith(lines, 'client pin not-yet-valid-client.crt')).toMatch(/\[NOT YET VALID until \d{4}-\d\d-\d\d\]$/);
  });

  it('uses tls.expiryWarningDays for the expiring marker', async () => {
    const cfg = await load(raw({}, { clientCertificates: [expiring.certPath], expiryWarningDays: 3 }));
    expect(lineWith(describeConfig(cfg), 'client pin')).not.toContain('EXPIRING');
    expect(describeConfig(cfg)).toContain('certificates (warning when fewer than 3 days are left):');
  });

  it('gives the allowlist size, the organizations and the accepted subjects', async () => {
    const cfg = await load(raw({}, { clientCertificates: [], clientSubjects: ['CN=proxy.salesforce.com, O=Salesforce.com Inc'] }));
    const lines = describeConfig(cfg);
    expect(lines).toContain('allowlist: 2 entries');
    expect(lines).toContain('organizations: 2: 00D000000000001EAA, 00D5g000004XyZqEAK');
    expect(lines).toContain('client subjects accepted: yes, 1: CN=proxy.salesforce.com,O=Salesforce.com Inc');
    expect(lines).toContain('  client pin: none');
    expect(lines).toContain('salesforce hosts: salesforce.com, force.com');
    expect(lines).toContain('admin: off');
    expect(lines).toContain('workers: 1, log level: info');
  });

  it('shows the admin listener when configured', async () => {
    const lines = describeConfig(await load(raw({ admin: { host: '::1', port: 9191 }, allowlist: { cidrs: ['10.0.0.0/8'] } })));
    expect(lines).toContain('admin: http://[::1]:9191');
    expect(lines).toContain('allowlist: 1 entry');
  });
});
