/**
 * The admin listener: `/healthz`, `/readyz` and `/metrics` on plain HTTP, meant for loopback
 * (config `admin: { host: 127.0.0.1, port: 9090 }`; off unless configured). node:http and no
 * framework: three fixed GET routes need no router. It answers no request body, carries no
 * secret (metrics label values are config paths and reason codes), and every answer carries
 * helmet's security headers and `Cache-Control: no-store`.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import helmet from 'helmet';

/** What `/metrics` serves: a prom-client Registry or a GatewayMetrics both fit. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface AdminOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** True when the gateway is listening, its TLS material is loaded and it is not draining. */
  readonly ready: () => boolean;
  readonly metrics: MetricsSource;
  /**
   * False (default): answer only peers on a loopback address, whatever `host` is bound to
   * (config `admin.allowRemote`).
   */
  readonly allowRemote?: boolean;
}

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

/** The admin routes are three short GETs: anything slow or large is not a scraper. */
const ADMIN_TIMEOUT_MS = 5_000;
const MAX_ADMIN_HEADER_BYTES = 8 * 1024;
const TEXT = 'text/plain; charset=utf-8';

const securityHeaders = helmet();

function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function send(res: ServerResponse, status: number, body: string, contentType = TEXT, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(body);
}

async function route(req: IncomingMessage, res: ServerResponse, opts: AdminOptions): Promise<void> {
  if (!(opts.allowRemote ?? false) && !isLoopback(req.socket.remoteAddress)) {
    send(res, 403, 'forbidden\n');
    return;
  }
  const url = req.url ?? '';
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') {
    send(res, 404, 'not found\n');
    return;
  }
  if (req.method !== 'GET') {
    send(res, 405, 'method not allowed\n', TEXT, { Allow: 'GET' });
    return;
  }
  if (path === '/healthz') {
    send(res, 200, 'ok\n');
  } else if (path === '/readyz') {
    if (opts.ready()) send(res, 200, 'ready\n');
    else send(res, 503, 'not ready\n');
  } else {
    send(res, 200, await opts.metrics.metrics(), opts.metrics.contentType);
  }
}

function handle(req: IncomingMessage, res: ServerResponse, opts: AdminOptions): void {
  securityHeaders(req, res, (err?: unknown) => {
    if (err) {
      send(res, 500, 'internal error\n');
      return;
    }
    route(req, res, opts).catch(() => {
      // A collector failed; say nothing about why (no stack, no path) on this port.
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
}

/**
 * Binds the admin listener; resolves once it listens.
 *
 * @example
 * const admin = await startAdmin({ ...config.admin, ready: () => gateway.ready, metrics });
 * // on stop: await admin.close();
 */
export function startAdmin(opts: AdminOptions): Promise<AdminServer> {
  const sockets = new Set<Socket>();
  const server = http.createServer({ maxHeaderSize: MAX_ADMIN_HEADER_BYTES }, (req, res) => handle(req, res, opts));
  server.requestTimeout = ADMIN_TIMEOUT_MS;
  server.headersTimeout = ADMIN_TIMEOUT_MS;
  server.keepAliveTimeout = ADMIN_TIMEOUT_MS;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const socket of sockets) socket.destroy();
          }),
      });
    });
  });
}
