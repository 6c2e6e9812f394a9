/**
 * Starting the servers under test, each in its own process pinned to `core`: the internal
 * service (direct), nginx, the bare Node passthrough and the gateway launcher. Each returns
 * `{ name, pid, port, child, stop() }`; `pid` is the root of the process tree that is measured.
 */
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nextMessage, start, stop } from './children.mjs';
import { descendants } from './proc.mjs';
import { writeNginxConfig } from './nginx.mjs';
import { FIXTURE_ORG } from './payloads.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const SERVERS = join(HERE, '..', 'servers');
const READY_TIMEOUT_MS = 20_000;

/** Limits every server gets in the throughput cells, and the gateway's defaults they follow. */
export const NORMAL_LIMITS = Object.freeze({
  /** nginx's default keepalive_requests; the gateway's default is 100 (see README "Method"). */
  maxRequestsPerSocket: 1000,
  /** ms: the gateway's default */
  keepAliveTimeoutMs: 5000,
  /** the gateway's defaults */
  maxConnections: 1000,
  maxConnectionsPerIp: 100,
  /** bytes: the gateway's default (5 MiB) */
  maxBodyBytes: 5_242_880,
});

/** For the 1,000-connection scenario: room for 1,016 connections from 127.0.0.1, kept 60 s. */
export const MANY_CONNECTION_LIMITS = Object.freeze({
  ...NORMAL_LIMITS,
  keepAliveTimeoutMs: 60_000,
  maxConnections: 2000,
  maxConnectionsPerIp: 2000,
});

async function nodeServer(name, script, args, { core, execArgv = [] }) {
  const child = start(process.execPath, [...execArgv, join(SERVERS, script), ...args], { core, ipc: true });
  const ready = await nextMessage(child, (m) => m?.type === 'ready', READY_TIMEOUT_MS, `${name} start`);
  return { name, pid: child.pid, port: ready.port, child, stop: () => stop(child) };
}

export function startUpstream({ core, name = 'direct' }) {
  return nodeServer(name, 'upstream.mjs', [], { core });
}

export function startPassthrough({ core, pki, cert, upstreamPort, limits = NORMAL_LIMITS }) {
  const server = pki[cert === 'rsa' ? 'serverRsa' : 'serverEc'];
  return nodeServer('passthrough', 'passthrough.mjs', [JSON.stringify({
    cert: server.certPath, key: server.keyPath, ca: pki.ca.certPath, upstreamPort,
    maxRequestsPerSocket: limits.maxRequestsPerSocket, keepAliveTimeoutMs: limits.keepAliveTimeoutMs,
    maxBodyBytes: limits.maxBodyBytes,
  })], { core });
}

/** The raw gateway configuration: what an operator would write, through the same loader. */
export function gatewayConfig({ pki, cert, upstreamPort, limits = NORMAL_LIMITS, logLevel = 'warn' }) {
  const server = pki[cert === 'rsa' ? 'serverRsa' : 'serverEc'];
  return {
    listen: { host: '127.0.0.1', port: 0 },
    tls: {
      cert: server.certPath,
      key: server.keyPath,
      clientCa: pki.ca.certPath,
      clientCertificates: [pki.client.certPath],
      minVersion: 'TLSv1.2',
    },
    allowlist: { cidrs: ['127.0.0.1/32'] },
    organizations: [FIXTURE_ORG],
    upstream: { allowedPorts: [upstreamPort] },
    routes: [{ path: '/outbound/contact', target: `http://127.0.0.1:${upstreamPort}/contact`, format: 'soap' }],
    limits: {
      maxBodyBytes: limits.maxBodyBytes,
      keepAliveTimeoutMs: limits.keepAliveTimeoutMs,
      maxRequestsPerSocket: limits.maxRequestsPerSocket,
      maxConnections: limits.maxConnections,
      maxConnectionsPerIp: limits.maxConnectionsPerIp,
    },
    log: { level: logLevel },
  };
}

export function startGateway({ core, pki, cert, upstreamPort, limits = NORMAL_LIMITS, logLevel = 'warn', execArgv = [], overload }) {
  const config = gatewayConfig({ pki, cert, upstreamPort, limits, logLevel });
  return nodeServer('gateway', 'gateway-launcher.mjs', [JSON.stringify({ config, baseDir: pki.dir, overload })], { core, execArgv });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

export async function startNginx({ core, bin, pki, cert, upstreamPort, prefix, limits = NORMAL_LIMITS }) {
  const server = pki[cert === 'rsa' ? 'serverRsa' : 'serverEc'];
  const port = await freePort();
  const conf = await writeNginxConfig(prefix, {
    port, upstreamPort, certPath: server.certPath, keyPath: server.keyPath, caPath: pki.ca.certPath,
    maxBodyBytes: limits.maxBodyBytes, keepAliveTimeoutMs: limits.keepAliveTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
  });
  const child = start(bin, ['-p', prefix, '-c', conf], { core });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  // Bounded wait for the listening socket and the worker process.
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (await canConnect(port) && descendants(child.pid).length > 0) {
      return { name: 'nginx', pid: child.pid, port, child, stop: () => stop(child, 'SIGTERM', 5000) };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop(child);
  throw new Error(`nginx did not start:\n  ${child.tail.slice(-10).join('\n  ')}`);
}
