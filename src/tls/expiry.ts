/**
 * Certificate expiry: one report over every configured certificate, the log lines that warn
 * about it, and the daily timer that repeats the check. Public certificate lifetimes shrink to
 * 200, then 100, then 47 days (shared/SALESFORCE.md "Network and certificates"), and the
 * Salesforce client certificate changes yearly: rotation has to be noticed before it bites.
 */
import type { Logger } from 'pino';
import type { GatewayConfig, LoadedCertificate } from '../config/types.js';
import { daysLeft, notAfter } from './cert-store.js';

const DAY_MS = 86_400_000;

/** server: `tls.cert` (leaf and intermediates); client_pin: `tls.clientCertificates`; ca: `tls.clientCa`. */
export type CertificateKind = 'server' | 'client_pin' | 'ca';
export type ExpiryStatus = 'ok' | 'expiring' | 'expired';

export interface ExpiryEntry {
  /** As in LoadedCertificate: the file as written in the config, `#n` within a bundle. */
  readonly name: string;
  readonly kind: CertificateKind;
  readonly subject: string;
  readonly notAfter: Date;
  /** Whole days left, rounded down; negative once expired. */
  readonly daysLeft: number;
  /** `expiring` = within `tls.expiryWarningDays`. */
  readonly status: ExpiryStatus;
  readonly fingerprint256: string;
}

/** Every configured certificate with its expiry status, server chain first, then pins, then CAs. */
export function expiryReport(config: GatewayConfig, now: Date): ExpiryEntry[] {
  const { tls } = config;
  const entry = (c: LoadedCertificate, kind: CertificateKind): ExpiryEntry => {
    const end = notAfter(c);
    const left = daysLeft(c, now);
    const status: ExpiryStatus =
      end.getTime() < now.getTime() ? 'expired'
      : end.getTime() - now.getTime() <= tls.expiryWarningDays * DAY_MS ? 'expiring'
      : 'ok';
    return { name: c.name, kind, subject: c.x509.subject.replaceAll('\n', ', '), notAfter: end, daysLeft: left, status, fingerprint256: c.fingerprint256 };
  };
  return [
    ...tls.serverChain.map((c) => entry(c, 'server')),
    ...tls.clientPins.map((c) => entry(c, 'client_pin')),
    ...tls.clientCas.map((c) => entry(c, 'ca')),
  ];
}

/** What each kind's expiry means for traffic, in the words an operator acts on. */
const EXPIRED_MESSAGE: Readonly<Record<CertificateKind, string>> = {
  server: 'server certificate has expired: Salesforce refuses the TLS handshake until it is renewed',
  client_pin: 'pinned client certificate has expired: it no longer matches what Salesforce presents; pin the new one and remove this pin',
  ca: 'client CA certificate has expired: client certificates it issued no longer verify',
};
const EXPIRING_MESSAGE: Readonly<Record<CertificateKind, string>> = {
  server: 'server certificate expires soon: renew it and reload',
  client_pin: 'pinned client certificate expires soon: add the new Salesforce certificate as a second pin',
  ca: 'client CA certificate expires soon',
};

/**
 * Logs each expiring certificate as a warning and each expired one as an error, with the
 * fields `event: 'certificate_expiry'`, name, kind, daysLeft, notAfter (ISO 8601). Nothing is
 * logged for certificates that are fine. Returns how many lines were logged.
 */
export function logExpiry(report: readonly ExpiryEntry[], logger: Pick<Logger, 'warn' | 'error'>): number {
  let logged = 0;
  for (const e of report) {
    if (e.status === 'ok') continue;
    const line = { event: 'certificate_expiry', name: e.name, kind: e.kind, daysLeft: e.daysLeft, notAfter: e.notAfter.toISOString() };
    if (e.status === 'expired') logger.error(line, `${EXPIRED_MESSAGE[e.kind]} (${e.name}, expired ${e.notAfter.toISOString()})`);
    else logger.warn(line, `${EXPIRING_MESSAGE[e.kind]} (${e.name}, ${e.daysLeft} days left)`);
    logged++;
  }
  return logged;
}

export interface DailyCheckOptions {
  /** Default one day; tests pass less. */
  readonly intervalMs?: number;
  /** Called with whatever `fn` throws or rejects with (default: ignored, the timer keeps going). */
  readonly onError?: (err: unknown) => void;
}

/**
 * Runs `fn` once a day (not now: call it yourself at start). The timer is unref'd, so it never
 * keeps the process alive; `stop()` clears it.
 *
 * @example
 * const check = () => { const r = expiryReport(gateway.config, new Date()); logExpiry(r, gateway.logger); metrics.setCertificates(gateway.config); };
 * check();
 * const daily = scheduleDailyExpiryCheck(check);
 * // on close: daily.stop();
 */
export function scheduleDailyExpiryCheck(fn: () => void | Promise<void>, opts: DailyCheckOptions = {}): { stop(): void } {
  const onError = opts.onError ?? ((): void => {});
  const timer = setInterval(() => {
    try {
      const result = fn();
      if (result instanceof Promise) result.catch(onError);
    } catch (err) {
      onError(err);
    }
  }, opts.intervalMs ?? DAY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
