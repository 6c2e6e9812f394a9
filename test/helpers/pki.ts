/**
 * The test PKI: a throw-away CA, server and client certificates in a temp dir, created per
 * suite and removed by `cleanup()` (STYLE.md habit 12).
 *
 * Keys come from node:crypto (RSA-2048 or P-256). node-forge builds the TBSCertificate (names,
 * validity, extensions); the subject public key and the signature algorithm are then swapped
 * for the real ones and the TBS is signed with node:crypto. That way one code path makes RSA
 * and ECDSA certificates, signed by RSA or ECDSA issuers, in-process and without the openssl CLI
 * (node-forge alone can neither embed nor sign with EC keys).
 *
 * Every CA subject carries a random run id, so certificates of two PKIs never chain to each
 * other by accident.
 */
import { createHash, generateKeyPair, randomBytes, sign, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Forge from 'node-forge';

// node-forge is CommonJS without detectable named exports, and its types declare no default:
// load it through require so the same line works under tsc, vitest and plain node.
const forge = createRequire(import.meta.url)('node-forge') as typeof Forge;

const DAY_MS = 86_400_000;

export type KeyType = 'rsa' | 'ec';
export type Eku = 'serverAuth' | 'clientAuth';

export interface KeyPair {
  readonly type: KeyType;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** A certificate and its key, in memory. */
export interface GeneratedCert {
  /** The subject as given, e.g. `CN=proxy.salesforce.com, O=Salesforce.com Inc`. */
  readonly subject: string;
  readonly certPem: string;
  /** PKCS#8 PEM (`BEGIN PRIVATE KEY`). */
  readonly keyPem: string;
  readonly x509: X509Certificate;
  readonly keyPair: KeyPair;
}

/** A certificate and its key, also written to files. */
export interface CertFiles extends GeneratedCert {
  readonly certPath: string;
  readonly keyPath: string;
}

/** A leaf signed by an intermediate, with the chain file a server presents (leaf, intermediate). */
export interface ChainFiles extends CertFiles {
  /** Leaf PEM then intermediate PEM. */
  readonly chainPath: string;
  readonly chainPem: string;
  readonly intermediate: CertFiles;
}

export interface CertOptions {
  /** Comma-separated RDNs, written in the order given, e.g. `CN=a, O=b` (no escaped commas). */
  readonly subject: string;
  /** Signing certificate; absent = self-signed. */
  readonly issuer?: GeneratedCert;
  /** Default `rsa` (2048 bits); `ec` is P-256. Ignored when `key` is given. */
  readonly keyType?: KeyType;
  /** Reuse an existing key pair (e.g. a second certificate for the same key). */
  readonly key?: KeyPair;
  /** Default: one hour ago. */
  readonly notBefore?: Date;
  /** Default: 365 days from now. */
  readonly notAfter?: Date;
  readonly isCa?: boolean;
  /** DNS names and IP addresses. */
  readonly sans?: readonly string[];
  readonly eku?: readonly Eku[];
}

export interface PkiOptions {
  /** Prefix of the temp dir name. */
  readonly prefix?: string;
}

export interface Pki {
  readonly dir: string;
  /** Root CA (self-signed) that issued `server`, `client`, `client2` and the other test clients. */
  readonly ca: CertFiles;
  /** Server leaf for localhost, 127.0.0.1 and ::1, signed by `ca`. */
  readonly server: CertFiles;
  /** Server leaf signed by an intermediate (itself signed by `ca`); `chainPath` = leaf + intermediate. */
  readonly serverChain: ChainFiles;
  /** The pinned "Salesforce" client: CN=proxy.salesforce.com, O=Salesforce.com Inc, clientAuth. */
  readonly client: CertFiles;
  /** Another valid client from `ca` (rotation; "trusted but not pinned"). */
  readonly client2: CertFiles;
  /** A CA nobody trusts, and a client it issued (same subject as `client`). */
  readonly otherCa: CertFiles;
  readonly otherCaClient: CertFiles;
  /** Issued by `ca`, expired 10 days ago. */
  readonly expiredClient: CertFiles;
  /** Issued by `ca`, valid from 10 days from now. */
  readonly notYetValidClient: CertFiles;
  /** The CA certificate and key, presented as a client certificate (same files as `ca`). */
  readonly caAsLeaf: CertFiles;
  /** P-256 client certificate issued by `ca`. */
  readonly ecdsaClient: CertFiles;
  /** P-256 server certificate (localhost, 127.0.0.1, ::1) issued by `ca`. */
  readonly ecdsaServer: CertFiles;
  /** A certificate+key from `ca`, valid for `days` more days (serverAuth+clientAuth, localhost SANs). */
  expiringSoon(days: number, subject?: string): Promise<CertFiles>;
  /** An ad-hoc certificate, written into `dir`. */
  makeCert(opts: CertOptions, name?: string): Promise<CertFiles>;
  /** Writes `content` to `dir/name` and returns the path. */
  write(name: string, content: string | Uint8Array): Promise<string>;
  cleanup(): Promise<void>;
}

export const SERVER_SANS: readonly string[] = ['localhost', '127.0.0.1', '::1'];
export const SALESFORCE_CLIENT_SUBJECT = 'CN=proxy.salesforce.com, O=Salesforce.com Inc';

/** A fresh RSA-2048 or P-256 key pair (async: runs on the libuv pool, so several run in parallel). */
export function makeKeyPair(type: KeyType = 'rsa'): Promise<KeyPair> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, publicKey: KeyObject, privateKey: KeyObject): void => {
      if (err) reject(err);
      else resolve({ type, privateKey, publicKey });
    };
    if (type === 'rsa') generateKeyPair('rsa', { modulusLength: 2048 }, done);
    else generateKeyPair('ec', { namedCurve: 'prime256v1' }, done);
  });
}

