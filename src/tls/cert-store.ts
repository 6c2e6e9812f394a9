/**
 * Loading and checking certificate material with node:crypto only (this is network-path code;
 * node-forge is for offline generation). Everything here is synchronous and runs at load and
 * reload, never per request, except `certificateSubject`/`normalizeSubject`, which are cheap.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { LoadedCertificate } from '../config/types.js';

const DAY_MS = 86_400_000;
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Thrown by the readers; the message is short and safe to show (no errno stack, no contents). */
export class CertificateFileError extends Error {
  readonly reason: 'unreadable' | 'invalid';

  constructor(reason: 'unreadable' | 'invalid', message: string) {
    super(message);
    this.name = 'CertificateFileError';
    this.reason = reason;
  }
}

/** Why a file could not be read, in words: `cannot be read (no such file)`. */
export function fileReadProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const why =
    code === 'ENOENT' ? 'no such file'
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'EISDIR' ? 'it is a directory'
    : code === 'ENOTDIR' ? 'a parent is not a directory'
    : code ?? 'unknown error';
  return `cannot be read (${why})`;
}

/** Reads a whole file, turning errors into a `CertificateFileError` with a short reason. */
export function readFileOrExplain(file: string, displayName: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CertificateFileError('unreadable', `file ${displayName} ${fileReadProblem(err)}`);
  }
}

function load(x509: X509Certificate, name: string): LoadedCertificate {
  return { name, x509, fingerprint256: x509.fingerprint256 };
}

/**
 * Reads every certificate of a PEM bundle, or a single DER certificate. In a bundle of more
 * than one, names get a 0-based index: `certs/ca.pem#0`, `certs/ca.pem#1`. Throws a
 * `CertificateFileError` when the file cannot be read, holds no certificate, or any
 * certificate in it does not parse.
 */
export function readCertificates(file: string, displayName: string): LoadedCertificate[] {
  return parseCertificates(readFileOrExplain(file, displayName), displayName);
}

/** `readCertificates` on bytes already read. */
export function parseCertificates(data: Buffer, displayName: string): LoadedCertificate[] {
  const text = data.toString('latin1');
  if (!text.includes('-----BEGIN')) {
    try {
      return [load(new X509Certificate(data), displayName)];
    } catch {
      throw new CertificateFileError('invalid', `file ${displayName} is neither PEM nor a DER certificate`);
    }
  }
  const blocks = [...text.matchAll(PEM_BLOCK)].filter((m) => m[1] === 'CERTIFICATE' || m[1] === 'X509 CERTIFICATE');
  if (blocks.length === 0) {
    throw new CertificateFileError('invalid', `file ${displayName} holds no PEM CERTIFICATE block`);
  }
  return blocks.map((m, i) => {
    const name = blocks.length > 1 ? `${displayName}#${i}` : displayName;
    try {
      return load(new X509Certificate(m[0]), name);
    } catch {
      throw new CertificateFileError('invalid', `certificate ${name} does not parse`);
    }
  });
}

/**
 * Parses a private key (PEM, or DER as PKCS#8, PKCS#1 or SEC1). Throws a `CertificateFileError`
 * for an encrypted or unparsable key; passphrases are not supported (the key file is protected
 * by its mode instead).
 */
export function parsePrivateKey(data: Buffer, displayName: string): KeyObject {
  const text = data.toString('latin1');
  if (text.includes('-----BEGIN')) {
    if (/-----BEGIN (ENCRYPTED PRIVATE KEY|[A-Z]+ PRIVATE KEY-----[\s\S]*Proc-Type: 4,ENCRYPTED)/.test(text)) {
      throw new CertificateFileError('invalid', `key ${displayName} is encrypted; passphrase-protected keys are not supported`);
    }
    try {
      return createPrivateKey({ key: text, format: 'pem' });
    } catch {
      throw new CertificateFileError('invalid', `key ${displayName} is not a valid PEM private key`);
    }
  }
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      return createPrivateKey({ key: data, format: 'der', type });
    } catch {
      // try the next encoding
    }
  }
  throw new CertificateFileError('invalid', `key ${displayName} is neither a PEM nor a DER private key`);
}

