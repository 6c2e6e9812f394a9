/**
 * Who may connect at all.
 *
 * The attacks: connecting from outside the allowlist; claiming another address in a header
 * (X-Forwarded-For, Forwarded, X-Real-IP) or in a PROXY-protocol preamble the gateway does not
 * speak; and allowlist entries that mean something else to another parser: IPv6 forms that embed
 * an IPv4 address (mapped, compatible, NAT64, 6to4), octal-looking octets (`0177.0.0.1` is
 * 127.0.0.1 to inet_aton, `010.0.0.1` is 8.0.0.1), impossible prefixes, stray whitespace.
 *
 * The defence: the allowlist is checked on the raw TCP socket before a byte of TLS
 * (net/listener.ts), against the kernel's peer address only; an IPv4 peer on a dual-stack socket
 * is matched as IPv4 (net/ip-address.ts), and only IPv4-mapped IPv6 entries (in any spelling)
 * stand for IPv4 hosts. Entries are validated strictly at load (net/cidr.ts): anything ambiguous
 * stops start-up with the entry named. Linux routes all of 127.0.0.0/8 to loopback, so a client
 * bound to 127.0.0.2 is "another host".
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFromObject } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { post } from '../helpers/client.js';
import { baseConfig, type Harness } from '../helpers/gateway.js';
import { fakeUpstream, type FakeUpstream } from '../helpers/upstream.js';
import type { Pki } from '../helpers/pki.js';
import { closedAfter, expectRejected, expectValidAccepted, attackSuite, viaPost, viaTcp, type Outcome, startGateway } from './expect-rejected.js';

let pki: Pki;
let body: string;
beforeAll(async () => {
  ({ pki, body } = await attackSuite());
});
afterAll(() => pki.cleanup());

/** A gateway whose allowlist is `cidrs`, listening on `host`. */
function gatewayWith(cidrs: string[], host = '127.0.0.1'): Promise<Harness> {
  return startGateway((raw) => {
    raw.allowlist = { cidrs };
    raw.listen = { host, port: 0 };
  }, { pki });
}

