import { createPrivateKey, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedCertificate } from '../../../src/config/types.js';
import {
  CertificateFileError,
  certificateSubject,
  chainsTo,
  checkServerChain,
  daysLeft,
  findIssuer,
  isCurrentlyValid,
  keyMatchesCertificate,
  normalizeSubject,
  parseCertificates,
  parsePrivateKey,
  readCertificates,
} from '../../../src/tls/cert-store.js';
import { makePki, type CertFiles, type Pki } from '../../helpers/pki.js';

const DAY = 86_400_000;
let pki: Pki;
beforeAll(async () => {
  pki = await makePki();
});
afterAll(() => pki.cleanup());

const loaded = (...certs: CertFiles[]): LoadedCertificate[] =>
  certs.map((c, i) => ({ name: `cert#${i}`, x509: c.x509, fingerprint256: c.x509.fingerprint256 }));

function thrown(fn: () => unknown): CertificateFileError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CertificateFileError);
    return err as CertificateFileError;
  }
  throw new Error('expected a throw');
}

describe('readCertificates', () => {
  it('reads a single PEM certificate, named as displayed', () => {
    const [c, ...rest] = readCertificates(pki.client.certPath, 'certs/client.crt');
    expect(rest).toHaveLength(0);
    expect(c?.name).toBe('certs/client.crt');
    expect(c?.fingerprint256).toBe(pki.client.x509.fingerprint256);
  });

  it('reads every certificate of a bundle, in order, with 0-based names', async () => {
    const bundle = await pki.write('bundle.pem', `# CAs\n${pki.ca.certPem}\n${pki.otherCa.certPem}`);
    const certs = readCertificates(bundle, 'ca.pem');
    expect(certs.map((c) => c.name)).toEqual(['ca.pem#0', 'ca.pem#1']);
    expect(certs.map((c) => c.fingerprint256)).toEqual([pki.ca.x509.fingerprint256, pki.otherCa.x509.fingerprint256]);
  });

  it('reads a DER certificate', async () => {
    const der = await pki.write('client.der', pki.client.x509.raw);
    expect(readCertificates(der, 'client.der')[0]?.fingerprint256).toBe(pki.client.x509.fingerprint256);
  });

  it('says a missing file cannot be read, without an errno dump', () => {
    const err = thrown(() => readCertificates(`${pki.dir}/nope.crt`, 'certs/nope.crt'));
    expect(err.reason).toBe('unreadable');
    expect(err.message).toBe('file certs/nope.crt cannot be read (no such file)');
  });

  it('says a directory cannot be read', () => {
    expect(thrown(() => readCertificates(pki.dir, 'certs')).message).toBe('file certs cannot be read (it is a directory)');
  });

  it('rejects garbage, a key-only PEM and a corrupt certificate block', async () => {
    const garbage = await pki.write('garbage.crt', 'hello');
    expect(thrown(() => readCertificates(garbage, 'g.crt')).message).toBe('file g.crt is neither PEM nor a DER certificate');
    const keyOnly = await pki.write('key-only.crt', pki.client.keyPem);
    expect(thrown(() => readCertificates(keyOnly, 'k.crt')).message).toBe('file k.crt holds no PEM CERTIFICATE block');
    const corrupt = pki.client.certPem.replace(/\n[A-Za-z0-9+/]{64}\n/, '\nAAAA\n');
    const file = await pki.write('corrupt.crt', pki.ca.certPem + corrupt);
    const err = thrown(() => readCertificates(file, 'c.crt'));
    expect(err.reason).toBe('invalid');
    expect(err.message).toBe('certificate c.crt#1 does not parse');
  });
});

