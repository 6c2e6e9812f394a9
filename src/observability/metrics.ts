/**
 * Prometheus metrics, subscribed to the gateway's event bus (STYLE habit 8): no stage calls a
 * metric. Each gateway gets its own prom-client Registry, so several gateways in one process
 * (tests) never share or double-register a metric.
 *
 * Metric names and labels are a contract (docs/operations.md lists them with alerts). Every
 * label value comes from a closed set or from configuration: reason codes from the error table,
 * route paths from the route table, certificate names from the config file. A value the network
 * could choose (an unknown path, an unexpected reason string) is folded into '' or `other`, so a
 * peer cannot grow the number of time series.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GatewayConfig } from '../config/types.js';
import { ERRORS } from '../errors.js';
import { expiryReport } from '../tls/expiry.js';
import type { ConnectionRefused, GatewayEvents, RequestDecision, TlsFailure } from './events.js';

/** Seconds; 1 ms up to Salesforce's 60 s per-attempt timeout (shared/SALESFORCE.md "The answer"). */
export const DURATION_BUCKETS: readonly number[] = Object.freeze(
  [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60],
);

const OUTCOMES: ReadonlySet<string> = new Set<RequestDecision['outcome']>(['acked', 'nacked', 'rejected', 'failed']);
const REASONS: ReadonlySet<string> = new Set([...Object.keys(ERRORS), 'OK', 'UPSTREAM_NACK']);
const REFUSAL_REASONS: ReadonlySet<string> = new Set<ConnectionRefused['reason']>(
  ['allowlist', 'connection_limit', 'per_ip_limit', 'overloaded', 'draining'],
);
/** The reasons `tlsFailureReason` in net/listener.ts produces. */
const TLS_REASONS: ReadonlySet<string> = new Set([
  'handshake_timeout', 'no_certificate', 'expired', 'not_yet_valid', 'untrusted', 'protocol', 'reset', 'handshake_failed',
]);
const OTHER = 'other';

export type ReloadResult = 'success' | 'failure';

export interface MetricsOptions {
  /**
   * The routes currently configured (read on every request, so a reload takes effect). A
   * decision naming any other route is counted under route ''. Typically
   * `() => gateway.config.routes`.
   */
  readonly routes: () => readonly { readonly path: string }[];
  /** prom-client's process and Node.js metrics (`process_*`, `nodejs_*`); default true. */
  readonly defaultMetrics?: boolean;
}

export interface GatewayMetrics {
  /** This gateway's own registry. */
  readonly registry: Registry;
  /** The Prometheus exposition content type, for the `/metrics` answer. */
  readonly contentType: string;
  /** The registry in Prometheus text format. */
  metrics(): Promise<string>;
  /**
   * Sets `sfom_certificate_expiry_days` for every configured certificate (server chain,
   * client pins, client CAs), replacing what the previous configuration set. Call at start and
   * after each successful reload, and daily (see tls/expiry.ts `scheduleDailyExpiryCheck`).
   */
  setCertificates(config: GatewayConfig, now?: Date): void;
  /** Counts a reload attempt; a success also sets the last-reload timestamp. */
  recordReload(result: ReloadResult, now?: Date): void;
  /** Unsubscribes from the event bus and empties the registry. */
  close(): void;
}

/**
 * Creates the metrics for one gateway and subscribes them to its events.
 *
 * @example
 * const metrics = createMetrics(gateway.events, { routes: () => gateway.config.routes });
 * metrics.setCertificates(gateway.config);
 */
