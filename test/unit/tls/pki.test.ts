/**
 * The test PKI is the ground truth for every TLS suite: prove that its certificates are what
 * their names say, using node:crypto only (what the gateway itself uses).
 */
import { X509Certificate, createPublicKey, createPrivateKey } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCert, makePki, type CertFiles, type Pki } from '../../helpers/pki.js';

let pki: Pki;
beforeAll(async () => {
  pki = await makePki();
});
afterAll(() => pki.cleanup());

const issuedBy = (leaf: CertFiles, issuer: CertFiles): boolean =>
  leaf.x509.checkIssued(issuer.x509) && leaf.x509.verify(issuer.x509.publicKey);

const validAt = (c: CertFiles, at: Date): boolean =>
  new Date(c.x509.validFrom).getTime() <= at.getTime() && at.getTime() <= new Date(c.x509.validTo).getTime();

const keyMatches = (c: CertFiles): boolean =>
  createPublicKey(createPrivateKey(c.keyPem))
    .export({ type: 'spki', format: 'der' })
    .equals(c.x509.publicKey.export({ type: 'spki', format: 'der' }));

describe('makePki', () => {
  it('creates everything well under 5 seconds', async () => {
    const started = Date.now();
    const other = await makePki();
    await other.cleanup();
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('writes PEM files that match the in-memory strings, keys with mode 0600', async () => {
    for (const c of [pki.ca, pki.server, pki.client, pki.ecdsaClient]) {
      expect(await readFile(c.certPath, 'utf8')).toBe(c.certPem);
      expect(await readFile(c.keyPath, 'utf8')).toBe(c.keyPem);
      expect(new X509Certificate(c.certPem).fingerprint256).toBe(c.x509.fingerprint256);
      expect((await stat(c.keyPath)).mode & 0o777).toBe(0o600);
    }
  });

  it('has a self-signed root CA', () => {
    expect(pki.ca.x509.ca).toBe(true);
    expect(issuedBy(pki.ca, pki.ca)).toBe(true);
    expect(pki.caAsLeaf.x509.fingerprint256).toBe(pki.ca.x509.fingerprint256);
    expect(pki.caAsLeaf.keyPath).toBe(pki.ca.keyPath);
  });

  it('issues the server, client, client2, expired, not-yet-valid and ECDSA certs from the CA', () => {
    for (const c of [pki.server, pki.client, pki.client2, pki.expiredClient, pki.notYetValidClient, pki.ecdsaClient, pki.ecdsaServer]) {
      expect(issuedBy(c, pki.ca)).toBe(true);
      expect(c.x509.ca).toBe(false);
      expect(keyMatches(c)).toBe(true);
    }
  });

  it('issues otherCaClient from a CA that is not the trusted one', () => {
    expect(issuedBy(pki.otherCaClient, pki.otherCa)).toBe(true);
    expect(issuedBy(pki.otherCaClient, pki.ca)).toBe(false);
    expect(pki.otherCaClient.x509.subject).toBe(pki.client.x509.subject);
  });

  it('builds the server chain leaf → intermediate → root', async () => {
    const { serverChain } = pki;
    expect(issuedBy(serverChain, serverChain.intermediate)).toBe(true);
    expect(issuedBy(serverChain, pki.ca)).toBe(false);
    expect(issuedBy(serverChain.intermediate, pki.ca)).toBe(true);
    expect(serverChain.intermediate.x509.ca).toBe(true);
    const chain = await readFile(serverChain.chainPath, 'utf8');
    expect(chain).toBe(serverChain.certPem + serverChain.intermediate.certPem);
  });

  it('gives the server certificates localhost, 127.0.0.1 and ::1', () => {
    for (const c of [pki.server, pki.serverChain, pki.ecdsaServer]) {
      expect(c.x509.checkHost('localhost')).toBe('localhost');
      expect(c.x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(c.x509.checkIP('::1')).toBe('::1');
    }
  });

  it('makes the pinned client look like the Salesforce one', () => {
    expect(pki.client.x509.subject).toBe('CN=proxy.salesforce.com\nO=Salesforce.com Inc');
    expect(pki.client.x509.keyUsage).toContain('1.3.6.1.5.5.7.3.2'); // id-kp-clientAuth
    expect(pki.server.x509.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // id-kp-serverAuth
  });

  it('sets the validity windows', () => {
    const now = new Date();
    for (const c of [pki.ca, pki.server, pki.client, pki.client2, pki.ecdsaClient]) expect(validAt(c, now)).toBe(true);
    expect(validAt(pki.expiredClient, now)).toBe(false);
    expect(new Date(pki.expiredClient.x509.validTo).getTime()).toBeLessThan(now.getTime());
    expect(validAt(pki.notYetValidClient, now)).toBe(false);
    expect(new Date(pki.notYetValidClient.x509.validFrom).getTime()).toBeGreaterThan(now.getTime());
  });

  it('uses P-256 keys for the ECDSA certificates and RSA-2048 for the others', () => {
    for (const c of [pki.ecdsaClient, pki.ecdsaServer]) {
      expect(c.x509.publicKey.asymmetricKeyType).toBe('ec');
      expect(c.x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    }
    expect(pki.client.x509.publicKey.asymmetricKeyType).toBe('rsa');
    expect(pki.client.x509.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('creates certificates that expire in a given number of days', async () => {
    const soon = await pki.expiringSoon(5);
    const left = (new Date(soon.x509.validTo).getTime() - Date.now()) / 86_400_000;
    expect(left).toBeGreaterThan(4.9);
    expect(left).toBeLessThanOrEqual(5);
    expect(issuedBy(soon, pki.ca)).toBe(true);
    expect(keyMatches(soon)).toBe(true);
  });

  it('makes ad-hoc certificates, including ones signed by an EC CA', async () => {
    const ecCa = await makeCert({ subject: 'CN=ec root', keyType: 'ec', isCa: true });
    const leaf = await pki.makeCert({ subject: 'CN=leaf, OU=x, O=y', issuer: ecCa, sans: ['example.test'], eku: ['serverAuth'] });
    expect(leaf.x509.checkIssued(ecCa.x509)).toBe(true);
    expect(leaf.x509.verify(ecCa.x509.publicKey)).toBe(true);
    expect(leaf.x509.subject).toBe('CN=leaf\nOU=x\nO=y');
    expect(leaf.x509.checkHost('example.test')).toBe('example.test');
    expect(leaf.x509.publicKey.asymmetricKeyType).toBe('rsa');
  });
});
