/**
 * The public listener. A plain TCP server accepts each connection paused, so the connection gates
 * (allowlist, global and per-address caps) run before a byte of TLS is read or written; a denied
 * socket is destroyed there. Accepted sockets are handed to an https.Server that is never bound
 * itself. Every server timeout is set in `applyLimits`, in one place.
 */
import { constants as cryptoConstants, randomUUID } from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { SecureContextOptions, TLSSocket } from 'node:tls';
import type { LimitsConfig, TlsMaterial } from '../config/types.js';
import type { GatewayEvents, ConnectionRefusalReason } from '../observability/events.js';
import type { Runtime } from '../runtime.js';
import { MAX_HEADER_COUNT } from '../http/limits.js';
import { rawFault, sendFault } from '../http/respond.js';
import type { ErrorCode } from '../errors.js';

/** How often Node checks headersTimeout/requestTimeout (default 30 s): well within a second. */
const TIMEOUT_CHECK_INTERVAL_MS = 250;
/** Largest request head; Salesforce sends a handful of short headers. */
export const MAX_HEADER_BYTES = 16 * 1024;

/** TLS options that follow the configuration (swapped in by setSecureContext on reload). */
export function secureContextOptions(tls: TlsMaterial): SecureContextOptions {
  return {
    cert: tls.certPem,
    key: tls.keyPem,
    ca: tls.clientCaPem,
    minVersion: tls.minVersion,
    // Client-initiated renegotiation is refused outright (TLS 1.2; TLS 1.3 has none).
    secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION,
  };
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface ListenerOptions {
  readonly runtime: () => Runtime;
  readonly events: GatewayEvents;
  readonly onRequest: RequestHandler;
  /** Called for requests Node's HTTP parser refused (malformed, headers too large, timeout). */
  readonly onClientError: (code: ErrorCode, remoteAddress: string, detail: string, requestId: string) => void;
}

export class Listener {
  readonly #tcp: net.Server;
  readonly #https: https.Server;
  readonly #opts: ListenerOptions;
  readonly #perAddress = new Map<string, number>();
  readonly #sockets = new Set<net.Socket>();
  /** TLS sockets whose failure was reported by tlsClientError. */
  readonly #tlsFailed = new WeakSet<object>();
  #draining = false;

  constructor(opts: ListenerOptions) {
    this.#opts = opts;
    const { config } = opts.runtime();
    this.#https = https.createServer({
      ...secureContextOptions(config.tls),
      // Explicit, whatever Node's defaults become: fail closed (STYLE habit 3).
      requestCert: true,
      rejectUnauthorized: true,
      maxHeaderSize: MAX_HEADER_BYTES,
      // Checked by the pipeline (http/limits.ts checkHead), which answers with a logged fault.
      requireHostHeader: false,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
      noDelay: true,
      // Node's default is 120 s; a peer that never finishes its ClientHello is dropped much
      // earlier. Fixed for the server's life: a reload that changes it says a restart is needed.
      handshakeTimeout: config.limits.handshakeTimeoutMs,
    }, opts.onRequest);
    this.#https.on('checkContinue', opts.onRequest);
    // Any other Expect: refused by the pipeline with a logged fault, not Node's bare 417.
    this.#https.on('checkExpectation', opts.onRequest);
    this.#https.on('clientError', (err: NodeJS.ErrnoException, socket) => this.#clientError(err, socket as net.Socket));
    // Without a listener, Node destroys a CONNECT request's socket without an answer or a trace.
    this.#https.on('connect', (req: IncomingMessage, socket: net.Socket) => {
      opts.onClientError('GW_ERR_METHOD_NOT_ALLOWED', socket.remoteAddress ?? '', 'method CONNECT', randomUUID());
      endWith(socket, rawFault('GW_ERR_METHOD_NOT_ALLOWED'));
    });
    // Prepended: https.Server re-emits every tlsClientError as a clientError, which must not be
    // reported a second time as a malformed request (nor answered with HTTP inside a TLS stream).
    this.#https.prependListener('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      this.#tlsFailed.add(socket);
      this.#tlsFailure(err, socket);
    });
    this.applyLimits(config.limits);
    this.#tcp = net.createServer({ pauseOnConnect: true, noDelay: true }, (socket) => this.#accept(socket));
  }

  /** Sets every HTTP timeout and cap from `limits` (start-up and reload). */
  applyLimits(limits: LimitsConfig): void {
    const s = this.#https;
    s.setTimeout(0);
    s.requestTimeout = limits.requestTimeoutMs;
    s.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
    s.keepAliveTimeout = limits.keepAliveTimeoutMs;
    // Counted by the gateway (see gateway.ts), which answers the last one with Connection: close.
    s.maxRequestsPerSocket = 0;
    // One more than allowed: checkHead refuses a head that reaches it (see MAX_HEADER_COUNT).
    s.maxHeadersCount = MAX_HEADER_COUNT + 1;
  }

  setSecureContext(tls: TlsMaterial): void {
    // Keep the session-ticket keys across the swap: resumption survives a certificate reload
    // (the client identity is still checked on every resumed connection).
    this.#https.setSecureContext({ ...secureContextOptions(tls), ticketKeys: this.#https.getTicketKeys() });
  }

  /** 48 bytes of session-ticket keys (shared by every worker, rotated by the owner). */
  setTicketKeys(keys: Buffer): void {
    this.#https.setTicketKeys(keys);
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#tcp.once('error', reject);
      // ipv6Only false: "::" accepts IPv4 too (as IPv4-mapped addresses, matched as IPv4).
      this.#tcp.listen({ host, port, ipv6Only: false }, () => {
        this.#tcp.off('error', reject);
        // The https server is never bound itself, but Node starts its connection tracking (the
        // header/request timeout checks and closeIdleConnections) on its 'listening' event.
        this.#https.emit('listening');
        resolve(this.#tcp.address() as AddressInfo);
      });
    });
  }

  address(): AddressInfo | null {
    return this.#tcp.address() as AddressInfo | null;
  }

  get openConnections(): number {
    return this.#sockets.size;
  }

  get listening(): boolean {
    return this.#tcp.listening && !this.#draining;
  }

  /** Stops accepting: the port is released, idle keep-alive connections are closed. */
  stopAccepting(): Promise<void> {
    this.#draining = true;
    const closed = new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
    this.#https.closeIdleConnections();
    return closed;
  }

  /** Ends every connection still open (after the grace period). */
  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#https.closeAllConnections();
  }

  #refuse(socket: net.Socket, reason: ConnectionRefusalReason, remoteAddress: string): void {
    this.#opts.events.emit('connectionRefused', { reason, remoteAddress });
    socket.destroy();
  }

  #accept(socket: net.Socket): void {
    const remoteAddress = socket.remoteAddress ?? '';
    const { config, allowlist } = this.#opts.runtime();
    if (this.#draining) return this.#refuse(socket, 'draining', remoteAddress);
    if (!allowlist.allows(socket.remoteAddress)) return this.#refuse(socket, 'allowlist', remoteAddress);
    if (this.#sockets.size >= config.limits.maxConnections) return this.#refuse(socket, 'connection_limit', remoteAddress);
    const fromAddress = this.#perAddress.get(remoteAddress) ?? 0;
    if (fromAddress >= config.limits.maxConnectionsPerIp) return this.#refuse(socket, 'per_ip_limit', remoteAddress);

    this.#perAddress.set(remoteAddress, fromAddress + 1);
    this.#sockets.add(socket);
    this.#opts.events.emit('connectionOpened');
    socket.once('close', () => {
      this.#sockets.delete(socket);
      const n = (this.#perAddress.get(remoteAddress) ?? 1) - 1;
      if (n <= 0) this.#perAddress.delete(remoteAddress);
      else this.#perAddress.set(remoteAddress, n);
      this.#opts.events.emit('connectionClosed');
    });
    socket.on('error', () => socket.destroy());

    this.#https.emit('connection', socket);
  }

  #tlsFailure(err: NodeJS.ErrnoException, socket: TLSSocket): void {
    // A client certificate that fails verification does not fail the handshake: Node checks it
    // afterwards and destroys the socket without an error (_tls_wrap.js onServerSocketSecure), so
    // the only event is a later ECONNRESET. The verdict is in authorizationError, and the peer's
    // address with the TCP socket underneath (read, and so cached, at accept).
    // (Typed as an Error, it is the X509_V_ERR name as a string, or null.)
    const verdict: unknown = socket.authorizationError;
    const failed = typeof verdict === 'string' && verdict !== '';
    const code = failed ? verdict : err.code;
    const parent = (socket as { _parent?: net.Socket })._parent;
    this.#opts.events.emit('tlsFailure', {
      reason: failed ? certificateFailureReason(verdict) : tlsFailureReason(err),
      remoteAddress: socket.remoteAddress ?? parent?.remoteAddress ?? '',
      code,
    });
    socket.destroy();
  }

  #clientError(err: NodeJS.ErrnoException, socket: net.Socket): void {
    if (this.#tlsFailed.has(socket)) return;
    if (isTlsError(err)) {
      // A TLS error after the handshake (a refused renegotiation, a bad record): no HTTP request
      // to answer, and nothing to say in plaintext.
      this.#tlsFailed.add(socket);
      this.#tlsFailure(err, socket as TLSSocket);
      return;
    }
    const remoteAddress = socket.remoteAddress ?? '';
    const pending = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
    let code: ErrorCode = 'GW_ERR_BAD_REQUEST';
    if (err.code === 'HPE_HEADER_OVERFLOW') code = 'GW_ERR_HEADERS_TOO_LARGE';
    else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') code = 'GW_ERR_REQUEST_TIMEOUT';
    // The peer ended its side in the middle of a body: shorter than its Content-Length or chunks.
    else if (err.code === 'HPE_INVALID_EOF_STATE' && pending && !pending.req.complete) code = 'GW_ERR_BODY_INCOMPLETE';
    const requestId = randomUUID();
    this.#opts.onClientError(code, remoteAddress, err.code ?? 'parse error', requestId);
    if (pending && !pending.headersSent && pending.req.complete) {
      // The bytes Node could not parse follow a complete request still being handled (pipelined,
      // or a Content-Length shorter than the body): they are a request of their own. The one under
      // way keeps its own answer, which closes the connection; the refusal is in the log.
      pending.setHeader('Connection', 'close');
      return;
    }
    // A request already under way (its body too slow) has a response object: answer through it,
    // so HTTP framing stays right; otherwise write the fault on the raw socket.
    if (pending && !pending.headersSent) {
      pending.once('finish', () => socket.destroy());
      setTimeout(() => socket.destroy(), 1000).unref();
      sendFault(pending, code, requestId, true);
      return;
    }
    if (socket.writable && !pending) socket.end(rawFault(code));
    socket.destroy();
  }
}

