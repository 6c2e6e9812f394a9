/**
 * `sfom-gateway certs inspect FILE...`: prints each certificate of each file (PEM, a PEM bundle,
 * or DER — the .crt Salesforce's "Manage API Client Certificate" page hands out is PEM), so an
 * operator can compare the fingerprint with the logs' `clientCertFingerprint` before pinning it.
 */
import { CertificateFileError, readFileOrExplain } from '../tls/cert-store.js';
import { formatCertificate, inspectCertificates, type CertificateInfo } from '../tls/inspect.js';

export interface CertsInspectOptions {
  readonly files: readonly string[];
  /** Print one JSON array instead of readable blocks. */
  readonly json: boolean;
  /** For days left; default now. */
  readonly now?: Date;
}

/**
 * Resolves with the exit code: 0 when every file held at least one certificate, 1 otherwise
 * (each bad file named on `err`; the good ones are still printed).
 */
export function certsInspect(opts: CertsInspectOptions, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const now = opts.now ?? new Date();
  const all: CertificateInfo[] = [];
  let failed = 0;
  for (const file of opts.files) {
    let infos: CertificateInfo[];
    try {
      infos = inspectCertificates(readFileOrExplain(file, file), file, now);
    } catch (e) {
      if (!(e instanceof CertificateFileError)) throw e;
      err(`error: ${e.message}`);
      failed++;
      continue;
    }
    if (opts.json) {
      all.push(...infos);
    } else {
      for (const info of infos) {
        if (all.length > 0) out('');
        for (const line of formatCertificate(info)) out(line);
        all.push(info);
      }
    }
  }
  if (opts.json) out(JSON.stringify(all, null, 2));
  return Promise.resolve(failed > 0 ? 1 : 0);
}
