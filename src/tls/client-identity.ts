/**
 * Which verified client certificates may talk to the gateway. OpenSSL has already verified the
 * chain against `tls.clientCa` and the validity window (requestCert + rejectUnauthorized); this
 * adds the check Salesforce's documentation asks for: the leaf must be the downloaded client
 * certificate (SHA-256 pin), or carry a configured subject DN. It runs for every connection,
 * resumed TLS sessions included: a resumed session can report `authorized` with no peer
 * certificate, and then it is denied.
 */
import type { X509Certificate } from 'node:crypto';
import type { LoadedCertificate } from '../config/types.js';
import { certificateSubject, normalizeSubject } from './cert-store.js';

export type IdentityResult =
  | { readonly ok: true; readonly fingerprint256: string; readonly matchedBy: 'pin' | 'subject' }
  | { readonly ok: false; readonly fingerprint256: string | null; readonly reason: string };

export class ClientIdentity {
  readonly #pins: ReadonlyMap<string, LoadedCertificate>;
  readonly #subjects: ReadonlySet<string>;

  constructor(pins: readonly LoadedCertificate[], subjects: readonly string[]) {
    this.#pins = new Map(pins.map((p) => [p.fingerprint256, p]));
    this.#subjects = new Set(subjects.map(normalizeSubject));
  }

  /** Decides on the peer's leaf certificate; `now` decides whether a pin has expired. */
  check(leaf: X509Certificate | undefined, now: Date = new Date()): IdentityResult {
    if (!leaf) return { ok: false, fingerprint256: null, reason: 'no peer certificate' };
    const fingerprint256 = leaf.fingerprint256;
    const pin = this.#pins.get(fingerprint256);
    if (pin) {
      // An expired pin never matches (it is logged as an error at load and reload).
      if (now >= new Date(pin.x509.validFrom) && now <= new Date(pin.x509.validTo)) {
        return { ok: true, fingerprint256, matchedBy: 'pin' };
      }
      return { ok: false, fingerprint256, reason: 'pinned certificate has expired' };
    }
    if (this.#subjects.size > 0 && this.#subjects.has(certificateSubject(leaf))) {
      return { ok: true, fingerprint256, matchedBy: 'subject' };
    }
    return { ok: false, fingerprint256, reason: 'certificate is neither pinned nor of an accepted subject' };
  }
}
