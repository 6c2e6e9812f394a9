/**
 * Hostile TLS peers.
 *
 * The attacks: no client certificate, one from a CA nobody trusts, one from the trusted CA that is
 * not Salesforce's (another tenant of a public CA), expired and not-yet-valid certificates, the
 * CA's own certificate presented as a leaf, old protocol versions, client-initiated
 * renegotiation (CVE-2011-1473's CPU cost, and identity changes mid-connection), resuming a TLS
 * session that never presented the pinned certificate, and peers that never finish (or never
 * start) their ClientHello to hold connection slots.
 *
 * The defence: OpenSSL verifies the chain against tls.clientCa with requestCert and
 * rejectUnauthorized set explicitly (net/listener.ts), TLS 1.2 at least, renegotiation off
 * (SSL_OP_NO_RENEGOTIATION), a handshake deadline far below Node's 120 s; then the leaf must be
 * pinned (tls/client-identity.ts), checked on every connection, resumed ones too. A failed
 * handshake gets no HTTP answer and one `tls_failure` log line; a verified but unpinned
 * certificate gets 403 and the connection is closed.
 */
import net from 'node:net';
import type tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTls, exchangeRaw } from '../helpers/client.js';
import type { Harness } from '../helpers/gateway.js';
import type { CertFiles, Pki } from '../helpers/pki.js';
import { closedAfter, expectRejected, expectValidAccepted, parseAnswers, attackSuite, viaPost, type Outcome, startGateway } from './expect-rejected.js';

const HANDSHAKE_TIMEOUT_MS = 1000;

