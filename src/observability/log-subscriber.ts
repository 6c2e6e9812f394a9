/**
 * Turns gateway events into log lines: one per decision, at a level by outcome (rejections at
 * warn with their code, 5xx at error). Field names are a contract operators' scripts rely on.
 */
import type { Logger } from 'pino';
import type { GatewayEvents } from './events.js';
import { logSafe } from './logger.js';

export function subscribeLogs(events: GatewayEvents, logger: Logger): void {
  events.on('request', (d) => {
    const level = d.outcome === 'acked' ? 'info' : d.outcome === 'failed' ? 'error' : 'warn';
    // Built only when written: at level warn, an acknowledged message costs no line.
    if (!logger.isLevelEnabled(level)) return;
    const line = {
      event: 'request',
      requestId: d.requestId,
      outcome: d.outcome,
      reason: d.reason,
      status: d.status,
      remoteAddress: d.remoteAddress,
      clientCertFingerprint: d.clientCertFingerprint,
      route: d.route,
      organizationId: d.organizationId,
      actionId: d.actionId,
      notificationCount: d.notificationCount,
      upstreamStatus: d.upstreamStatus,
      durationMs: d.durationMs,
      upstreamDurationMs: d.upstreamDurationMs,
      detail: logSafe(d.detail),
    };
    if (d.outcome === 'acked') logger.info(line, 'message acknowledged');
    else if (d.outcome === 'nacked') logger.warn(line, 'internal service did not acknowledge');
    else if (d.outcome === 'rejected') logger.warn(line, 'request rejected');
    else logger.error(line, 'request failed');
  });
  events.on('connectionRefused', (r) => {
    logger.warn({ event: 'connection_refused', reason: r.reason, remoteAddress: r.remoteAddress }, 'connection refused before TLS');
  });
  events.on('tlsFailure', (f) => {
    logger.warn({ event: 'tls_failure', reason: f.reason, code: logSafe(f.code), remoteAddress: f.remoteAddress }, 'TLS handshake failed');
  });
}
