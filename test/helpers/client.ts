/**
 * A Salesforce stand-in: mTLS requests over real sockets, with full control of what is sent
 * (raw bytes when a test needs to break HTTP itself).
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

export interface ClientIdentity {
  readonly cert?: string;
  readonly key?: string;
  readonly ca: string;
}

export interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface PostOptions {
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Record<string, string | number>;
  readonly body?: string | Buffer;
  readonly agent?: https.Agent | false;
  readonly localAddress?: string;
  readonly host?: string;
  readonly timeoutMs?: number;
}

/** One request through node:https with a client certificate. */
export function post(port: number, id: ClientIdentity, opts: PostOptions = {}): Promise<Answer> {
  const body = opts.body ?? '';
  return new Promise<Answer>((resolve, reject) => {
    const req = https.request({
      host: opts.host ?? '127.0.0.1',
      port,
      path: opts.path ?? '/outbound/contact',
      method: opts.method ?? 'POST',
      ca: id.ca,
      ...(id.cert ? { cert: id.cert } : {}),
      ...(id.key ? { key: id.key } : {}),
      servername: 'localhost',
      agent: opts.agent ?? false,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      headers: {
        'Content-Type': 'text/xml; charset=utf-8',
        SOAPAction: '""',
        ...(typeof body === 'string' || Buffer.isBuffer(body) ? { 'Content-Length': Buffer.byteLength(body) } : {}),
        ...opts.headers,
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs ?? 15_000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens an mTLS connection and resolves once the handshake is done (or rejects with its error). */
export function connectTls(port: number, id: ClientIdentity, extra: tls.ConnectionOptions & { localAddress?: string } = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1', port, ca: id.ca, servername: 'localhost',
      ...(id.cert ? { cert: id.cert } : {}), ...(id.key ? { key: id.key } : {}), ...extra,
    }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Writes raw bytes on an established TLS socket and collects everything until the peer closes or `idleMs` passes. */
export function exchangeRaw(socket: tls.TLSSocket, bytes: string | Buffer, idleMs = 1500): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    let timer = setTimeout(done, idleMs);
    function done(): void {
      socket.removeAllListeners('data');
      resolve(out);
    }
    socket.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      clearTimeout(timer);
      timer = setTimeout(done, idleMs);
    });
    socket.once('close', () => { clearTimeout(timer); done(); });
    socket.once('error', () => undefined);
    socket.write(bytes);
  });
}

/**
 * Opens a plain TCP connection, optionally from a given local address, and reports whether the
 * peer closed it without sending a byte (what a denied source sees).
 */
export function tcpProbe(port: number, localAddress?: string, host = '127.0.0.1'): Promise<{ closed: boolean; bytes: number }> {
  return new Promise((resolve) => {
    let bytes = 0;
    const s = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) }, () => {
      // A ClientHello-ish first byte: a TLS server would answer; a gate drops the socket instead.
      s.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00]));
    });
    const t = setTimeout(() => { s.destroy(); resolve({ closed: false, bytes }); }, 3000);
    s.on('data', (d: Buffer) => { bytes += d.length; });
    s.on('error', () => undefined);
    s.on('close', () => { clearTimeout(t); resolve({ closed: true, bytes }); });
  });
}

/** Everything the peer sends on `socket` until it closes the connection. */
export function readUntilClose(socket: tls.TLSSocket): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    socket.on('data', (d: Buffer) => { out += d.toString(); });
    socket.on('close', () => resolve(out));
    socket.on('error', () => undefined);
  });
}