/** Builds and signs a certificate. */
export async function makeCert(opts: CertOptions): Promise<GeneratedCert> {
  const keyPair = opts.key ?? (await makeKeyPair(opts.keyType ?? 'rsa'));
  return buildCert(opts, keyPair);
}

const OID_SHA256_RSA = '1.2.840.113549.1.1.11';
const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const { asn1 } = forge;

function algorithmIdentifier(issuerKeyType: KeyType): Forge.asn1.Asn1 {
  // RFC 4055 §5: sha256WithRSAEncryption carries NULL parameters; RFC 5758 §3.2: ECDSA none.
  const oid = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false,
    asn1.oidToDer(issuerKeyType === 'rsa' ? OID_SHA256_RSA : OID_ECDSA_SHA256).getBytes());
  const parts = issuerKeyType === 'rsa' ? [oid, asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '')] : [oid];
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, parts);
}

/** RFC 7093 §2 method 1: leftmost 160 bits of the SHA-256 of the SubjectPublicKeyInfo. */
function keyIdentifier(publicKey: KeyObject): string {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest().subarray(0, 20).toString('binary');
}

function parseSubject(subject: string): Forge.pki.CertificateField[] {
  return subject.split(',').map((rdn) => {
    const eq = rdn.indexOf('=');
    if (eq < 1) throw new Error(`bad subject RDN "${rdn}" in "${subject}"`);
    return { shortName: rdn.slice(0, eq).trim(), value: rdn.slice(eq + 1).trim() };
  });
}

