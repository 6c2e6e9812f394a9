/**
 * Starts a real gateway on 127.0.0.1:0 with the test PKI and a real internal service, the way an
 * operator would: a raw configuration object through the same loader as a file.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFromObject } from '../../src/config/load.js';
import { Gateway, type GatewayOptions } from '../../src/gateway.js';
import { DEFAULT_OVERLOAD_LIMITS } from '../../src/net/overload.js';
import { fakeUpstream, type FakeUpstream } from './upstream.js';
import { logSink, type LogSink } from './log-sink.js';
import { makePki, type Pki } from './pki.js';
import type { ClientIdentity } from './client.js';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'salesforce');
/** The organization of the Salesforce sample payloads. */
export const FIXTURE_ORG = '00D5g000004XyZqEAK';

export function fixture(name: string): Promise<string> {
  return readFile(path.join(FIXTURES, name), 'utf8');
}

export interface Harness {
  readonly gateway: Gateway;
  readonly port: number;
  readonly pki: Pki;
  readonly upstream: FakeUpstream;
  readonly logs: LogSink;
  /** The pinned "Salesforce" client. */
  readonly salesforce: ClientIdentity;
  readonly rawConfig: Record<string, unknown>;
  close(): Promise<void>;
}

export type ConfigOverride = (raw: Record<string, unknown>, ctx: { pki: Pki; upstream: FakeUpstream }) => void;

/** The configuration every suite starts from: one soap and one json route, the fixture org. */
export function baseConfig(pki: Pki, upstream: FakeUpstream): Record<string, unknown> {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    tls: {
      cert: pki.server.certPath,
      key: pki.server.keyPath,
      clientCa: pki.ca.certPath,
      clientCertificates: [pki.client.certPath],
      minVersion: 'TLSv1.2',
    },
    allowlist: { cidrs: ['127.0.0.1/32', '::1'] },
    organizations: [FIXTURE_ORG, '00D000000000001EAA'],
    salesforceHosts: ['salesforce.com', 'force.com'],
    upstream: { allowedPorts: [upstream.port] },
    routes: [
      { path: '/outbound/contact', target: upstream.url('/contact'), format: 'soap', timeoutMs: 3000 },
      { path: '/outbound/json', target: upstream.url('/json'), format: 'json', timeoutMs: 3000 },
    ],
    limits: { handshakeTimeoutMs: 2000, headersTimeoutMs: 2000, requestTimeoutMs: 5000, keepAliveTimeoutMs: 2000 },
    log: { level: 'debug' },
  };
}

/**
 * Gateway options for a test whose own client and service stall the gateway's thread (large
 * strings, many bodies at once): that stall is the test's, so the overload guard's event-loop
 * signal is turned off (test/load covers it); its other limits stay the defaults.
 */
export const WITHOUT_LOOP_GUARD = Object.freeze({ overload: { ...DEFAULT_OVERLOAD_LIMITS, maxEventLoopDelayMs: 60_000 } });

/**
 * @param gatewayOptions passed to the Gateway constructor (e.g. low `overload` limits); the log
 * destination is always the harness's sink.
 */
export async function startHarness(
  override?: ConfigOverride,
  shared?: { pki?: Pki },
  gatewayOptions: Omit<GatewayOptions, 'logDestination' | 'logger'> = {},
): Promise<Harness> {
  const pki = shared?.pki ?? await makePki();
  const upstream = await fakeUpstream();
  const logs = logSink();
  const raw = baseConfig(pki, upstream);
  override?.(raw, { pki, upstream });
  const config = await loadConfigFromObject(raw, pki.dir, 'test-config', { allowPortZero: true });
  const gateway = new Gateway(config, { ...gatewayOptions, logDestination: logs.stream });
  const address = await gateway.start();
  return {
    gateway,
    port: address.port,
    pki,
    upstream,
    logs,
    salesforce: { cert: pki.client.certPem, key: pki.client.keyPem, ca: pki.ca.certPem },
    rawConfig: raw,
    async close() {
      await gateway.close(0);
      await upstream.close();
      if (!shared?.pki) await pki.cleanup();
    },
  };
}
