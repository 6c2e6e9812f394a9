import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devConfigObject, DEV_ORGANIZATION, FIXTURE_ORGANIZATION } from '../../../src/config/dev.js';
import { loadConfigFromObject } from '../../../src/config/load.js';
import { certificateSubject, isIssuedBy, keyMatchesCertificate } from '../../../src/tls/cert-store.js';
import { ensureDevCertificates, type DevCertPaths } from '../../../src/tls/dev-certs.js';
import { makePki } from '../../helpers/pki.js';

let root: string;
let dir: string;
let paths: DevCertPaths;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'sfom-dev-'));
  dir = path.join(root, 'certs', 'dev');
  paths = await ensureDevCertificates(dir);
});
afterAll(() => rm(root, { recursive: true, force: true }));

const cert = async (file: string): Promise<X509Certificate> => new X509Certificate(await readFile(file));

describe('ensureDevCertificates', () => {
  it('generates a CA, a localhost server certificate and a stand-in Salesforce client certificate', async () => {
    expect(paths.generated).toBe(true);
    expect(paths.dir).toBe(dir);
    expect(paths.caCert).toBe(path.join(dir, 'ca.crt'));
    const [ca, server, client] = await Promise.all([cert(paths.caCert), cert(paths.serverCert), cert(paths.clientCert)]);
    expect(ca.ca).toBe(true);
    expect(isIssuedBy(server, ca)).toBe(true);
    expect(isIssuedBy(client, ca)).toBe(true);
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkIP('::1')).toBe('::1');
    expect(server.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
    expect(certificateSubject(client)).toMatch(/^CN=sfom-dev-salesforce-client(,|$)/);
    expect(client.keyUsage).toContain('1.3.6.1.5.5.7.3.2');
    expect(client.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(keyMatchesCertificate(await readFile(paths.serverKey, 'utf8'), server)).toBe(true);
    expect(keyMatchesCertificate(await readFile(paths.clientKey, 'utf8'), client)).toBe(true);
  });

  it('writes keys with mode 0600', async () => {
    for (const key of [paths.caKey, paths.serverKey, paths.clientKey]) expect((await stat(key)).mode & 0o777).toBe(0o600);
  });

  it('reuses existing certificates', async () => {
    const before = (await cert(paths.serverCert)).fingerprint256;
    const again = await ensureDevCertificates(dir);
    expect(again.generated).toBe(false);
    expect((await cert(again.serverCert)).fingerprint256).toBe(before);
  });

  it('regenerates when a certificate expires within 7 days, or a file is missing', async () => {
    const pki = await makePki();
    try {
      const soon = await pki.expiringSoon(3);
      await writeFile(paths.serverCert, soon.certPem);
      await writeFile(paths.serverKey, soon.keyPem);
      const renewed = await ensureDevCertificates(dir);
      expect(renewed.generated).toBe(true);
      expect((await cert(renewed.serverCert)).fingerprint256).not.toBe(soon.x509.fingerprint256);
      await rm(paths.clientKey);
      expect((await ensureDevCertificates(dir)).generated).toBe(true);
    } finally {
      await pki.cleanup();
    }
  });
});

describe('devConfigObject', () => {
  it('is a configuration the loader accepts', async () => {
    const cfg = await loadConfigFromObject(devConfigObject(paths, 18080), dir, '<embedded development default>');
    expect(cfg.listen).toEqual({ host: '127.0.0.1', port: 8443 });
    expect(cfg.allowlist.cidrs).toEqual(['127.0.0.0/8', '::1/128']);
    expect([...cfg.organizations]).toEqual([DEV_ORGANIZATION, FIXTURE_ORGANIZATION]);
    expect(cfg.routes.map((r) => [r.path, r.target.href, r.format])).toEqual([
      ['/outbound/contact', 'http://127.0.0.1:18080/contact', 'soap'],
      ['/outbound/json', 'http://127.0.0.1:18080/json', 'json'],
    ]);
    expect(cfg.tls.clientPins.map((p) => p.fingerprint256)).toEqual([(await cert(paths.clientCert)).fingerprint256]);
  });
});