let pki: Pki;
let h: Harness;
let body: string;
const idOf = (c: CertFiles): { cert: string; key: string; ca: string } => ({ cert: c.certPem, key: c.keyPem, ca: pki.ca.certPem });
const request = (): string => `POST /outbound/contact HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

beforeAll(async () => {
  ({ pki, body } = await attackSuite());
  h = await startGateway((raw) => {
    (raw.tls as Record<string, unknown>).clientCertificates = [pki.client.certPath, pki.ecdsaClient.certPath];
    (raw.limits as Record<string, unknown>).handshakeTimeoutMs = HANDSHAKE_TIMEOUT_MS;
  }, { pki });
});
afterAll(async () => {
  await h.close();
  await pki.cleanup();
});

describe('client certificates', () => {
  it.each([
    ['no client certificate', () => ({ ca: pki.ca.certPem }), 'no_certificate'],
    ['a certificate from an untrusted CA', () => idOf(pki.otherCaClient), 'untrusted'],
    ['an expired certificate', () => idOf(pki.expiredClient), 'expired'],
    ['a certificate that is not yet valid', () => idOf(pki.notYetValidClient), 'not_yet_valid'],
  ] as const)('fails the handshake for %s, with no HTTP answer', async (_name, id, reason) => {
    const { records } = await expectRejected(h, viaPost(h, { body }, id()), { tlsFailure: reason }, { maxMs: 2000 });
    // one line, naming the peer
    expect(records.filter((r) => r.event === 'tls_failure')).toMatchObject([{ reason, remoteAddress: '127.0.0.1' }]);
  });

  it('answers 403 and closes for a certificate from the trusted CA that is not pinned', async () => {
    const { outcome } = await expectRejected(h, viaPost(h, { body }, idOf(pki.client2)), { status: 403, code: 'GW_ERR_CLIENT_CERT_DENIED' }, { maxMs: 2000 });
    expect(outcome.kind === 'answer' && outcome.headers.connection).toBe('close');
  });

  it('refuses the CA certificate presented as the client leaf: trusted, but not the pin', async () => {
    await expectRejected(h, viaPost(h, { body }, idOf(pki.caAsLeaf)), { status: 403, code: 'GW_ERR_CLIENT_CERT_DENIED' }, { maxMs: 2000 });
  });

  it('accepts a pinned ECDSA certificate', async () => {
    await expectValidAccepted(h);
    const before = h.upstream.received.length;
    const socket = await connectTls(h.port, idOf(pki.ecdsaClient));
    const [answer] = parseAnswers(await exchangeRaw(socket, request(), 500));
    socket.destroy();
    expect(answer?.status).toBe(200);
    expect(answer?.body).toContain('<Ack>true</Ack>');
    expect(h.upstream.received.length).toBe(before + 1);
    expect(h.logs.requests().at(-1)).toMatchObject({ reason: 'OK', clientCertFingerprint: pki.ecdsaClient.x509.fingerprint256 });
  });
});

describe('protocol versions and renegotiation', () => {
  it.each(['TLSv1', 'TLSv1.1'] as const)('refuses a %s client with a protocol_version alert', async (version) => {
    const { outcome } = await expectRejected(h, async (): Promise<Outcome> => {
      try {
        // SECLEVEL=0 lets this OpenSSL still offer the old versions, as an old client would.
        const s = await connectTls(h.port, h.salesforce, { minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0' });
        s.destroy();
        return { kind: 'answer', status: 0, body: '', headers: {}, raw: `connected with ${s.getProtocol()}` };
      } catch (err) {
        return { kind: 'closed', detail: (err as Error).message };
      }
    }, { tlsFailure: 'protocol' }, { maxMs: 2000 });
    expect(outcome.kind === 'closed' && outcome.detail).toMatch(/protocol version|alert number 70/i);
  });

  it('refuses a TLS 1.2 client that asks to renegotiate, and serves nothing on that connection afterwards', async () => {
    let served = '';
    await expectRejected(h, async (): Promise<Outcome> => {
      const socket = await connectTls(h.port, h.salesforce, { maxVersion: 'TLSv1.2' });
      expect(socket.getProtocol()).toBe('TLSv1.2');
      socket.on('data', (d: Buffer) => { served += d.toString(); });
      socket.on('error', () => undefined);
      const result = await new Promise<string>((resolve) => {
        socket.once('close', () => resolve('closed'));
        const started = socket.renegotiate({ rejectUnauthorized: true }, (err) => resolve(err ? `error: ${err.message}` : 'renegotiated'));
        if (!started) resolve('refused locally');
      });
      // whatever the client saw, try to use the connection
      if (!socket.destroyed) {
        socket.write(request());
        await Promise.race([closedAfter(socket), new Promise((r) => setTimeout(r, 1000))]);
      }
      socket.destroy();
      expect(result).not.toBe('renegotiated');
      return { kind: 'closed', detail: result };
    }, { tlsFailure: /./ }, { maxMs: 3000 });
    expect(served).toBe('');
  });
});

describe('session resumption', () => {
  /** A session from a full handshake with `id`, after the gateway answered one request. */
  async function sessionOf(id: { cert?: string; key?: string; ca: string }, opts: tls.ConnectionOptions): Promise<Buffer> {
    const socket = await connectTls(h.port, id, opts);
    // TLS 1.2 has its session at the end of the handshake, TLS 1.3 gets tickets afterwards.
    let session: Buffer | undefined = socket.getSession();
    socket.on('session', (ticket: Buffer) => { session = ticket; });
    await exchangeRaw(socket, request(), 300);
    socket.destroy();
    if (!session) throw new Error('no TLS session to resume');
    return session;
  }

  it.each([
    ['TLS 1.3 (ticket)', { maxVersion: 'TLSv1.3' as const }],
    ['TLS 1.2', { maxVersion: 'TLSv1.2' as const }],
  ])('denies a %s resumption of a session that never presented the pinned certificate', async (_name, opts) => {
    const session = await sessionOf(idOf(pki.client2), opts);
    let reused = false;
    await expectRejected(h, async (): Promise<Outcome> => {
      // no certificate at all this time: only the session
      const socket = await connectTls(h.port, { ca: pki.ca.certPem }, { ...opts, session });
      reused = socket.isSessionReused();
      const [answer] = parseAnswers(await exchangeRaw(socket, request(), 500));
      socket.destroy();
      return answer ?? { kind: 'closed', detail: 'no answer' };
    }, { status: 403, code: 'GW_ERR_CLIENT_CERT_DENIED' }, { maxMs: 2000 });
    expect(reused).toBe(true);
  });

  it('serves a resumption of the pinned client session', async () => {
    const session = await sessionOf(h.salesforce, { maxVersion: 'TLSv1.3' });
    const socket = await connectTls(h.port, h.salesforce, { session });
    const reused = socket.isSessionReused();
    const [answer] = parseAnswers(await exchangeRaw(socket, request(), 500));
    socket.destroy();
    expect(reused).toBe(true);
    expect(answer?.status).toBe(200);
  });
});

describe('slow or absent ClientHellos', () => {
  /** A raw TCP peer that sends `bytes` one every `intervalMs` (none when empty). */
  function slowPeer(bytes: Buffer, intervalMs: number): () => Promise<Outcome> {
    return async () => {
      const socket = net.connect(h.port, '127.0.0.1');
      socket.on('error', () => undefined);
      let received = 0;
      socket.on('data', (d: Buffer) => { received += d.length; });
      let i = 0;
      const timer = setInterval(() => { if (i < bytes.length && !socket.destroyed) socket.write(bytes.subarray(i, ++i)); }, intervalMs);
      const elapsed = await Promise.race([closedAfter(socket), new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]);
      clearInterval(timer);
      socket.destroy();
      expect(elapsed, 'still open after 10 s').toBeGreaterThan(HANDSHAKE_TIMEOUT_MS - 100);
      return { kind: 'closed', detail: `closed after ${Math.round(elapsed)} ms, ${i} bytes sent, ${received} received` };
    };
  }

  it('closes a connection that never sends a ClientHello at the handshake timeout', async () => {
    await expectRejected(h, slowPeer(Buffer.alloc(0), 100), { tlsFailure: 'handshake_timeout' }, { maxMs: HANDSHAKE_TIMEOUT_MS + 800 });
  });

  it('closes a connection whose ClientHello trickles in, at the handshake timeout (not reset by each byte)', async () => {
    // The start of a real ClientHello record: handshake (0x16), TLS 1.0 record version, length.
    const hello = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), Buffer.alloc(500, 0x41)]);
    await expectRejected(h, slowPeer(hello, 150), { tlsFailure: 'handshake_timeout' }, { maxMs: HANDSHAKE_TIMEOUT_MS + 800 });
  });
});
