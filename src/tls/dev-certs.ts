/**
 * Development certificates for `npm start` without a configuration: a throw-away CA, a server
 * certificate for localhost, 127.0.0.1 and ::1, and a stand-in for the Salesforce client
 * certificate, all generated into certs/dev/ (git-ignored) on first start and reused after.
 * Never for production: the CA key sits next to the certificates.
 *
 * Keys come from node:crypto (native, fast); node-forge builds and signs the certificates.
 */
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Forge from 'node-forge';
import { daysLeft, isCurrentlyValid, isIssuedBy, keyMatchesCertificate } from './cert-store.js';

// node-forge is CommonJS with no named exports Node can detect, and its types declare no default.
const forge = createRequire(import.meta.url)('node-forge') as typeof Forge;

export interface DevCertPaths {
  /** Absolute folder holding the files below. */
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** True when this call generated new certificates, false when existing ones were reused. */
  readonly generated: boolean;
}

export const DEV_CLIENT_SUBJECT = 'CN=sfom-dev-salesforce-client';
/** Regenerate when any certificate has fewer days left than this. */
const REUSE_MIN_DAYS = 7;
const DAY_MS = 86_400_000;
const FILES = {
  caCert: 'ca.crt', caKey: 'ca.key',
  serverCert: 'server.crt', serverKey: 'server.key',
  clientCert: 'client.crt', clientKey: 'client.key',
} as const;

/**
 * Makes sure `dir` holds usable development certificates and returns their paths. Existing
 * ones are reused when they parse, chain to the CA, match their keys and have at least 7 days
 * left; otherwise all of them are generated again.
 */
export async function ensureDevCertificates(dir: string): Promise<DevCertPaths> {
  const abs = path.resolve(dir);
  const files = Object.fromEntries(Object.entries(FILES).map(([k, f]) => [k, path.join(abs, f)])) as Record<keyof typeof FILES, string>;
  if (await reusable(files)) return { dir: abs, ...files, generated: false };

  await mkdir(abs, { recursive: true, mode: 0o700 });
  const ca = issue({ cn: 'sfom-gateway development CA (not for production)', days: 825, isCa: true });
  const server = issue({ cn: 'localhost', days: 365, issuer: ca, eku: 'serverAuth', sans: true });
  const client = issue({ cn: DEV_CLIENT_SUBJECT.slice(3), days: 365, issuer: ca, eku: 'clientAuth' });
  for (const [certFile, keyFile, pair] of [
    [files.caCert, files.caKey, ca], [files.serverCert, files.serverKey, server], [files.clientCert, files.clientKey, client],
  ] as const) {
    await writeFile(keyFile, pair.keyPem, { mode: 0o600 });
    await chmod(keyFile, 0o600); // the mode option only applies when the file is created
    await writeFile(certFile, pair.certPem, { mode: 0o644 });
  }
  return { dir: abs, ...files, generated: true };
}

async function reusable(files: Record<keyof typeof FILES, string>): Promise<boolean> {
  try {
    const read = (f: string): Promise<string> => readFile(f, 'utf8');
    const [ca, server, client] = await Promise.all([files.caCert, files.serverCert, files.clientCert].map(async (f) => new X509Certificate(await read(f))));
    const [caKey, serverKey, clientKey] = await Promise.all([files.caKey, files.serverKey, files.clientKey].map(read));
    const now = new Date();
    return [ca, server, client].every((c) => isCurrentlyValid(c!, now) && daysLeft(c!, now) >= REUSE_MIN_DAYS)
      && isIssuedBy(server!, ca!) && isIssuedBy(client!, ca!)
      && keyMatchesCertificate(caKey!, ca!) && keyMatchesCertificate(serverKey!, server!) && keyMatchesCertificate(clientKey!, client!);
  } catch {
    return false; // missing or broken: generate a fresh set
  }
}

interface Issued {
  readonly cn: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly cert: Forge.pki.Certificate;
  readonly key: Forge.pki.rsa.PrivateKey;
}

interface IssueOptions {
  readonly cn: string;
  readonly days: number;
  readonly issuer?: Issued;
  readonly isCa?: boolean;
  readonly eku?: 'serverAuth' | 'clientAuth';
  readonly sans?: boolean;
}

function issue(opts: IssueOptions): Issued {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const key = forge.pki.privateKeyFromPem(privateKey) as Forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f; // positive INTEGER (RFC 5280 §4.1.2.2)
  cert.serialNumber = serial.toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 3_600_000); // an hour of clock skew
  cert.validity.notAfter = new Date(now + opts.days * DAY_MS);
  const subject = [{ shortName: 'CN', value: opts.cn }, { shortName: 'O', value: 'sfom-gateway development' }];
  cert.setSubject(subject);
  cert.setIssuer(opts.issuer ? opts.issuer.cert.subject.attributes : subject);
  const extensions: object[] = opts.isCa
    ? [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ]
    : [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    ];
  if (opts.eku) extensions.push({ name: 'extKeyUsage', [opts.eku]: true });
  if (opts.sans) {
    extensions.push({ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] });
  }
  extensions.push({ name: 'subjectKeyIdentifier' });
  if (opts.issuer) {
    extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: opts.issuer.cert.generateSubjectKeyIdentifier().getBytes() });
  }
  cert.setExtensions(extensions);
  cert.sign(opts.issuer ? opts.issuer.key : key, forge.md.sha256.create());
  return { cn: opts.cn, certPem: forge.pki.certificateToPem(cert), keyPem: privateKey, cert, key };
}
