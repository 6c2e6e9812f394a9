/**
 * The `tls` section of the schema: the server's certificate and key, the client CA, and the
 * client pins or subjects, at least one of which must be given (fail closed).
 */
import { normalizeSubject } from '../tls/cert-store.js';
import { DEFAULTS } from './defaults.js';
import { eachString, own, type Reader } from './schema-reader.js';

export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
const TLS_KEYS = ['cert', 'key', 'clientCa', 'clientCertificates', 'clientSubjects', 'minVersion', 'expiryWarningDays'] as const;

/** File paths are null when invalid; the pin list keeps its indices for later problems. */
export interface ValidatedTls {
  readonly cert: string | null;
  readonly key: string | null;
  readonly clientCa: string | null;
  readonly clientCertificates: readonly (string | null)[];
  readonly clientSubjects: readonly string[];
  readonly minVersion: (typeof TLS_VERSIONS)[number];
  readonly expiryWarningDays: number;
}

/** `tls`, required: file paths only (load.ts reads them), subjects normalised. */
export function readTls(r: Reader, raw: unknown): ValidatedTls {
  const o = raw === undefined ? (r.add('tls', 'is required'), null) : r.object(raw, 'tls', TLS_KEYS);
  const file = (key: string): string | null => {
    const v = r.required(o, key, 'tls');
    return v === undefined ? null : r.filePath(v, `tls.${key}`);
  };
  const cert = file('cert');
  const key = file('key');
  const clientCa = file('clientCa');
  const clientCertificates = r.optional(o, 'clientCertificates', 'tls', [] as (string | null)[], (v, p) => {
    const list = r.list(v, p);
    return list === null ? null : list.map((item, i) => r.filePath(item, `${p}[${i}]`));
  });
  const clientSubjects = r.optional(o, 'clientSubjects', 'tls', [] as string[], (v, p) => {
    const out: string[] = [];
    eachString(r, v, p, (s, itemPath) => {
      try {
        out.push(normalizeSubject(s));
      } catch (err) {
        r.add(itemPath, (err as Error).message);
      }
    });
    return [...new Set(out)];
  });
  const clientCertsGiven = o !== null && own(o, 'clientCertificates') !== undefined;
  const subjectsGiven = o !== null && own(o, 'clientSubjects') !== undefined;
  if (o !== null && clientCertificates.length === 0 && clientSubjects.length === 0) {
    // Fail closed (STYLE.md habit 3): a CA alone would let any certificate it ever issued in.
    const path = clientCertsGiven || !subjectsGiven ? 'tls.clientCertificates' : 'tls.clientSubjects';
    if (!r.problems.some((p) => p.path.startsWith('tls.clientCertificates') || p.path.startsWith('tls.clientSubjects'))) {
      r.add(path, 'at least one of tls.clientCertificates or tls.clientSubjects must be non-empty: pin the downloaded Salesforce client certificate');
    }
  }
  const minVersion = r.optional(o, 'minVersion', 'tls', DEFAULTS.tls.minVersion as ValidatedTls['minVersion'],
    (v, p) => r.oneOf(v, p, TLS_VERSIONS));
  const expiryWarningDays = r.optional(o, 'expiryWarningDays', 'tls', DEFAULTS.tls.expiryWarningDays,
    (v, p) => r.integer(v, p, 0, 365));
  return { cert, key, clientCa, clientCertificates, clientSubjects, minVersion, expiryWarningDays };
}