function spki(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/** True when the private key belongs to the certificate (their public keys are equal). */
export function keyMatchesCertificate(keyPem: string | KeyObject, cert: X509Certificate): boolean {
  const publicKey = createPublicKey(keyPem);
  return spki(publicKey).equals(spki(cert.publicKey));
}

type CertLike = X509Certificate | LoadedCertificate;
const x509Of = (c: CertLike): X509Certificate => (c instanceof X509Certificate ? c : c.x509);

/** True when `issuer` names itself as the issuer of `cert` and its key verifies the signature. */
export function isIssuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

/** The certificate in `cas` that issued `cert` (root or intermediate), or null. */
export function findIssuer<T extends CertLike>(cert: X509Certificate, cas: Iterable<T>): T | null {
  for (const ca of cas) if (isIssuedBy(cert, x509Of(ca))) return ca;
  return null;
}

/**
 * True when a certificate in `cas` (a root or an intermediate of the clientCa bundle) issued
 * `cert`: checkIssued for the names and key identifiers, verify for the signature.
 */
export function chainsTo(cert: X509Certificate, cas: Iterable<CertLike>): boolean {
  return findIssuer(cert, cas) !== null;
}

export function notBefore(cert: CertLike): Date {
  return new Date(x509Of(cert).validFrom);
}

export function notAfter(cert: CertLike): Date {
  return new Date(x509Of(cert).validTo);
}

/** Whole days until notAfter (negative once expired), rounded down. */
export function daysLeft(cert: CertLike, now: Date = new Date()): number {
  return Math.floor((notAfter(cert).getTime() - now.getTime()) / DAY_MS);
}

/** True when `now` is inside the validity window (notBefore ≤ now ≤ notAfter). */
export function isCurrentlyValid(cert: CertLike, now: Date = new Date()): boolean {
  const t = now.getTime();
  return notBefore(cert).getTime() <= t && t <= notAfter(cert).getTime();
}

/** True when the certificate is self-signed (its own issuer, signature verified by its own key). */
export function isSelfSigned(cert: X509Certificate): boolean {
  return isIssuedBy(cert, cert);
}

const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

/**
 * Checks a server chain the way Salesforce needs it (shared/SALESFORCE.md "Network and
 * certificates"): leaf first, then intermediates in order, each certificate issued by the next,
 * no self-signed root, every certificate inside its validity window, and the key matching the
 * leaf. Returns the problems in words (the caller attaches the key path `tls.cert`).
 */
export function checkServerChain(chain: readonly LoadedCertificate[], key: KeyObject, now: Date = new Date()): string[] {
  const problems: string[] = [];
  const leaf = chain[0];
  if (!leaf) return ['holds no certificate'];
  if (!keyMatchesCertificate(key, leaf.x509)) {
    problems.push(`the private key in tls.key does not match the leaf certificate ${leaf.name}`);
  }
  if (leaf.x509.ca) {
    problems.push(`the first certificate ${leaf.name} is a CA certificate; the server certificate (leaf) must come first`);
  }
  const eku = leaf.x509.keyUsage as string[] | undefined;
  if (Array.isArray(eku) && eku.length > 0 && !eku.includes(EKU_SERVER_AUTH)) {
    problems.push(`the leaf certificate ${leaf.name} is not valid for TLS servers (extended key usage lacks serverAuth)`);
  }
  chain.forEach((c, i) => {
    if (now < notBefore(c)) problems.push(`certificate ${c.name} is not valid until ${notBefore(c).toISOString()}`);
    else if (now > notAfter(c)) problems.push(`certificate ${c.name} expired on ${notAfter(c).toISOString()}`);
    if (i > 0 && isSelfSigned(c.x509)) {
      problems.push(`certificate ${c.name} is a self-signed root; send the leaf and intermediates only, without the root`);
    }
    const next = chain[i + 1];
    if (next && !isIssuedBy(c.x509, next.x509)) {
      problems.push(`certificate ${c.name} is not issued by the next one, ${next.name}; order the file leaf first, then each intermediate`);
    }
  });
  return problems;
}

// --- Distinguished names -------------------------------------------------------------------

/** Attribute names that mean the same thing, mapped to one spelling (upper case). */
const ATTRIBUTE_ALIASES: Readonly<Record<string, string>> = {
  E: 'EMAILADDRESS',
  EMAIL: 'EMAILADDRESS',
  S: 'ST',
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '1.2.840.113549.1.9.1': 'EMAILADDRESS',
};

interface Ava {
  readonly name: string;
  readonly value: string;
}

/** Splits a DN into RDNs of attribute-value pairs, honouring RFC 4514 escapes and quotes. */
function parseDn(dn: string): Ava[][] {
  const rdns: Ava[][] = [];
  let rdn: Ava[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`"${dn}" is not a valid distinguished name: ${why}`);
  };
  while (i <= dn.length) {
    // attribute name
    const eq = dn.indexOf('=', i);
    if (eq < 0) fail('an attribute has no "="');
    let name = dn.slice(i, eq).trim().toUpperCase();
    if (name.startsWith('OID.')) name = name.slice(4);
    if (!/^(?:[A-Z][A-Z0-9-]*|[0-9]+(?:\.[0-9]+)+)$/.test(name)) fail(`bad attribute name "${dn.slice(i, eq).trim()}"`);
    name = ATTRIBUTE_ALIASES[name] ?? name;
    i = eq + 1;
    // value
    const bytes: number[] = [];
    const pushText = (s: string): void => {
      bytes.push(...Buffer.from(s, 'utf8'));
    };
    let trailingSpaces = 0; // unescaped spaces at the end, dropped
    while (i < dn.length && dn[i] === ' ') i++;
    if (dn[i] === '"') {
      i++;
      while (i < dn.length && dn[i] !== '"') {
        if (dn[i] === '\\' && i + 1 < dn.length) i++;
        pushText(dn[i] ?? '');
        i++;
      }
      if (dn[i] !== '"') fail('unterminated quoted value');
      i++;
      while (i < dn.length && dn[i] === ' ') i++;
    } else {
      while (i < dn.length && !',;+\n'.includes(dn[i] ?? '')) {
        const c = dn[i] ?? '';
        if (c === '\\') {
          const hex = dn.slice(i + 1, i + 3);
          if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
            bytes.push(parseInt(hex, 16));
            i += 3;
          } else if (i + 1 < dn.length) {
            pushText(dn[i + 1] ?? '');
            i += 2;
          } else {
            fail('a value ends with a lone backslash');
          }
          trailingSpaces = 0;
          continue;
        }
        trailingSpaces = c === ' ' ? trailingSpaces + 1 : 0;
        pushText(c);
        i++;
      }
    }
    const raw = Buffer.from(bytes.slice(0, bytes.length - trailingSpaces)).toString('utf8');
    rdn.push({ name, value: raw });
    const sep = dn[i];
    if (sep === '+') {
      // multi-valued RDN; node prints " + " between its parts
      i++;
      continue;
    }
    rdns.push(rdn);
    rdn = [];
    if (sep === undefined) break;
    i++;
    if (dn.slice(i).trim() === '') fail('ends with a separator');
  }
  return rdns;
}