describe('parsePrivateKey', () => {
  it('reads PEM and DER keys, RSA and EC', () => {
    expect(parsePrivateKey(Buffer.from(pki.client.keyPem), 'k').asymmetricKeyType).toBe('rsa');
    expect(parsePrivateKey(Buffer.from(pki.ecdsaClient.keyPem), 'k').asymmetricKeyType).toBe('ec');
    const der = createPrivateKey(pki.client.keyPem).export({ type: 'pkcs8', format: 'der' });
    expect(parsePrivateKey(der, 'k').asymmetricKeyType).toBe('rsa');
    const sec1 = createPrivateKey(pki.ecdsaClient.keyPem).export({ type: 'sec1', format: 'der' });
    expect(parsePrivateKey(sec1, 'k').asymmetricKeyType).toBe('ec');
  });

  it('refuses encrypted keys and garbage with a clear message', () => {
    const encrypted = createPrivateKey(pki.client.keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' });
    expect(thrown(() => parsePrivateKey(Buffer.from(encrypted), 'server.key')).message)
      .toBe('key server.key is encrypted; passphrase-protected keys are not supported');
    expect(thrown(() => parsePrivateKey(Buffer.from('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), 'k')).message)
      .toBe('key k is not a valid PEM private key');
    expect(thrown(() => parsePrivateKey(Buffer.from('nonsense'), 'k')).message).toBe('key k is neither a PEM nor a DER private key');
  });
});

describe('keyMatchesCertificate', () => {
  it('compares the public keys', () => {
    expect(keyMatchesCertificate(pki.server.keyPem, pki.server.x509)).toBe(true);
    expect(keyMatchesCertificate(pki.ecdsaServer.keyPem, pki.ecdsaServer.x509)).toBe(true);
    expect(keyMatchesCertificate(createPrivateKey(pki.client.keyPem), pki.client.x509)).toBe(true);
    expect(keyMatchesCertificate(pki.client.keyPem, pki.server.x509)).toBe(false);
    expect(keyMatchesCertificate(pki.ecdsaClient.keyPem, pki.server.x509)).toBe(false);
  });
});

describe('chainsTo', () => {
  it('is true for a certificate issued by a CA in the list (root or intermediate)', () => {
    expect(chainsTo(pki.client.x509, [pki.ca.x509])).toBe(true);
    expect(chainsTo(pki.ecdsaClient.x509, loaded(pki.otherCa, pki.ca))).toBe(true);
    expect(chainsTo(pki.serverChain.x509, [pki.serverChain.intermediate.x509])).toBe(true);
    expect(findIssuer(pki.serverChain.x509, loaded(pki.ca, pki.serverChain.intermediate))?.name).toBe('cert#1');
  });

  it('is false for another CA, and for a same-named impostor', async () => {
    expect(chainsTo(pki.otherCaClient.x509, [pki.ca.x509])).toBe(false);
    expect(chainsTo(pki.serverChain.x509, [pki.ca.x509])).toBe(false);
    // Same subject as the trusted CA, different key: names match, the signature does not.
    const impostor = await pki.makeCert({ subject: pki.ca.subject, isCa: true });
    expect(chainsTo(pki.client.x509, [impostor.x509])).toBe(false);
    expect(chainsTo(pki.client.x509, [])).toBe(false);
  });
});

describe('daysLeft and isCurrentlyValid', () => {
  it('counts whole days left, negative once expired', () => {
    const notAfter = new Date(pki.client.x509.validTo);
    expect(daysLeft(pki.client.x509, new Date(notAfter.getTime() - 10 * DAY - 1000))).toBe(10);
    expect(daysLeft(pki.client.x509, new Date(notAfter.getTime() - 1000))).toBe(0);
    expect(daysLeft(pki.client.x509, new Date(notAfter.getTime() + 1000))).toBe(-1);
    expect(daysLeft(pki.expiredClient.x509)).toBeLessThan(-9);
  });

  it('checks both ends of the validity window', () => {
    expect(isCurrentlyValid(pki.client.x509)).toBe(true);
    expect(isCurrentlyValid(pki.expiredClient.x509)).toBe(false);
    expect(isCurrentlyValid(pki.notYetValidClient.x509)).toBe(false);
    expect(isCurrentlyValid(pki.notYetValidClient.x509, new Date(Date.now() + 20 * DAY))).toBe(true);
    expect(isCurrentlyValid(pki.client.x509, new Date(new Date(pki.client.x509.validTo).getTime() + 1000))).toBe(false);
  });
});

describe('checkServerChain', () => {
  const key = (c: CertFiles) => createPrivateKey(c.keyPem);

  it('accepts leaf + intermediate in order with the leaf key, and a lone leaf', () => {
    expect(checkServerChain(loaded(pki.serverChain, pki.serverChain.intermediate), key(pki.serverChain))).toEqual([]);
    expect(checkServerChain(loaded(pki.server), key(pki.server))).toEqual([]);
    expect(checkServerChain(loaded(pki.ecdsaServer), key(pki.ecdsaServer))).toEqual([]);
  });

  it('reports a key that does not match the leaf', () => {
    expect(checkServerChain(loaded(pki.server), key(pki.client))).toEqual([
      'the private key in tls.key does not match the leaf certificate cert#0',
    ]);
  });

  it('reports intermediates out of order', () => {
    const problems = checkServerChain(loaded(pki.serverChain.intermediate, pki.serverChain), key(pki.serverChain));
    expect(problems).toContain('the first certificate cert#0 is a CA certificate; the server certificate (leaf) must come first');
    expect(problems).toContain('certificate cert#0 is not issued by the next one, cert#1; order the file leaf first, then each intermediate');
  });

  it('reports an included self-signed root', () => {
    expect(checkServerChain(loaded(pki.serverChain, pki.serverChain.intermediate, pki.ca), key(pki.serverChain))).toEqual([
      'certificate cert#2 is a self-signed root; send the leaf and intermediates only, without the root',
    ]);
  });

  it('reports an expired or not yet valid leaf', async () => {
    const expired = await pki.makeCert({
      subject: 'CN=localhost', issuer: pki.ca, sans: ['localhost'], eku: ['serverAuth'],
      notBefore: new Date(Date.now() - 100 * DAY), notAfter: new Date(Date.now() - DAY),
    });
    expect(checkServerChain(loaded(expired), key(expired))[0]).toMatch(/^certificate cert#0 expired on \d{4}-\d\d-\d\dT/);
    expect(checkServerChain(loaded(pki.server), key(pki.server), new Date(Date.now() - 2 * DAY))[0])
      .toMatch(/^certificate cert#0 is not valid until /);
  });

  it('reports a leaf that is not for TLS servers', () => {
    expect(checkServerChain(loaded(pki.client), key(pki.client))).toEqual([
      'the leaf certificate cert#0 is not valid for TLS servers (extended key usage lacks serverAuth)',
    ]);
  });
});

describe('normalizeSubject', () => {
  it('makes the configuration form and X509Certificate.subject compare equal', () => {
    expect(pki.client.x509.subject).toBe('CN=proxy.salesforce.com\nO=Salesforce.com Inc');
    expect(normalizeSubject('CN=proxy.salesforce.com, O=Salesforce.com Inc')).toBe(certificateSubject(pki.client.x509));
    expect(normalizeSubject('cn=proxy.salesforce.com,o=Salesforce.com Inc')).toBe(certificateSubject(pki.client.x509));
    expect(normalizeSubject('  CN = proxy.salesforce.com ;  O = Salesforce.com Inc ')).toBe('CN=proxy.salesforce.com,O=Salesforce.com Inc');
  });

  it('keeps attribute order and value case', () => {
    expect(normalizeSubject('O=Salesforce.com Inc, CN=proxy.salesforce.com')).not.toBe(certificateSubject(pki.client.x509));
    expect(normalizeSubject('CN=Proxy.salesforce.com, O=Salesforce.com Inc')).not.toBe(certificateSubject(pki.client.x509));
  });

  it('resolves escapes, quotes and hex pairs, so special characters compare equal', () => {
    // What node prints for O=Salesforce.com, Inc. (RFC 2253 escaping) and what an operator may write.
    const fromNode = 'CN=proxy.salesforce.com\nO=Salesforce.com\\, Inc.';
    const canonical = 'CN=proxy.salesforce.com,O=Salesforce.com\\, Inc.';
    expect(normalizeSubject(fromNode)).toBe(canonical);
    expect(normalizeSubject('CN=proxy.salesforce.com, O="Salesforce.com, Inc."')).toBe(canonical);
    expect(normalizeSubject('CN=proxy.salesforce.com, O=Salesforce.com\\2C Inc.')).toBe(canonical);
    expect(normalizeSubject('L=Z\\C3\\BCrich')).toBe('L=Zürich');
    expect(normalizeSubject('OU=a\\+b \\"q\\" \\<x\\>\\;')).toBe('OU=a\\+b \\"q\\" \\<x\\>\\;');
  });

  it('treats a multi-valued RDN as a set and maps attribute aliases', () => {
    expect(normalizeSubject('CN=x + emailAddress=a@b')).toBe(normalizeSubject('E=a@b+CN=x'));
    expect(normalizeSubject('2.5.4.3=x, OID.2.5.4.10=y')).toBe('CN=x,O=y');
  });

  it('is idempotent', () => {
    for (const dn of ['CN=a\\, b, O=" c "', 'CN=#hash', 'CN=x + E=a@b, O=\\ lead']) {
      const once = normalizeSubject(dn);
      expect(normalizeSubject(once)).toBe(once);
    }
  });

  it('throws on malformed DNs', () => {
    expect(() => normalizeSubject('')).toThrow(/non-empty/);
    expect(() => normalizeSubject('proxy.salesforce.com')).toThrow(/not a valid distinguished name: an attribute has no "="/);
    expect(() => normalizeSubject('CN=a,')).toThrow(/ends with a separator/);
    expect(() => normalizeSubject('C N=a')).toThrow(/bad attribute name/);
    expect(() => normalizeSubject('CN="a')).toThrow(/unterminated/);
  });

  it('handles what node prints for escaped and UTF-8 subjects', async () => {
    const cert = await pki.makeCert({ subject: 'CN=proxy.salesforce.com, O=Salesforce.com Inc, L=Zürich' });
    expect(certificateSubject(cert.x509)).toBe(normalizeSubject('CN=proxy.salesforce.com, O=Salesforce.com Inc, L=Zürich'));
  });
});

it('parseCertificates accepts PEM with CRLF line ends and surrounding text', () => {
  const text = `Bag Attributes\r\n${pki.ca.certPem.replace(/\n/g, '\r\n')}trailing`;
  const [c] = parseCertificates(Buffer.from(text), 'x');
  expect(c?.x509).toBeInstanceOf(X509Certificate);
});
