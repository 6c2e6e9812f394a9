/**
 * Which verified client certificates may talk to the gateway. OpenSSL has already verified the
 * chain against `tls.clientCa` and the validity window (requestCert + rejectUnauthorized); this
 * adds the check Salesforce's documentation asks for: the leaf must be the downloaded client
 * certificate (SHA-256 pin), or carry a configured subject DN. It runs for every connection,
 * resumed TLS sessions included: a resumed session can report `authorized` with no peer
 * certificate, and then it is denied.
 *
 * The peer's certificate is read whichever way is cheaper on the running Node (readPeerLeaf):
 * the first getPeerX509Certificate() on a connection cost 130–200 µs on Node 20 (OpenSSL 3.0)
 * against 60–70 µs for getPeerCertificate(), and 28 µs against 73 µs on Node 24
 * (bench/README.md "Where the time goes"). Both carry the DER and its SHA-256 fingerprint in the
 * same form; a pinned leaf is found by its DER (its fingerprint is then the pin's, not computed
 * again), and an X509Certificate is built from the DER only when a subject has to be compared.
 */
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { LoadedCertificate } from '../config/types.js';
import { certificateSubject, normalizeSubject } from './cert-store.js';

export type IdentityResult =
  | { readonly ok: true; readonly fingerprint256: string; readonly matchedBy: 'pin' | 'subject' }
  | { readonly ok: false; readonly fingerprint256: string | null; readonly reason: string };

/** Node 24 and later build an X509Certificate of the peer cheaply; Node 20 does not. */
const X509_IS_CHEAP = Number(process.versions.node.split('.')[0]) >= 24;

/** The peer's leaf certificate, or null/undefined/an empty object when it sent none. */
export function readPeerLeaf(socket: TLSSocket): PeerLeaf | null | undefined {
  return X509_IS_CHEAP ? socket.getPeerX509Certificate() : socket.getPeerCertificate();
}

/** The part of a peer certificate (tls.PeerCertificate or an X509Certificate) the check reads. */
export interface PeerLeaf {
  /** SHA-256 of the DER, as colon-separated upper-case hex (the form pins are kept in). */
  readonly fingerprint256?: string;
  /** The DER encoding. */
  readonly raw?: Buffer;
}

interface Pin {
  readonly der: Buffer;
  readonly fingerprint256: string;
  readonly validFromMs: number;
  readonly validToMs: number;
}

export class ClientIdentity {
  /**
   * Pinned certificates by the length of their DER. A leaf is matched by its DER, byte for byte
   * (stricter than its SHA-256, and it spares hashing the leaf of every connection: the pin's
   * fingerprint is the leaf's then).
   */
  readonly #pins = new Map<number, Pin[]>();
  readonly #subjects: ReadonlySet<string>;

  constructor(pins: readonly LoadedCertificate[], subjects: readonly string[]) {
    for (const p of pins) {
      const pin: Pin = {
        der: p.x509.raw,
        fingerprint256: p.fingerprint256,
        validFromMs: Date.parse(p.x509.validFrom),
        validToMs: Date.parse(p.x509.validTo),
      };
      const sameLength = this.#pins.get(pin.der.length);
      if (sameLength) sameLength.push(pin);
      else this.#pins.set(pin.der.length, [pin]);
    }
    this.#subjects = new Set(subjects.map(normalizeSubject));
  }

  /**
   * Decides on the peer's leaf certificate, as readPeerLeaf gives it; `now` decides whether a
   * pin has expired.
   */
  check(leaf: PeerLeaf | null | undefined, now: Date | number = Date.now()): IdentityResult {
    const raw = leaf?.raw;
    if (!Buffer.isBuffer(raw) || raw.length === 0) {
      return { ok: false, fingerprint256: null, reason: 'no peer certificate' };
    }
    const pin = this.#pins.get(raw.length)?.find((p) => p.der.equals(raw));
    if (pin) {
      // An expired pin never matches (it is logged as an error at load and reload).
      const at = typeof now === 'number' ? now : now.getTime();
      if (at >= pin.validFromMs && at <= pin.validToMs) {
        return { ok: true, fingerprint256: pin.fingerprint256, matchedBy: 'pin' };
      }
      return { ok: false, fingerprint256: pin.fingerprint256, reason: 'pinned certificate has expired' };
    }
    const fingerprint256 = leaf!.fingerprint256;
    if (typeof fingerprint256 !== 'string') return { ok: false, fingerprint256: null, reason: 'no peer certificate' };
    if (this.#subjects.size > 0 && this.#subjects.has(certificateSubject(leaf instanceof X509Certificate ? leaf : new X509Certificate(raw)))) {
      return { ok: true, fingerprint256, matchedBy: 'subject' };
    }
    return { ok: false, fingerprint256, reason: 'certificate is neither pinned nor of an accepted subject' };
  }
}
