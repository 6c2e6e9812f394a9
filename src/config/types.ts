/**
 * The validated, frozen configuration. Key names mirror the configuration file (a contract);
 * paths are already resolved against the config file's folder and files already read.
 */
import type { X509Certificate, KeyObject } from 'node:crypto';

export type RouteFormat = 'soap' | 'json';

export interface RouteConfig {
  readonly path: string;
  /** Parsed target URL (http: or https:). */
  readonly target: URL;
  readonly format: RouteFormat;
  readonly timeoutMs: number;
  /** 18-character ActionIds; empty = any. */
  readonly actionIds: ReadonlySet<string>;
  /** sObject local type names, e.g. `Contact`; empty = any. */
  readonly objectTypes: ReadonlySet<string>;
  readonly forwardSessionId: boolean;
}

export interface LimitsConfig {
  readonly maxBodyBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxRequestsPerSocket: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** Graceful stop: how long in-flight requests may finish before the rest get 503. */
  readonly shutdownGraceMs: number;
}

/** One certificate loaded from a file, with where it came from (for messages and metrics). */
export interface LoadedCertificate {
  /** Display name: file path (relative as written in config) plus index in a bundle, e.g. `certs/ca.pem#1`. */
  readonly name: string;
  readonly x509: X509Certificate;
  /** Node's `fingerprint256` form: upper-case hex pairs joined by `:`. */
  readonly fingerprint256: string;
}

export interface TlsMaterial {
  /** Server chain PEM (leaf, then intermediates) as read from `tls.cert`. */
  readonly certPem: string;
  readonly keyPem: string;
  readonly serverChain: readonly LoadedCertificate[];
  readonly clientCaPem: string;
  readonly clientCas: readonly LoadedCertificate[];
  readonly clientPins: readonly LoadedCertificate[];
  /** Accepted subject DNs, normalised (see tls/client-identity.ts). */
  readonly clientSubjects: readonly string[];
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  readonly expiryWarningDays: number;
}

export interface AllowlistConfig {
  /** Every entry as validated, normalised CIDR (`a.b.c.d/n` or `x::/n`). */
  readonly cidrs: readonly string[];
}

export interface GatewayConfig {
  /** Absolute path of the file this came from, or `<embedded>` for the development default. */
  readonly source: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly tls: TlsMaterial;
  readonly allowlist: AllowlistConfig;
  /** 18-character organization ids. */
  readonly organizations: ReadonlySet<string>;
  /** Lower-case host suffixes. */
  readonly salesforceHosts: readonly string[];
  readonly upstream: { readonly allowedPorts: ReadonlySet<number> };
  readonly routes: readonly RouteConfig[];
  readonly limits: LimitsConfig;
  /** Where `start` writes its pid (for `sfom-gateway reload`); null = none. */
  readonly pidFile: string | null;
  /** Admin listener (healthz/readyz/metrics); null = off. */
  readonly admin: { readonly host: string; readonly port: number; readonly allowRemote: boolean } | null;
  /** Number of worker processes (node:cluster); `auto` resolved to the core count. 1 = no cluster. */
  readonly workers: number;
  readonly log: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
}

export type { KeyObject };