function buildCert(opts: CertOptions, keyPair: KeyPair): GeneratedCert {
  const now = Date.now();
  const issuerName = opts.issuer ? opts.issuer.subject : opts.subject;
  const issuerKey = opts.issuer ? opts.issuer.keyPair : keyPair;

  const cert = forge.pki.createCertificate();
  // Placeholder: forge only encodes RSA keys; the real SubjectPublicKeyInfo is swapped in below.
  cert.publicKey = forge.pki.rsa.setPublicKey(new forge.jsbn.BigInteger('1'), new forge.jsbn.BigInteger('3'));
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f; // a positive INTEGER (RFC 5280 §4.1.2.2)
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = opts.notBefore ?? new Date(now - 3_600_000);
  cert.validity.notAfter = opts.notAfter ?? new Date(now + 365 * DAY_MS);
  cert.setSubject(parseSubject(opts.subject));
  cert.setIssuer(parseSubject(issuerName));

  const extensions: object[] = [];
  if (opts.isCa) {
    extensions.push({ name: 'basicConstraints', cA: true, critical: true });
    extensions.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true });
  } else {
    extensions.push({ name: 'basicConstraints', cA: false, critical: true });
    extensions.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: keyPair.type === 'rsa', critical: true });
  }
  if (opts.eku && opts.eku.length > 0) {
    extensions.push({ name: 'extKeyUsage', ...Object.fromEntries(opts.eku.map((e) => [e, true])) });
  }
  if (opts.sans && opts.sans.length > 0) {
    extensions.push({
      name: 'subjectAltName',
      altNames: opts.sans.map((san) => (isIP(san) ? { type: 7, ip: san } : { type: 2, value: san })),
    });
  }
  extensions.push({
    name: 'subjectKeyIdentifier',
    value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, keyIdentifier(keyPair.publicKey)),
  });
  extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: keyIdentifier(issuerKey.publicKey) });
  cert.setExtensions(extensions);

  cert.siginfo.algorithmOid = OID_SHA256_RSA; // placeholder too, replaced below
  // getTBSCertificate exists at runtime but is missing from @types/node-forge.
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: Forge.pki.Certificate): Forge.asn1.Asn1 }).getTBSCertificate(cert);
  const fields = tbs.value as Forge.asn1.Asn1[];
  // TBSCertificate: [0] version, serial, signature, issuer, validity, subject, subjectPublicKeyInfo, ...
  fields[2] = algorithmIdentifier(issuerKey.type);
  const spkiDer = keyPair.publicKey.export({ type: 'spki', format: 'der' }).toString('binary');
  fields[6] = (asn1.fromDer as unknown as (b: string, o: object) => Forge.asn1.Asn1)(spkiDer, { decodeBitStrings: false });

  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  const signature = sign('sha256', tbsDer, issuerKey.privateKey);
  const certificate = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    algorithmIdentifier(issuerKey.type),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\x00' + signature.toString('binary')),
  ]);
  const x509 = new X509Certificate(Buffer.from(asn1.toDer(certificate).getBytes(), 'binary'));
  return {
    subject: opts.subject,
    certPem: x509.toString(),
    keyPem: keyPair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    x509,
    keyPair,
  };
}

async function writeCert(dir: string, name: string, cert: GeneratedCert): Promise<CertFiles> {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  await writeFile(certPath, cert.certPem);
  await writeFile(keyPath, cert.keyPem, { mode: 0o600 });
  return { ...cert, certPath, keyPath };
}

/**
 * Creates a complete test PKI in a fresh temp dir.
 *
 * @example
 * const pki = await makePki();
 * afterAll(() => pki.cleanup());
 */