function escapeValue(value: string): string {
  let out = value.replace(/[\\,+"<>;=\n\r]/g, (c) => (c === '\n' ? '\\0A' : c === '\r' ? '\\0D' : `\\${c}`));
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/**
 * Canonical form of a subject DN, so that a DN written in configuration
 * (`CN=proxy.salesforce.com, O=Salesforce.com Inc`) and `X509Certificate.subject`
 * (`CN=proxy.salesforce.com\nO=Salesforce.com Inc`) compare equal. RDNs keep the order given
 * (a certificate's order is its DER order); attribute names are case-insensitive; values are
 * compared exactly, after trimming unescaped surrounding spaces and resolving escapes. The
 * result is itself a valid input (normalising twice changes nothing). Throws for a malformed DN.
 *
 * @example normalizeSubject('cn=proxy.salesforce.com , O = Salesforce.com Inc') // 'CN=proxy.salesforce.com,O=Salesforce.com Inc'
 */
export function normalizeSubject(dn: string): string {
  if (typeof dn !== 'string' || dn.trim() === '') throw new Error('a distinguished name must be a non-empty string');
  // Trim, but keep an escaped trailing space (`CN=a\ `).
  return parseDn(dn.trimStart().replace(/(?<!\\)\s+$/, ''))
    .map((rdn) =>
      rdn
        .map((ava) => `${ava.name}=${escapeValue(ava.value)}`)
        .sort() // a multi-valued RDN is a set (X.501): order its parts
        .join('+'),
    )
    .join(',');
}

/** The certificate's subject in `normalizeSubject` form. */
export function certificateSubject(cert: X509Certificate): string {
  return normalizeSubject(cert.subject);
}