describe('sources outside the allowlist', () => {
  let h: Harness;
  beforeAll(async () => { h = await gatewayWith(['127.0.0.2/32']); });
  afterAll(() => h.close());

  it('closes a connection from another address before a byte of TLS', async () => {
    const { records } = await expectRejected(h, viaTcp(h, '127.0.0.1'), { refused: 'allowlist' }, { maxMs: 1000, followUp: { localAddress: '127.0.0.2' } });
    expect(records.find((r) => r.event === 'connection_refused')).toMatchObject({ remoteAddress: '127.0.0.1' });
  });

  it('is not fooled by X-Forwarded-For, Forwarded or X-Real-IP naming an allowed address', async () => {
    const spoofed = { 'X-Forwarded-For': '127.0.0.2', Forwarded: 'for=127.0.0.2;proto=https', 'X-Real-IP': '127.0.0.2', 'True-Client-IP': '127.0.0.2' };
    await expectRejected(h, viaPost(h, { body, localAddress: '127.0.0.1', headers: spoofed }), { refused: 'allowlist' }, { maxMs: 1000, followUp: { localAddress: '127.0.0.2' } });
  });

  it('logs and forwards nothing of those headers from an allowed address', async () => {
    const answer = await post(h.port, h.salesforce, {
      body, localAddress: '127.0.0.2', headers: { 'X-Forwarded-For': '127.0.0.1', Forwarded: 'for=127.0.0.1', 'X-Real-IP': '127.0.0.1' },
    });
    expect(answer.status).toBe(200);
    expect(h.logs.requests().at(-1)).toMatchObject({ reason: 'OK', remoteAddress: '127.0.0.2' });
    const got = h.upstream.received.at(-1)!;
    for (const name of ['x-forwarded-for', 'forwarded', 'x-real-ip']) expect(got.headers[name]).toBeUndefined();
  });

  it.each([
    ['a PROXY v1 header', Buffer.from('PROXY TCP4 127.0.0.2 127.0.0.1 5555 443\r\n')],
    ['a PROXY v2 header', Buffer.concat([Buffer.from('\r\n\r\n\u0000\r\nQUIT\n', 'latin1'), Buffer.from([0x21, 0x11, 0x00, 0x0c, 127, 0, 0, 2, 127, 0, 0, 1, 0x15, 0xb3, 0x01, 0xbb])])],
  ])('refuses %s claiming an allowed address, sent from a denied one, before TLS', async (_name, preamble) => {
    await expectRejected(h, async (): Promise<Outcome> => {
      const socket = net.connect({ port: h.port, host: '127.0.0.1', localAddress: '127.0.0.1' });
      socket.on('error', () => undefined);
      let received = 0;
      socket.on('data', (d: Buffer) => { received += d.length; });
      socket.on('connect', () => socket.write(preamble));
      await Promise.race([closedAfter(socket), new Promise((r) => setTimeout(r, 3000))]);
      socket.destroy();
      return received === 0 ? { kind: 'closed', detail: 'closed before TLS' } : { kind: 'answer', status: 0, body: '', headers: {}, raw: `${received} bytes` };
    }, { refused: 'allowlist' }, { maxMs: 1500, followUp: { localAddress: '127.0.0.2' } });
  });

  it.each([
    ['a PROXY v1 header', 'PROXY TCP4 10.9.9.9 127.0.0.1 5555 443\r\n'],
    ['a PROXY v2 header', '\r\n\r\n\u0000\r\nQUIT\n!\u0011\u0000\u000c'],
  ])('fails the handshake on %s from an allowed address: the feature is off, nothing is served', async (_name, preamble) => {
    await expectRejected(h, async (): Promise<Outcome> => {
      const socket = net.connect({ port: h.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
      socket.on('error', () => undefined);
      let text = '';
      socket.on('data', (d: Buffer) => { text += d.toString('latin1'); });
      // the preamble, then what a client would send next over plain TCP
      socket.on('connect', () => socket.write(`${preamble}POST /outbound/contact HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1'));
      await Promise.race([closedAfter(socket), new Promise((r) => setTimeout(r, 3000))]);
      socket.destroy();
      expect(text).not.toContain('HTTP/1.1');
      return { kind: 'closed', detail: `${text.length} bytes of TLS alert` };
    }, { tlsFailure: /./ }, { maxMs: 1500, followUp: { localAddress: '127.0.0.2' } });
  });
});

describe('IPv6 entries that embed an IPv4 address', () => {
  it.each([
    ['dotted', '::ffff:127.0.0.1', '127.0.0.1', '127.0.0.3'],
    ['hex', '::ffff:7f00:1', '127.0.0.1', '127.0.0.3'],
    ['expanded', '0:0:0:0:0:ffff:7f00:1', '127.0.0.1', '127.0.0.3'],
    ['dotted, on a dual-stack listener', '::ffff:127.0.0.1', '::', '127.0.0.3'],
    ['a mapped range', '::ffff:127.0.0.0/120', '127.0.0.1', '127.0.1.3'],
  ])('an IPv4-mapped entry (%s) admits the IPv4 client and no other', async (_name, entry, host, denied) => {
    const h = await gatewayWith([entry], host);
    try {
      // refused from outside the entry, then (the follow-up) served from 127.0.0.1
      await expectRejected(h, viaTcp(h, denied), { refused: 'allowlist' }, { maxMs: 1000 });
    } finally {
      await h.close();
    }
  });

  it.each([
    ['an IPv4-compatible', '::127.0.0.1'],
    ['a NAT64 (64:ff9b::/96)', '64:ff9b::7f00:1'],
    ['a 6to4 (2002::/16)', '2002:7f00:1::'],
    ['a 6to4 range', '2002:7f00:1::/48'],
    ['an IPv4-translated (::ffff:0:0:0/96)', '::ffff:0:7f00:1'],
  ])('%s entry does not admit 127.0.0.1', async (_name, entry) => {
    for (const host of ['127.0.0.1', '::']) {
      const h = await gatewayWith([entry, '127.0.0.2'], host);
      try {
        await expectRejected(h, viaTcp(h, '127.0.0.1'), { refused: 'allowlist' }, { maxMs: 1000, followUp: { localAddress: '127.0.0.2' } });
      } finally {
        await h.close();
      }
    }
  });
});

describe('allowlist entries that are ambiguous stop start-up, naming the entry', () => {
  let upstream: FakeUpstream;
  beforeAll(async () => { upstream = await fakeUpstream(); });
  afterAll(() => upstream.close());

  async function problemsFor(entry: string): Promise<ConfigError['problems']> {
    const raw = baseConfig(pki, upstream);
    raw.allowlist = { cidrs: ['127.0.0.1', entry] };
    try {
      await loadConfigFromObject(raw, pki.dir, 'test-config', { allowPortZero: true });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems;
    }
    throw new Error(`configuration with allowlist entry ${JSON.stringify(entry)} was accepted`);
  }

  it.each([
    ['a prefix over 32', '127.0.0.1/33', /127\.0\.0\.1\/33.*at most 32/],
    ['a prefix over 128', '::1/129', /::1\/129.*at most 128/],
    ['octal-looking octets (127.0.0.1 to inet_aton)', '0177.0.0.1', /0177\.0\.0\.1.*not a valid IPv4/],
    ['a leading zero (8.0.0.1 to inet_aton)', '010.0.0.1', /010\.0\.0\.1.*not a valid IPv4/],
    ['a trailing space', '127.0.0.1 ', /"127\.0\.0\.1 " contains whitespace/],
    ['a short form', '127.1', /127\.1.*not a valid/],
    ['a hex octet', '0x7f.0.0.1', /0x7f\.0\.0\.1.*not a valid/],
    ['host bits past the prefix', '10.0.0.1/8', /10\.0\.0\.1\/8 has host bits set; did you mean 10\.0\.0\.0\/8\?/],
    ['a prefix with a leading zero', '10.0.0.0/08', /10\.0\.0\.0\/08.*leading zeros/],
    ['an IPv6 zone id', 'fe80::1%eth0', /fe80::1%eth0.*zone/],
    ['a mapped range wider than IPv4', '::ffff:0.0.0.0/95', /::ffff:0\.0\.0\.0\/95.*at least 96/],
  ])('refuses %s: %s', async (_name, entry, message) => {
    const problems = await problemsFor(entry);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('allowlist.cidrs[1]');
    expect(problems[0]!.message).toMatch(message);
  });
});

it('still serves from an allowed address at the end', async () => {
  const h = await gatewayWith(['127.0.0.1/32']);
  try {
    await expectValidAccepted(h);
  } finally {
    await h.close();
  }
});
