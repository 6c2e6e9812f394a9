/**
 * The source-address allowlist runs on the raw TCP socket, before the TLS handshake: a denied
 * peer sees its connection closed without a byte of TLS. Linux routes all of 127.0.0.0/8 to
 * loopback, so a client bound to 127.0.0.2 is "another host" for the gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTls, post, tcpProbe } from '../helpers/client.js';
import { fixture, startHarness, type Harness } from '../helpers/gateway.js';
import { makePki, type Pki } from '../helpers/pki.js';

let pki: Pki;
let contact1: string;
beforeAll(async () => { pki = await makePki(); contact1 = await fixture('contact-1.xml'); });
afterAll(() => pki.cleanup());

describe('IP allowlist', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness((raw) => {
      raw.allowlist = { cidrs: ['127.0.0.2/32'] };
      raw.listen = { host: '127.0.0.1', port: 0 };
    }, { pki });
  });
  afterAll(() => h.close());

  it('closes a connection from outside the allowlist before any TLS byte', async () => {
    const probe = await tcpProbe(h.port, '127.0.0.1');
    expect(probe).toEqual({ closed: true, bytes: 0 });
    await expect(post(h.port, h.salesforce, { body: contact1, localAddress: '127.0.0.1' })).rejects.toThrow();
    expect(h.upstream.received).toHaveLength(0);
    expect(h.logs.records().some((r) => r.event === 'connection_refused' && r.reason === 'allowlist' && r.remoteAddress === '127.0.0.1')).toBe(true);
  });

  it('ignores X-Forwarded-For and friends', async () => {
    // From an allowed address, a header naming another host changes nothing; from a denied one, nothing gets through.
    const ok = await post(h.port, h.salesforce, {
      body: contact1, localAddress: '127.0.0.2', headers: { 'X-Forwarded-For': '127.0.0.1', 'X-Real-IP': '127.0.0.1' },
    });
    expect(ok.status).toBe(200);
    expect(h.logs.requests().at(-1)).toMatchObject({ remoteAddress: '127.0.0.2' });
  });

  it('serves an allowed source', async () => {
    const answer = await post(h.port, h.salesforce, { body: contact1, localAddress: '127.0.0.2' });
    expect(answer.status).toBe(200);
  });
});

describe('dual stack', () => {
  it('matches IPv4 clients on a "::" listener as IPv4 and serves IPv6 clients', async () => {
    const h = await startHarness((raw) => {
      raw.listen = { host: '::', port: 0 };
      raw.allowlist = { cidrs: ['127.0.0.1/32', '::1/128'] };
    }, { pki });
    try {
      expect((await post(h.port, h.salesforce, { body: contact1 })).status).toBe(200);
      expect(h.logs.requests().at(-1)).toMatchObject({ remoteAddress: '::ffff:127.0.0.1' });
      expect((await post(h.port, h.salesforce, { body: contact1, host: '::1' })).status).toBe(200);
      const denied = await tcpProbe(h.port, '127.0.0.3');
      expect(denied).toEqual({ closed: true, bytes: 0 });
    } finally {
      await h.close();
    }
  });
});

describe('connection caps', () => {
  it('closes connections past maxConnectionsPerIp at once and serves again when they close', async () => {
    const h = await startHarness((raw) => {
      Object.assign(raw.limits as Record<string, unknown>, { maxConnections: 10, maxConnectionsPerIp: 3 });
    }, { pki });
    try {
      const held = await Promise.all([0, 1, 2].map(() => connectTls(h.port, h.salesforce)));
      const probe = await tcpProbe(h.port);
      expect(probe).toEqual({ closed: true, bytes: 0 });
      expect(h.logs.records().some((r) => r.event === 'connection_refused' && r.reason === 'per_ip_limit')).toBe(true);
      for (const s of held) s.destroy();
      await new Promise((r) => setTimeout(r, 100));
      expect((await post(h.port, h.salesforce, { body: contact1 })).status).toBe(200);
    } finally {
      await h.close();
    }
  });

  it('closes connections past maxConnections', async () => {
    const h = await startHarness((raw) => {
      raw.allowlist = { cidrs: ['127.0.0.0/8'] };
      Object.assign(raw.limits as Record<string, unknown>, { maxConnections: 2, maxConnectionsPerIp: 2 });
    }, { pki });
    try {
      const held = await Promise.all([
        connectTls(h.port, h.salesforce, { localAddress: '127.0.0.5' }),
        connectTls(h.port, h.salesforce, { localAddress: '127.0.0.6' }),
      ]);
      expect(await tcpProbe(h.port, '127.0.0.7')).toEqual({ closed: true, bytes: 0 });
      expect(h.logs.records().some((r) => r.event === 'connection_refused' && r.reason === 'connection_limit')).toBe(true);
      for (const s of held) s.destroy();
    } finally {
      await h.close();
    }
  });
});
