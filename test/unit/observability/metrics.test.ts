/**
 * Metrics are fed by the event bus only: these tests emit events the way the listener and the
 * runner do, scrape the registry text and compare exact lines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../../src/config/types.js';
import { GatewayEvents, type RequestDecision } from '../../../src/observability/events.js';
import { createMetrics, type GatewayMetrics } from '../../../src/observability/metrics.js';
import { readCertificates } from '../../../src/tls/cert-store.js';
import { makePki, type Pki } from '../../helpers/pki.js';

const ROUTES = [{ path: '/outbound/contact' }, { path: '/outbound/json' }];

function decision(over: Partial<RequestDecision>): RequestDecision {
  return {
    requestId: 'r1', outcome: 'acked', reason: 'OK', status: 200, remoteAddress: '127.0.0.1',
    clientCertFingerprint: null, route: '/outbound/contact', organizationId: null, actionId: null,
    notificationCount: 1, parseWay: 'fast', upstreamStatus: 200, durationMs: 12, upstreamDurationMs: 7, detail: undefined,
    ...over,
  };
}

function lines(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe('createMetrics', () => {
  let events: GatewayEvents;
  let metrics: GatewayMetrics;

  beforeAll(() => {
    events = new GatewayEvents();
    metrics = createMetrics(events, { routes: () => ROUTES, defaultMetrics: false });
  });
  afterAll(() => metrics.close());

  it('counts request decisions by route, outcome and reason', async () => {
    events.emit('request', decision({}));
    events.emit('request', decision({}));
    events.emit('request', decision({ outcome: 'rejected', reason: 'GW_ERR_ORG_DENIED', status: 403, upstreamDurationMs: null }));
    events.emit('request', decision({ route: null, outcome: 'rejected', reason: 'GW_ERR_NOT_FOUND', status: 404, upstreamDurationMs: null }));
    events.emit('request', decision({ outcome: 'failed', reason: 'GW_ERR_UPSTREAM_TIMEOUT', status: 504, upstreamDurationMs: null }));
    const text = await metrics.metrics();
    expect(lines(text, 'sfom_requests_total')).toEqual([
      'sfom_requests_total{route="/outbound/contact",outcome="acked",reason="OK"} 2',
      'sfom_requests_total{route="/outbound/contact",outcome="rejected",reason="GW_ERR_ORG_DENIED"} 1',
      'sfom_requests_total{route="",outcome="rejected",reason="GW_ERR_NOT_FOUND"} 1',
      'sfom_requests_total{route="/outbound/contact",outcome="failed",reason="GW_ERR_UPSTREAM_TIMEOUT"} 1',
    ]);
  });

  it('counts the messages each reader took, from zero', async () => {
    const bus = new GatewayEvents();
    const own = createMetrics(bus, { routes: () => ROUTES, defaultMetrics: false });
    expect(lines(await own.metrics(), 'sfom_messages_parsed_total')).toEqual([
      'sfom_messages_parsed_total{way="fast"} 0',
      'sfom_messages_parsed_total{way="general"} 0',
    ]);
    bus.emit('request', decision({}));
    bus.emit('request', decision({}));
    bus.emit('request', decision({ parseWay: 'general' }));
    // Refused before it was read (or while reading it): no reader took it.
    bus.emit('request', decision({ parseWay: null, outcome: 'rejected', reason: 'GW_ERR_XML_DOCTYPE', status: 400, upstreamDurationMs: null }));
    expect(lines(await own.metrics(), 'sfom_messages_parsed_total')).toEqual([
      'sfom_messages_parsed_total{way="fast"} 2',
      'sfom_messages_parsed_total{way="general"} 1',
    ]);
    own.close();
  });

  it('observes request and upstream durations in seconds', async () => {
    const text = await metrics.metrics();
    // 5 requests on /outbound/contact or '' so far; 2 of them had an upstream answer, 7 ms each.
    expect(text).toContain('sfom_request_duration_seconds_bucket{le="0.01",route="/outbound/contact"} 0');
    expect(text).toContain('sfom_request_duration_seconds_bucket{le="0.025",route="/outbound/contact"} 4');
    expect(text).toContain('sfom_request_duration_seconds_count{route="/outbound/contact"} 4');
    expect(text).toContain('sfom_request_duration_seconds_count{route=""} 1');
    expect(text).toContain('sfom_upstream_duration_seconds_bucket{le="0.005",route="/outbound/contact"} 0');
    expect(text).toContain('sfom_upstream_duration_seconds_bucket{le="0.01",route="/outbound/contact"} 2');
    expect(text).toContain('sfom_upstream_duration_seconds_sum{route="/outbound/contact"} 0.014');
    expect(text).toContain('sfom_upstream_duration_seconds_bucket{le="0.001",route="/outbound/contact"} 0');
    expect(text).toContain('sfom_upstream_duration_seconds_bucket{le="60",route="/outbound/contact"} 2');
  });

  it('never turns a peer-controlled string into a label value', async () => {
    const bus = new GatewayEvents();
    const m = createMetrics(bus, { routes: () => ROUTES, defaultMetrics: false });
    bus.emit('request', decision({ route: '/evil/${jndi}', reason: 'X'.repeat(500) }));
    bus.emit('request', decision({ route: '/outbound/unknown', outcome: 'weird' as RequestDecision['outcome'] }));
    bus.emit('tlsFailure', { reason: 'made up by peer', remoteAddress: '192.0.2.1', code: 'ERR_X' });
    bus.emit('connectionRefused', { reason: 'whatever' as 'allowlist', remoteAddress: '192.0.2.1' });
    const text = await m.metrics();
    expect(lines(text, 'sfom_requests_total')).toEqual([
      'sfom_requests_total{route="",outcome="acked",reason="other"} 1',
      'sfom_requests_total{route="",outcome="other",reason="OK"} 1',
    ]);
    expect(lines(text, 'sfom_tls_handshake_failures_total')).toEqual(['sfom_tls_handshake_failures_total{reason="other"} 1']);
    expect(lines(text, 'sfom_connections_refused_total')).toEqual(['sfom_connections_refused_total{reason="other"} 1']);
    m.close();
  });

  it('counts refused connections and TLS failures by reason', async () => {
    events.emit('connectionRefused', { reason: 'allowlist', remoteAddress: '192.0.2.1' });
    events.emit('connectionRefused', { reason: 'allowlist', remoteAddress: '192.0.2.2' });
    events.emit('connectionRefused', { reason: 'per_ip_limit', remoteAddress: '127.0.0.1' });
    events.emit('tlsFailure', { reason: 'no_certificate', remoteAddress: '127.0.0.1', code: undefined });
    const text = await metrics.metrics();
    expect(lines(text, 'sfom_connections_refused_total')).toEqual([
      'sfom_connections_refused_total{reason="allowlist"} 2',
      'sfom_connections_refused_total{reason="per_ip_limit"} 1',
    ]);
    expect(lines(text, 'sfom_tls_handshake_failures_total')).toEqual([
      'sfom_tls_handshake_failures_total{reason="no_certificate"} 1',
    ]);
  });

  it('tracks open connections from opened/closed events', async () => {
    events.emit('connectionOpened');
    events.emit('connectionOpened');
    events.emit('connectionOpened');
    events.emit('connectionClosed');
    expect(lines(await metrics.metrics(), 'sfom_open_connections')).toEqual(['sfom_open_connections 2']);
  });

  it('counts reloads by result and stamps the last successful one', async () => {
    const fresh = createMetrics(new GatewayEvents(), { routes: () => ROUTES, defaultMetrics: false });
    expect(lines(await fresh.metrics(), 'sfom_config_reloads_total')).toEqual([
      'sfom_config_reloads_total{result="success"} 0',
      'sfom_config_reloads_total{result="failure"} 0',
    ]);
    fresh.recordReload('success', new Date('2026-03-15T12:00:00Z'));
    fresh.recordReload('failure', new Date('2026-03-16T12:00:00Z'));
    const text = await fresh.metrics();
    expect(lines(text, 'sfom_config_reloads_total')).toEqual([
      'sfom_config_reloads_total{result="success"} 1',
      'sfom_config_reloads_total{result="failure"} 1',
    ]);
    expect(lines(text, 'sfom_config_last_reload_timestamp_seconds')).toEqual([
      'sfom_config_last_reload_timestamp_seconds 1773576000',
    ]);
    fresh.close();
  });

  it('stops counting once closed', async () => {
    const bus = new GatewayEvents();
    const m = createMetrics(bus, { routes: () => ROUTES, defaultMetrics: false });
    m.close();
    expect(bus.listenerCount('request')).toBe(0);
    expect(bus.listenerCount('connectionOpened')).toBe(0);
  });
});

describe('createMetrics: certificate expiry', () => {
  let pki: Pki;
  beforeAll(async () => { pki = await makePki(); });
  afterAll(() => pki.cleanup());

  it('sets days left per certificate, kind and name, replacing the previous configuration', async () => {
    const soon = await pki.expiringSoon(5);
    const config = {
      tls: {
        serverChain: readCertificates(pki.serverChain.chainPath, 'certs/server-chain.crt'),
        clientPins: [
          ...readCertificates(pki.client.certPath, 'certs/salesforce-2025.crt'),
          ...readCertificates(soon.certPath, 'certs/salesforce-old.crt'),
        ],
        clientCas: readCertificates(pki.ca.certPath, 'certs/ca.crt'),
        expiryWarningDays: 30,
      },
    } as unknown as GatewayConfig;
    const m = createMetrics(new GatewayEvents(), { routes: () => ROUTES, defaultMetrics: false });
    m.setCertificates(config, new Date());
    const text = await m.metrics();
    const expiry = lines(text, 'sfom_certificate_expiry_days');
    expect(expiry).toHaveLength(5);
    expect(expiry).toContain('sfom_certificate_expiry_days{name="certs/server-chain.crt#0",kind="server"} 364');
    expect(expiry).toContain('sfom_certificate_expiry_days{name="certs/server-chain.crt#1",kind="server"} 1824');
    expect(expiry).toContain('sfom_certificate_expiry_days{name="certs/salesforce-2025.crt",kind="client_pin"} 364');
    expect(expiry.find((l) => l.includes('salesforce-old'))).toMatch(/^sfom_certificate_expiry_days\{name="certs\/salesforce-old.crt",kind="client_pin"\} [45]$/);
    expect(expiry).toContain('sfom_certificate_expiry_days{name="certs/ca.crt",kind="ca"} 3649');

    const next = { tls: { ...config.tls, clientPins: config.tls.clientPins.slice(0, 1) } } as unknown as GatewayConfig;
    m.setCertificates(next, new Date());
    const after = lines(await m.metrics(), 'sfom_certificate_expiry_days');
    expect(after).toHaveLength(4);
    expect(after.some((l) => l.includes('salesforce-old'))).toBe(false);
    m.close();
  });
});

describe('createMetrics: default metrics', () => {
  it('registers process metrics on each gateway registry, several gateways in one process', async () => {
    const a = createMetrics(new GatewayEvents(), { routes: () => ROUTES });
    const b = createMetrics(new GatewayEvents(), { routes: () => ROUTES });
    expect(a.registry).not.toBe(b.registry);
    const text = await b.metrics();
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    expect(text).toContain('# TYPE sfom_requests_total counter');
    expect(a.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    a.close();
    b.close();
  });
});
