/**
 * Two-way TLS: OpenSSL verifies the chain against tls.clientCa, then the leaf must be pinned
 * (SHA-256) or carry an accepted subject. Real handshakes with certificates made for the suite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTls, post } from '../helpers/client.js';
import { fixture, startHarness, type Harness } from '../helpers/gateway.js';
import { makePki, SALESFORCE_CLIENT_SUBJECT, type CertFiles, type Pki } from '../helpers/pki.js';

let pki: Pki;
let h: Harness;
let contact1: string;
const idOf = (c: CertFiles): { cert: string; key: string; ca: string } => ({ cert: c.certPem, key: c.keyPem, ca: pki.ca.certPem });

beforeAll(async () => {
  pki = await makePki();
  contact1 = await fixture('contact-1.xml');
  h = await startHarness((raw) => {
    (raw.tls as Record<string, unknown>).clientCertificates = [pki.client.certPath, pki.ecdsaClient.certPath];
  }, { pki });
});
afterAll(async () => { await h.close(); await pki.cleanup(); });

async function expectHandshakeFailure(id: { cert?: string; key?: string; ca: string }): Promise<void> {
  const received = h.upstream.received.length;
  let failed = false;
  try {
    // With TLS 1.3 the server's verdict on the client certificate arrives after the client's
    // handshake completes: a request is needed to see the alert.
    await post(h.port, id, { body: contact1 });
  } catch {
    failed = true;
  }
  expect(failed).toBe(true);
  expect(h.upstream.received.length).toBe(received);
  // the gateway still serves the pinned client right after
  expect((await post(h.port, h.salesforce, { body: contact1 })).status).toBe(200);
}

describe('client certificates', () => {
  it('accepts the pinned Salesforce certificate', async () => {
    const answer = await post(h.port, h.salesforce, { body: contact1 });
    expect(answer.status).toBe(200);
  });

  it('accepts a pinned ECDSA client certificate', async () => {
    expect((await post(h.port, idOf(pki.ecdsaClient), { body: contact1 })).status).toBe(200);
  });

  it('fails the handshake without a client certificate', async () => {
    await expectHandshakeFailure({ ca: pki.ca.certPem });
    expect(h.logs.records().some((r) => r.event === 'tls_failure' && r.reason === 'no_certificate')).toBe(true);
  });

  it('fails the handshake for a certificate from another CA', async () => {
    await expectHandshakeFailure(idOf(pki.otherCaClient));
  });

  it('fails the handshake for an expired certificate', async () => {
    await expectHandshakeFailure(idOf(pki.expiredClient));
  });

  it('fails the handshake for a certificate that is not yet valid', async () => {
    await expectHandshakeFailure(idOf(pki.notYetValidClient));
  });

  it('answers 403 with a fault and closes for a trusted certificate that is not pinned', async () => {
    const received = h.upstream.received.length;
    const answer = await post(h.port, idOf(pki.client2), { body: contact1 });
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('GW_ERR_CLIENT_CERT_DENIED:');
    expect(answer.headers.connection).toBe('close');
    expect(h.upstream.received.length).toBe(received);
    expect(h.logs.requests().at(-1)).toMatchObject({
      reason: 'GW_ERR_CLIENT_CERT_DENIED', clientCertFingerprint: pki.client2.x509.fingerprint256,
    });
  });

  it('refuses TLS 1.1 and older', async () => {
    await expect(connectTls(h.port, h.salesforce, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' })).rejects.toThrow();
  });

  it('resumes the pinned client\'s TLS session (no full handshake) and still serves it', async () => {
    const first = await connectTls(h.port, h.salesforce);
    const session = await new Promise<Buffer>((resolve) => {
      first.once('session', resolve);
      first.write('POST /outbound/contact HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Type: text/xml\r\n\r\n');
    });
    first.destroy();
    const resumed = await connectTls(h.port, h.salesforce, { session });
    expect(resumed.isSessionReused()).toBe(true);
    const text = await new Promise<string>((resolve) => {
      let out = '';
      resumed.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('</soapenv:Envelope>')) resolve(out); });
      resumed.write(`POST /outbound/contact HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(contact1)}\r\n\r\n${contact1}`);
    });
    resumed.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text).toContain('<Ack>true</Ack>');
  });

  it('checks the identity on resumed TLS sessions too', async () => {
    // First connection: a session from the unpinned (but trusted) client.
    const first = await connectTls(h.port, idOf(pki.client2));
    const session = await new Promise<Buffer>((resolve) => {
      first.once('session', resolve);
      first.write('POST /outbound/contact HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Type: text/xml\r\n\r\n');
    });
    first.destroy();
    // Resume that session: still the unpinned certificate, still denied.
    const resumed = await connectTls(h.port, { ca: pki.ca.certPem }, { session });
    const reused = resumed.isSessionReused();
    const text = await new Promise<string>((resolve) => {
      let out = '';
      resumed.on('data', (d: Buffer) => { out += d.toString(); });
      resumed.on('close', () => resolve(out));
      resumed.write(`POST /outbound/contact HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(contact1)}\r\n\r\n${contact1}`);
    });
    expect(reused).toBe(true);
    expect(text).toMatch(/^HTTP\/1\.1 403/);
    expect(text).toContain('GW_ERR_CLIENT_CERT_DENIED');
  });
});

describe('accepted subjects', () => {
  it('accepts a certificate by subject DN when configured, without a pin', async () => {
    const s = await startHarness((raw) => {
      const t = raw.tls as Record<string, unknown>;
      t.clientCertificates = [];
      t.clientSubjects = [SALESFORCE_CLIENT_SUBJECT];
    }, { pki });
    try {
      expect((await post(s.port, s.salesforce, { body: contact1 })).status).toBe(200);
      expect((await post(s.port, idOf(pki.client2), { body: contact1 })).status).toBe(403);
    } finally {
      await s.close();
    }
  });
});

describe('key usage of the client certificate', () => {
  it('does not require serverAuth: a pinned client certificate without any extended key usage is accepted', async () => {
    const plain = await pki.makeCert({ subject: 'CN=no-eku.salesforce.test', issuer: pki.ca, eku: [] }, 'no-eku');
    const s = await startHarness((raw) => {
      (raw.tls as Record<string, unknown>).clientCertificates = [plain.certPath];
    }, { pki });
    try {
      expect((await post(s.port, idOf(plain), { body: contact1 })).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});
