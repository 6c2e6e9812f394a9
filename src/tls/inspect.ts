/**
 * What `sfom-gateway certs inspect` shows about a certificate: the facts an operator compares
 * with Salesforce's setup page and with the gateway's logs (the SHA-256 fingerprint in the
 * same form as `clientCertFingerprint`). Pure: bytes in, records and lines out.
 */
import type { X509Certificate } from 'node:crypto';
import { daysLeft, notAfter, notBefore, parseCertificates } from './cert-store.js';

export interface CertificateInfo {
  /** The file as given, `#n` within a bundle of several. */
  readonly name: string;
  readonly subject: string;
  readonly issuer: string;
  /** e.g. `DNS:proxy.salesforce.com`, `IP Address:127.0.0.1`. */
  readonly subjectAltNames: readonly string[];
  /** Upper-case hex, as OpenSSL prints it. */
  readonly serialNumber: string;
  /** `rsa`, `rsa-pss`, `ec`, `ed25519`, … */
  readonly keyType: string;
  /** RSA modulus bits; null for other key types. */
  readonly keyBits: number | null;
  /** EC named curve, e.g. `prime256v1`; null for other key types. */
  readonly curve: string | null;
  readonly notBefore: string;
  readonly notAfter: string;
  /** Whole days until notAfter, rounded down; negative once expired. */
  readonly daysLeft: number;
  readonly validity: 'valid' | 'expired' | 'not_yet_valid';
  /** Colon-separated upper-case hex (Node's `fingerprint256`, the form the logs use). */
  readonly fingerprint256: string;
  readonly isCa: boolean;
  readonly selfSigned: boolean;
}

/** One line per DN attribute in Node's output; shown on one line here. */
const oneLine = (dn: string): string => dn.split('\n').join(', ');

function sans(x509: X509Certificate): string[] {
  const text = x509.subjectAltName;
  if (!text) return [];
  // Node quotes entries holding a comma as JSON strings; split outside quotes.
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (c === '"' && text[i - 1] !== '\\') quoted = !quoted;
    if (c === ',' && !quoted && text[i + 1] === ' ') {
      out.push(current);
      current = '';
      i++;
      continue;
    }
    current += c;
  }
  if (current) out.push(current);
  return out;
}

/** Facts about one certificate. */
export function describeCertificate(x509: X509Certificate, name: string, now: Date): CertificateInfo {
  const key = x509.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  const type = key.asymmetricKeyType ?? 'unknown';
  return {
    name,
    subject: oneLine(x509.subject),
    issuer: oneLine(x509.issuer),
    subjectAltNames: sans(x509),
    serialNumber: x509.serialNumber.toUpperCase(),
    keyType: type,
    keyBits: type === 'rsa' || type === 'rsa-pss' ? (details.modulusLength ?? null) : null,
    curve: type === 'ec' ? (details.namedCurve ?? null) : null,
    notBefore: new Date(x509.validFrom).toISOString(),
    notAfter: new Date(x509.validTo).toISOString(),
    daysLeft: daysLeft(x509, now),
    validity: now < notBefore(x509) ? 'not_yet_valid' : now > notAfter(x509) ? 'expired' : 'valid',
    fingerprint256: x509.fingerprint256,
    isCa: x509.ca,
    selfSigned: x509.checkIssued(x509) && x509.verify(x509.publicKey),
  };
}

/**
 * Every certificate in a PEM file (a bundle too) or a DER file. Throws cert-store's
 * `CertificateFileError` (message names `displayName`) when the bytes hold no certificate.
 */
export function inspectCertificates(data: Buffer, displayName: string, now: Date = new Date()): CertificateInfo[] {
  return parseCertificates(data, displayName).map((c) => describeCertificate(c.x509, c.name, now));
}

function keyText(info: CertificateInfo): string {
  if (info.keyBits !== null) return `${info.keyType.toUpperCase()} ${info.keyBits} bits`;
  if (info.curve !== null) return `EC ${info.curve}`;
  return info.keyType.toUpperCase();
}

function validityText(info: CertificateInfo): string {
  if (info.validity === 'expired') return 'EXPIRED';
  if (info.validity === 'not_yet_valid') return `${info.daysLeft} days left, but NOT YET VALID`;
  return `${info.daysLeft} days left`;
}

/** The readable block for one certificate (no trailing blank line). */
export function formatCertificate(info: CertificateInfo): string[] {
  return [
    `${info.name}`,
    `  subject:      ${info.subject}`,
    `  issuer:       ${info.issuer}${info.selfSigned ? ' (self-signed)' : ''}`,
    `  SANs:         ${info.subjectAltNames.length > 0 ? info.subjectAltNames.join(', ') : '(none)'}`,
    `  serial:       ${info.serialNumber}`,
    `  key:          ${keyText(info)}`,
    `  not before:   ${info.notBefore}`,
    `  not after:    ${info.notAfter} (${validityText(info)})`,
    `  SHA-256:      ${info.fingerprint256}`,
    `  CA:           ${info.isCa ? 'yes' : 'no'}`,
  ];
}
