/**
 * Every configuration default, in one object (STYLE.md habit 2). Keys mirror the configuration
 * file; each number carries its unit. Required keys (listen.port, tls.cert, tls.key,
 * tls.clientCa, the allowlist, organizations, routes, upstream.allowedPorts) have no default:
 * fail closed rather than guess.
 */
export const DEFAULTS = Object.freeze({
  listen: Object.freeze({
    /** All IPv4 interfaces; `::` is dual-stack. */
    host: '0.0.0.0',
  }),
  tls: Object.freeze({
    clientCertificates: Object.freeze([] as string[]),
    clientSubjects: Object.freeze([] as string[]),
    minVersion: 'TLSv1.2' as const,
    /** days: certificates expiring sooner are flagged by check-config and logged at start */
    expiryWarningDays: 30,
  }),
  allowlist: Object.freeze({
    cidrs: Object.freeze([] as string[]),
    files: Object.freeze([] as string[]),
  }),
  /** Allowed host suffixes of EnterpriseUrl/PartnerUrl (shared/SALESFORCE.md "The call"). */
  salesforceHosts: Object.freeze(['salesforce.com', 'force.com']),
  /** Per route. */
  route: Object.freeze({
    format: 'soap' as const,
    /** ms: the upstream answer must arrive well inside Salesforce's 60 s per attempt */
    timeoutMs: 20_000,
    actionIds: Object.freeze([] as string[]),
    objectTypes: Object.freeze([] as string[]),
    forwardSessionId: false,
  }),
  limits: Object.freeze({
    /** bytes (5 MiB) */
    maxBodyBytes: 5_242_880,
    /** ms: TCP accept to finished TLS handshake */
    handshakeTimeoutMs: 10_000,
    /** ms: to receive the complete request headers */
    headersTimeoutMs: 10_000,
    /** ms: to receive the complete request */
    requestTimeoutMs: 30_000,
    /** ms: idle time before a kept-alive socket is closed */
    keepAliveTimeoutMs: 5_000,
    /** requests */
    maxRequestsPerSocket: 100,
    /** concurrent connections, all peers */
    maxConnections: 1_000,
    /** concurrent connections from one address */
    maxConnectionsPerIp: 100,
    /** ms: graceful stop, in-flight requests may finish */
    shutdownGraceMs: 10_000,
  }),
  /** No pid file unless configured. */
  pidFile: null,
  /** The admin listener is off unless configured. */
  admin: null,
  /** Used for the parts of an `admin` object that are left out. */
  adminListener: Object.freeze({
    host: '127.0.0.1',
    /** TCP port */
    port: 9090,
    allowRemote: false,
  }),
  /** worker processes; 1 = no cluster */
  workers: 1,
  log: Object.freeze({
    level: 'info' as const,
  }),
});
