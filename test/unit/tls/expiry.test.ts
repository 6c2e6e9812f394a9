/** The expiry report over real certificates from the test PKI, and the log lines it produces. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../../src/config/types.js';
import { createLogger } from '../../../src/observability/logger.js';
import { readCertificates } from '../../../src/tls/cert-store.js';
import { expiryReport, logExpiry, scheduleDailyExpiryCheck } from '../../../src/tls/expiry.js';
import { logSink } from '../../helpers/log-sink.js';
import { makePki, type Pki } from '../../helpers/pki.js';

describe('expiryReport and logExpiry', () => {
  let pki: Pki;
  let config: GatewayConfig;

  beforeAll(async () => {
    pki = await makePki();
    const soon = await pki.expiringSoon(5);
    config = {
      tls: {
        serverChain: readCertificates(soon.certPath, 'certs/server.crt'),
        clientPins: [
          ...readCertificates(pki.client.certPath, 'certs/salesforce-new.crt'),
          ...readCertificates(pki.expiredClient.certPath, 'certs/salesforce-old.crt'),
        ],
        clientCas: readCertificates(pki.ca.certPath, 'certs/ca.crt'),
        expiryWarningDays: 30,
      },
    } as unknown as GatewayConfig;
  });
  afterAll(() => pki.cleanup());

  it('lists every configured certificate with its kind, status and days left', () => {
    const now = new Date();
    const report = expiryReport(config, now);
    expect(report.map((e) => [e.name, e.kind, e.status])).toEqual([
      ['certs/server.crt', 'server', 'expiring'],
      ['certs/salesforce-new.crt', 'client_pin', 'ok'],
      ['certs/salesforce-old.crt', 'client_pin', 'expired'],
      ['certs/ca.crt', 'ca', 'ok'],
    ]);
    const server = report[0]!;
    expect([4, 5]).toContain(server.daysLeft);
    expect(server.subject).toBe('CN=expiring-5d.example.test');
    expect(server.notAfter.getTime()).toBeGreaterThan(now.getTime());
    expect(server.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(report[2]!.daysLeft).toBeLessThan(-9);
  });

  it('treats a certificate as expiring only within tls.expiryWarningDays', () => {
    const narrow = { tls: { ...config.tls, expiryWarningDays: 3 } } as unknown as GatewayConfig;
    expect(expiryReport(narrow, new Date())[0]!.status).toBe('ok');
  });

  it('warns about an expiring certificate with its name and days left', () => {
    const sink = logSink();
    const logger = createLogger('info', sink.stream);
    const logged = logExpiry(expiryReport(config, new Date()), logger);
    expect(logged).toBe(2);
    const records = sink.records().filter((r) => r.event === 'certificate_expiry');
    const warn = records.find((r) => r.name === 'certs/server.crt');
    expect(warn).toMatchObject({ level: 'warn', event: 'certificate_expiry', name: 'certs/server.crt', kind: 'server' });
    expect([4, 5]).toContain(warn?.daysLeft);
    expect(String(warn?.msg)).toMatch(/certs\/server\.crt, [45] days left/);
    expect(typeof warn?.notAfter).toBe('string');
    expect(new Date(String(warn?.notAfter)).toISOString()).toBe(warn?.notAfter);
  });

  it('logs an expired client pin as an error: it no longer matches', () => {
    const sink = logSink();
    logExpiry(expiryReport(config, new Date()), createLogger('info', sink.stream));
    const err = sink.records().find((r) => r.name === 'certs/salesforce-old.crt');
    expect(err).toMatchObject({ level: 'error', event: 'certificate_expiry', kind: 'client_pin' });
    expect(err?.daysLeft).toBeLessThan(-9);
    expect(String(err?.msg)).toContain('no longer matches');
    // Nothing about certificates that are fine.
    expect(sink.records().some((r) => r.name === 'certs/ca.crt' || r.name === 'certs/salesforce-new.crt')).toBe(false);
  });
});

describe('scheduleDailyExpiryCheck', () => {
  it('runs the check on each interval until stopped, and survives a throwing check', async () => {
    let calls = 0;
    const errors: unknown[] = [];
    const timer = scheduleDailyExpiryCheck(() => {
      calls++;
      if (calls === 1) throw new Error('boom');
    }, { intervalMs: 10, onError: (e) => errors.push(e) });
    await new Promise((r) => setTimeout(r, 80));
    timer.stop();
    const seen = calls;
    expect(seen).toBeGreaterThanOrEqual(2);
    expect(errors).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 40));
    expect(calls).toBe(seen);
  });
});