export function createMetrics(events: GatewayEvents, opts: MetricsOptions): GatewayMetrics {
  const registry = new Registry();
  const registers = [registry];

  const requests = new Counter({
    name: 'sfom_requests_total',
    help: 'Requests by route, outcome (acked, nacked, rejected, failed) and reason code',
    labelNames: ['route', 'outcome', 'reason'] as const,
    registers,
  });
  const requestDuration = new Histogram({
    name: 'sfom_request_duration_seconds',
    help: 'Time from request start to the answer, by route',
    labelNames: ['route'] as const,
    buckets: [...DURATION_BUCKETS],
    registers,
  });
  const upstreamDuration = new Histogram({
    name: 'sfom_upstream_duration_seconds',
    help: 'Time the internal service took to answer, by route',
    labelNames: ['route'] as const,
    buckets: [...DURATION_BUCKETS],
    registers,
  });
  const parsed = new Counter({
    name: 'sfom_messages_parsed_total',
    help: 'Messages read and validated, by the reader that took them: fast (Salesforce\'s own layout) or general',
    labelNames: ['way'] as const,
    registers,
  });
  const refused = new Counter({
    name: 'sfom_connections_refused_total',
    help: 'Connections closed before TLS, by reason (allowlist, connection_limit, per_ip_limit, ...)',
    labelNames: ['reason'] as const,
    registers,
  });
  const tlsFailures = new Counter({
    name: 'sfom_tls_handshake_failures_total',
    help: 'TLS handshakes that failed, by reason (no_certificate, untrusted, expired, ...)',
    labelNames: ['reason'] as const,
    registers,
  });
  const open = new Gauge({
    name: 'sfom_open_connections',
    help: 'Connections currently open on the public listener',
    registers,
  });
  const expiry = new Gauge({
    name: 'sfom_certificate_expiry_days',
    help: 'Whole days until a configured certificate expires (negative once expired), by name and kind (server, client_pin, ca)',
    labelNames: ['name', 'kind'] as const,
    registers,
  });
  const reloads = new Counter({
    name: 'sfom_config_reloads_total',
    help: 'Configuration reloads by result (success, failure)',
    labelNames: ['result'] as const,
    registers,
  });
  const lastReload = new Gauge({
    name: 'sfom_config_last_reload_timestamp_seconds',
    help: 'Unix time of the last successful configuration reload',
    registers,
  });
  // Both results exist from the start, so `rate()` and alerts see 0 rather than no series.
  reloads.inc({ result: 'success' }, 0);
  reloads.inc({ result: 'failure' }, 0);
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  const routeLabel = (route: string | null): string =>
    route !== null && opts.routes().some((r) => r.path === route) ? route : '';

  // Label children bound once per label set: prom-client otherwise hashes the label object on
  // every call. The sets are bounded: routes are configured, outcomes and reasons are enums.
  const requestCounters = new Map<string, ReturnType<typeof requests.labels>>();
  const durations = new Map<string, ReturnType<typeof requestDuration.labels>>();
  const upstreamDurations = new Map<string, ReturnType<typeof upstreamDuration.labels>>();
  // Both ways exist from the start (0), so a dashboard can show the share of the fast way.
  const parsedByWay = [parsed.labels({ way: 'fast' }), parsed.labels({ way: 'general' })];
  for (const child of parsedByWay) child.inc(0);
  const onRequest = (d: RequestDecision): void => {
    const route = routeLabel(d.route);
    const outcome = OUTCOMES.has(d.outcome) ? d.outcome : OTHER;
    const reason = REASONS.has(d.reason) ? d.reason : OTHER;
    bound(requestCounters, `${route}\n${outcome}\n${reason}`, () => requests.labels({ route, outcome, reason })).inc();
    bound(durations, route, () => requestDuration.labels({ route })).observe(d.durationMs / 1000);
    if (d.parseWay !== null) parsedByWay[d.parseWay === 'fast' ? 0 : 1]!.inc();
    if (d.upstreamDurationMs !== null) {
      bound(upstreamDurations, route, () => upstreamDuration.labels({ route })).observe(d.upstreamDurationMs / 1000);
    }
  };
  const onRefused = (r: ConnectionRefused): void => {
    refused.inc({ reason: REFUSAL_REASONS.has(r.reason) ? r.reason : OTHER });
  };
  const onTlsFailure = (f: TlsFailure): void => {
    tlsFailures.inc({ reason: TLS_REASONS.has(f.reason) ? f.reason : OTHER });
  };
  const onOpened = (): void => { open.inc(); };
  const onClosed = (): void => { open.dec(); };

  events.on('request', onRequest);
  events.on('connectionRefused', onRefused);
  events.on('tlsFailure', onTlsFailure);
  events.on('connectionOpened', onOpened);
  events.on('connectionClosed', onClosed);

  return {
    registry,
    contentType: registry.contentType,
    metrics: () => registry.metrics(),
    setCertificates(config, now = new Date()) {
      expiry.reset();
      for (const entry of expiryReport(config, now)) {
        expiry.set({ name: entry.name, kind: entry.kind }, entry.daysLeft);
      }
    },
    recordReload(result, now = new Date()) {
      reloads.inc({ result });
      if (result === 'success') lastReload.set(now.getTime() / 1000);
    },
    close() {
      events.off('request', onRequest);
      events.off('connectionRefused', onRefused);
      events.off('tlsFailure', onTlsFailure);
      events.off('connectionOpened', onOpened);
      events.off('connectionClosed', onClosed);
      registry.clear();
    },
  };
}

/** The value remembered under `key`, made on first use. */
function bound<V>(children: Map<string, V>, key: string, make: () => V): V {
  let child = children.get(key);
  if (child === undefined) {
    child = make();
    children.set(key, child);
  }
  return child;
}
