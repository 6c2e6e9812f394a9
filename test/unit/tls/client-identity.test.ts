import { describe, it, expect, beforeAll } from 'vitest';
import { ClientIdentity } from '../../../src/tls/client-identity.js';
import { parseCertificates } from '../../../src/tls/cert-store.js';
import { makePki, type Pki } from '../../helpers/pki.js';

// What TLSSocket#getPeerCertificate() gives: the DER and its SHA-256 in Node's form.
const peerOf = (x509: { raw: Buffer; fingerprint256: string }) => ({ raw: x509.raw, fingerprint256: x509.fingerprint256 });

describe('ClientIdentity.check', () => {
  let pki: Pki;
  beforeAll(async () => { pki = await makePki(); });

  it('accepts a pinned leaf and names the match', () => {
    const pins = parseCertificates(Buffer.from(pki.client.certPem), 'pin');
    const result = new ClientIdentity(pins, []).check(peerOf(pki.client.x509));
    expect(result).toEqual({ ok: true, fingerprint256: pki.client.x509.fingerprint256, matchedBy: 'pin' });
  });

  it('accepts an unpinned leaf by subject, read from its DER', () => {
    const result = new ClientIdentity([], [pki.client.subject]).check(peerOf(pki.client.x509));
    expect(result).toMatchObject({ ok: true, matchedBy: 'subject' });
  });

  it('denies a leaf that is neither pinned nor of an accepted subject', () => {
    const pins = parseCertificates(Buffer.from(pki.client.certPem), 'pin');
    const result = new ClientIdentity(pins, ['CN=someone.else']).check(peerOf(pki.client2.x509));
    expect(result).toEqual({ ok: false, fingerprint256: pki.client2.x509.fingerprint256, reason: 'certificate is neither pinned nor of an accepted subject' });
  });

  it('matches a pin by the DER, byte for byte: not by a fingerprint that claims to be the pin\'s', () => {
    const pins = parseCertificates(Buffer.from(pki.client.certPem), 'pin');
    const identity = new ClientIdentity(pins, []);
    const altered = Buffer.from(pki.client.x509.raw);
    altered.writeUInt8(altered.readUInt8(altered.length - 1) ^ 1, altered.length - 1);
    expect(identity.check({ raw: altered, fingerprint256: pki.client.x509.fingerprint256 })).toMatchObject({ ok: false, reason: 'certificate is neither pinned nor of an accepted subject' });
    expect(identity.check({ raw: Buffer.from(pki.client.x509.raw), fingerprint256: 'not looked at' })).toEqual({ ok: true, fingerprint256: pki.client.x509.fingerprint256, matchedBy: 'pin' });
  });

  it('denies a pinned leaf outside its validity window', () => {
    const pins = parseCertificates(Buffer.from(pki.client.certPem), 'pin');
    const identity = new ClientIdentity(pins, []);
    const after = Date.parse(pki.client.x509.validTo) + 1000;
    expect(identity.check(peerOf(pki.client.x509), after)).toEqual({ ok: false, fingerprint256: pki.client.x509.fingerprint256, reason: 'pinned certificate has expired' });
    expect(identity.check(peerOf(pki.client.x509), new Date(Date.parse(pki.client.x509.validFrom) - 1000))).toMatchObject({ ok: false, reason: 'pinned certificate has expired' });
    expect(identity.check(peerOf(pki.client.x509), new Date(Date.parse(pki.client.x509.validFrom) + 1000))).toMatchObject({ ok: true });
  });

  it('denies when there is no certificate: null, an empty object, or no DER', () => {
    const identity = new ClientIdentity(parseCertificates(Buffer.from(pki.client.certPem), 'pin'), [pki.client.subject]);
    for (const peer of [null, undefined, {}, { fingerprint256: pki.client.x509.fingerprint256 }, { raw: Buffer.alloc(0), fingerprint256: pki.client.x509.fingerprint256 }]) {
      expect(identity.check(peer)).toEqual({ ok: false, fingerprint256: null, reason: 'no peer certificate' });
    }
  });
});

describe('ClientIdentity.check on an X509Certificate (what readPeerLeaf gives on Node 24)', () => {
  let pki: Pki;
  beforeAll(async () => { pki = await makePki(); });

  it('decides the same as on the plain peer object', () => {
    const pins = parseCertificates(Buffer.from(pki.client.certPem), 'pin');
    const pinned = new ClientIdentity(pins, []);
    expect(pinned.check(pki.client.x509)).toEqual(pinned.check(peerOf(pki.client.x509)));
    expect(pinned.check(pki.client2.x509)).toEqual(pinned.check(peerOf(pki.client2.x509)));
    const bySubject = new ClientIdentity([], [pki.client.subject]);
    expect(bySubject.check(pki.client.x509)).toMatchObject({ ok: true, matchedBy: 'subject' });
  });
});