/** Writes a last answer on a raw socket, then destroys it once flushed (within a second at most). */
function endWith(socket: net.Socket, answer: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(answer, () => socket.destroy());
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** An error raised by OpenSSL (Node gives them ERR_SSL_* codes and an OpenSSL library name). */
function isTlsError(err: NodeJS.ErrnoException): boolean {
  return (err.code?.startsWith('ERR_SSL_') ?? false) || (err as { library?: string }).library === 'SSL routines';
}

/** The reason for a client certificate that failed verification (OpenSSL's X509_V_ERR_* name). */
export function certificateFailureReason(code: string): string {
  if (code === 'CERT_HAS_EXPIRED') return 'expired';
  if (code === 'CERT_NOT_YET_VALID') return 'not_yet_valid';
  return 'untrusted';
}

/** A short, stable reason for a failed handshake (metrics label, log field). */
export function tlsFailureReason(err: NodeJS.ErrnoException): string {
  const code = `${err.code ?? ''} ${err.message}`.toUpperCase();
  if (code.includes('HANDSHAKE_TIMEOUT')) return 'handshake_timeout';
  if (code.includes('PEER_DID_NOT_RETURN_A_CERTIFICATE') || code.includes('NO CERTIFICATE')) return 'no_certificate';
  if (code.includes('EXPIRED')) return 'expired';
  if (code.includes('NOT YET VALID') || code.includes('NOT_YET_VALID')) return 'not_yet_valid';
  if (code.includes('CERTIFICATE_VERIFY_FAILED') || code.includes('UNKNOWN_CA') || code.includes('CERTIFICATE VERIFY FAILED')) return 'untrusted';
  if (code.includes('PROTOCOL') || code.includes('VERSION')) return 'protocol';
  if (code.includes('ECONNRESET')) return 'reset';
  return 'handshake_failed';
}
