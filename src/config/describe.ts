/**
 * What `sfom-gateway check-config` prints about a valid configuration: what would listen, where
 * each route goes, and every certificate with its remaining lifetime, so an operator sees an
 * expiring pin or server certificate before Salesforce does.
 */
import { certificateSubject, daysLeft, isCurrentlyValid, notAfter, notBefore } from '../tls/cert-store.js';
import type { GatewayConfig, LoadedCertificate } from './types.js';

/** `host:port`, with IPv6 hosts in brackets. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The marker after a certificate line, or '' when it is comfortably valid. */
export function expiryMarker(cert: LoadedCertificate, now: Date, warningDays: number): string {
  if (now < notBefore(cert)) return `  [NOT YET VALID until ${notBefore(cert).toISOString().slice(0, 10)}]`;
  if (!isCurrentlyValid(cert, now)) return '  [EXPIRED]';
  if (daysLeft(cert, now) < warningDays) return `  [EXPIRING within ${warningDays} days]`;
  return '';
}

function certificateLine(role: string, cert: LoadedCertificate, now: Date, warningDays: number): string {
  const left = daysLeft(cert, now);
  const lifetime = left < 0 ? `expired ${-left} day${left === -1 ? '' : 's'} ago` : `${left} day${left === 1 ? '' : 's'} left`;
  const subject = certificateSubject(cert.x509);
  return `  ${role} ${cert.name}: ${subject}, not after ${notAfter(cert).toISOString().slice(0, 10)} (${lifetime})`
    + expiryMarker(cert, now, warningDays);
}

function setOrAny(values: ReadonlySet<string>): string {
  return values.size === 0 ? 'any' : [...values].join(', ');
}

/**
 * The lines `check-config` prints after "configuration OK".
 *
 * @example describeConfig(config)[0] // 'listener: https://0.0.0.0:8443 (TLS >= TLSv1.2, client certificate required)'
 */
export function describeConfig(cfg: GatewayConfig, now: Date = new Date()): string[] {
  const { tls } = cfg;
  const warn = tls.expiryWarningDays;
  const lines: string[] = [];
  lines.push(`listener: https://${formatHostPort(cfg.listen.host, cfg.listen.port)} (TLS >= ${tls.minVersion}, client certificate required)`);
  lines.push(`routes: ${cfg.routes.length}`);
  for (const r of cfg.routes) {
    lines.push(`  ${r.path} -> ${r.target.href} (${r.format}, timeout ${r.timeoutMs} ms, actions: ${setOrAny(r.actionIds)}, `
      + `object types: ${setOrAny(r.objectTypes)}, session id ${r.forwardSessionId ? 'forwarded' : 'not forwarded'})`);
  }
  lines.push(`certificates (warning when fewer than ${warn} days are left):`);
  for (const c of tls.serverChain) lines.push(certificateLine('server', c, now, warn));
  for (const c of tls.clientCas) lines.push(certificateLine('client CA', c, now, warn));
  for (const c of tls.clientPins) lines.push(certificateLine('client pin', c, now, warn));
  if (tls.clientPins.length === 0) lines.push('  client pin: none');
  lines.push(tls.clientSubjects.length > 0
    ? `client subjects accepted: yes, ${tls.clientSubjects.length}: ${tls.clientSubjects.join(' | ')}`
    : 'client subjects accepted: no (pinned certificates only)');
  lines.push(`allowlist: ${cfg.allowlist.cidrs.length} entr${cfg.allowlist.cidrs.length === 1 ? 'y' : 'ies'}`);
  lines.push(`organizations: ${cfg.organizations.size}: ${[...cfg.organizations].join(', ')}`);
  lines.push(`salesforce hosts: ${cfg.salesforceHosts.join(', ')}`);
  lines.push(`admin: ${cfg.admin ? `http://${formatHostPort(cfg.admin.host, cfg.admin.port)}` : 'off'}`);
  lines.push(`workers: ${cfg.workers}, log level: ${cfg.log.level}`);
  return lines;
}