export async function makePki(opts: PkiOptions = {}): Promise<Pki> {
  const dir = await mkdtemp(join(tmpdir(), opts.prefix ?? 'sfom-pki-'));
  const runId = randomBytes(4).toString('hex');
  const now = Date.now();
  let counter = 0;

  const [caKey, otherCaKey, intKey, ...leafKeys] = await Promise.all([
    ...Array.from({ length: 10 }, () => makeKeyPair('rsa')),
    makeKeyPair('ec'),
    makeKeyPair('ec'),
  ]);
  const key = (): KeyPair => {
    const k = leafKeys.shift();
    if (!k) throw new Error('pki: out of pre-generated keys');
    return k;
  };

  const ca = await writeCert(dir, 'ca', buildCert(
    { subject: `CN=sfom test root CA ${runId}, O=sfom-gateway tests`, isCa: true,
      notBefore: new Date(now - 365 * DAY_MS), notAfter: new Date(now + 3650 * DAY_MS) }, caKey!));
  const otherCa = await writeCert(dir, 'other-ca', buildCert(
    { subject: `CN=sfom untrusted CA ${runId}, O=sfom-gateway tests`, isCa: true,
      notBefore: new Date(now - 365 * DAY_MS), notAfter: new Date(now + 3650 * DAY_MS) }, otherCaKey!));
  const intermediate = await writeCert(dir, 'intermediate', buildCert(
    { subject: `CN=sfom test intermediate CA ${runId}, O=sfom-gateway tests`, isCa: true, issuer: ca,
      notBefore: new Date(now - 365 * DAY_MS), notAfter: new Date(now + 1825 * DAY_MS) }, intKey!));

  const serverOpts = { sans: SERVER_SANS, eku: ['serverAuth'] as const };
  const clientEku = ['clientAuth'] as const;
  const server = await writeCert(dir, 'server', buildCert({ subject: 'CN=localhost', issuer: ca, ...serverOpts }, key()));
  const chainLeaf = await writeCert(dir, 'server-chain-leaf',
    buildCert({ subject: 'CN=localhost', issuer: intermediate, ...serverOpts }, key()));
  const chainPem = chainLeaf.certPem + intermediate.certPem;
  const chainPath = join(dir, 'server-chain.crt');
  await writeFile(chainPath, chainPem);
  const serverChain: ChainFiles = { ...chainLeaf, chainPath, chainPem, intermediate };

  const client = await writeCert(dir, 'client',
    buildCert({ subject: SALESFORCE_CLIENT_SUBJECT, issuer: ca, eku: clientEku }, key()));
  const client2 = await writeCert(dir, 'client2',
    buildCert({ subject: 'CN=proxy2.salesforce.com, O=Salesforce.com Inc', issuer: ca, eku: clientEku }, key()));
  const otherCaClient = await writeCert(dir, 'other-ca-client',
    buildCert({ subject: SALESFORCE_CLIENT_SUBJECT, issuer: otherCa, eku: clientEku }, key()));
  const expiredClient = await writeCert(dir, 'expired-client', buildCert({
    subject: 'CN=expired.salesforce.com, O=Salesforce.com Inc', issuer: ca, eku: clientEku,
    notBefore: new Date(now - 400 * DAY_MS), notAfter: new Date(now - 10 * DAY_MS),
  }, key()));
  const notYetValidClient = await writeCert(dir, 'not-yet-valid-client', buildCert({
    subject: 'CN=future.salesforce.com, O=Salesforce.com Inc', issuer: ca, eku: clientEku,
    notBefore: new Date(now + 10 * DAY_MS), notAfter: new Date(now + 400 * DAY_MS),
  }, key()));
  const ecdsaClient = await writeCert(dir, 'ecdsa-client',
    buildCert({ subject: 'CN=ecdsa.salesforce.com, O=Salesforce.com Inc', issuer: ca, eku: clientEku }, key()));
  const ecdsaServer = await writeCert(dir, 'ecdsa-server',
    buildCert({ subject: 'CN=localhost', issuer: ca, ...serverOpts }, key()));
  const caAsLeaf: CertFiles = { ...ca };

  const pki: Pki = {
    dir, ca, server, serverChain, client, client2, otherCa, otherCaClient, expiredClient,
    notYetValidClient, caAsLeaf, ecdsaClient, ecdsaServer,
    async expiringSoon(days, subject = `CN=expiring-${days}d.example.test`) {
      const cert = await makeCert({
        subject, issuer: ca, sans: SERVER_SANS, eku: ['serverAuth', 'clientAuth'],
        notBefore: new Date(Date.now() - 30 * DAY_MS), notAfter: new Date(Date.now() + days * DAY_MS),
      });
      return writeCert(dir, `expiring-${days}d-${++counter}`, cert);
    },
    async makeCert(certOpts, name) {
      return writeCert(dir, name ?? `adhoc-${++counter}`, await makeCert(certOpts));
    },
    async write(name, content) {
      const path = join(dir, name);
      await writeFile(path, content);
      return path;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
  return pki;
}
