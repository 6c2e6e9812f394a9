/**
 * What the pipeline and the connection gates publish; logs and metrics subscribe (undici's
 * diagnostics_channel habit), so no stage calls the logger or a metric directly. One bus per
 * gateway instance, so several gateways in one process (tests) never mix their events.
 */
import { EventEmitter } from 'node:events';

/** One request's outcome: one log line and one metrics sample. */
export interface RequestDecision {
  readonly requestId: string;
  readonly outcome: 'acked' | 'nacked' | 'rejected' | 'failed';
  /** `GW_ERR_…` code, `UPSTREAM_NACK`, or `OK`. */
  readonly reason: string;
  readonly status: number;
  readonly remoteAddress: string;
  readonly clientCertFingerprint: string | null;
  readonly route: string | null;
  readonly organizationId: string | null;
  readonly actionId: string | null;
  readonly notificationCount: number | null;
  /** Which reader took the message (`fast` for Salesforce's own layout); null when it was not read. */
  readonly parseWay: 'fast' | 'general' | null;
  readonly upstreamStatus: number | null;
  readonly durationMs: number;
  readonly upstreamDurationMs: number | null;
  /** Safe detail for the log (element names, limits); never a secret or a field value. */
  readonly detail: string | undefined;
}

export type ConnectionRefusalReason = 'allowlist' | 'connection_limit' | 'per_ip_limit' | 'overloaded' | 'draining';

export interface ConnectionRefused {
  readonly reason: ConnectionRefusalReason;
  readonly remoteAddress: string;
}

export interface TlsFailure {
  /** Short stable reason, e.g. `no_certificate`, `untrusted`, `expired`, `handshake_timeout`, `protocol`. */
  readonly reason: string;
  readonly remoteAddress: string;
  readonly code: string | undefined;
}

export interface GatewayEventMap {
  request: [RequestDecision];
  connectionRefused: [ConnectionRefused];
  connectionOpened: [];
  connectionClosed: [];
  tlsFailure: [TlsFailure];
}

export class GatewayEvents extends EventEmitter<GatewayEventMap> {}
