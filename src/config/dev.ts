/**
 * The development default (`npm start` with no --config): a raw configuration object, put
 * through the same loader as a file, so the development gateway is exactly as strict.
 */
import type { DevCertPaths } from '../tls/dev-certs.js';

/** The placeholder organization of the documentation examples (00D000000000001 + EAA). */
export const DEV_ORGANIZATION = '00D000000000001EAA';
/** The organization of the Salesforce sample payloads under test/fixtures/. */
export const FIXTURE_ORGANIZATION = '00D5g000004XyZqEAK';
export const DEV_PORT = 8443;

/**
 * A configuration for 127.0.0.1:8443 with the development certificates, a loopback allowlist,
 * the dev client pinned, and two routes to an internal service on 127.0.0.1:`upstreamPort`.
 */
export function devConfigObject(paths: DevCertPaths, upstreamPort: number): Record<string, unknown> {
  const upstream = `http://127.0.0.1:${upstreamPort}`;
  return {
    listen: { host: '127.0.0.1', port: DEV_PORT },
    tls: {
      cert: paths.serverCert,
      key: paths.serverKey,
      clientCa: paths.caCert,
      clientCertificates: [paths.clientCert],
    },
    allowlist: { cidrs: ['127.0.0.0/8', '::1'] },
    organizations: [DEV_ORGANIZATION, FIXTURE_ORGANIZATION],
    upstream: { allowedPorts: [upstreamPort] },
    routes: [
      { path: '/outbound/contact', target: `${upstream}/contact`, format: 'soap' },
      { path: '/outbound/json', target: `${upstream}/json`, format: 'json' },
    ],
    log: { level: 'info' },
  };
}
