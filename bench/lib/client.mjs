/**
 * The load generator's HTTP/1.1 client: raw `tls.connect` (or `net.connect` for plain http)
 * sockets, one prebuilt request written with one write, and a strict response reader
 * (response-reader.mjs). It replaces node:https and its Agent, whose per-request cost (request
 * and response objects, header handling, streams, and in new-connection mode a SecureContext
 * built from the PEM files for every request) made the single-core load generator the
 * bottleneck: the servers ran at a fraction of a core and their CPU per request carried the
 * cost of waking up for every request.
 *
 * One SecureContext per job (TLS 1.3 only). No session is ever offered (no `session` option;
 * Node's client context keeps no internal session cache), so every connection is a full
 * handshake; handshakes, resumed sessions, protocol, cipher and key exchange are counted.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { ResponseReader } from './response-reader.mjs';

const HOST = '127.0.0.1';
const ACK_TRUE = Buffer.from('<Ack>true</Ack>');

/**
 * Where a job's requests go and how to connect: `job.target` ({ protocol, port, path }),
 * `job.tls` (file paths), and the job's stats for handshake counts. `open` counts connections
 * kept open after an answer (the connections job reads it).
 */
export class Target {
  #port;
  #path;
  #context;
  #stats;
  open = 0;

  constructor(job, stats) {
    this.#port = job.target.port;
    this.#path = job.target.path;
    this.#stats = stats;
    this.#context = job.target.protocol === 'https' ? tls.createSecureContext({
      cert: readFileSync(job.tls.cert),
      key: readFileSync(job.tls.key),
      ca: readFileSync(job.tls.ca),
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
    }) : null;
  }

  /** The whole request, head and body, as one Buffer; `close` asks for `Connection: close`. */
  request(body, { close = false } = {}) {
    const head = `POST ${this.#path} HTTP/1.1\r\nHost: ${HOST}:${this.#port}\r\n` +
      `Content-Type: text/xml; charset=utf-8\r\nSOAPAction: ""\r\nContent-Length: ${body.length}\r\n` +
      `Connection: ${close ? 'close' : 'keep-alive'}\r\n\r\n`;
    return { bytes: Buffer.concat([Buffer.from(head, 'latin1'), body]), close };
  }

  connect() {
    // Nagle off: the tail segment of a large request must not wait for the server's ACK.
    // (tls.connect ignores a `noDelay` option; setNoDelay reaches the TCP handle.)
    if (this.#context === null) return net.connect({ host: HOST, port: this.#port }).setNoDelay(true);
    const socket = tls.connect({ host: HOST, port: this.#port, secureContext: this.#context, rejectUnauthorized: true }).setNoDelay(true);
    const stats = this.#stats;
    socket.once('secureConnect', () => {
      stats.handshakes++;
      if (socket.isSessionReused()) stats.resumed++;
      stats.protocol ??= socket.getProtocol();
      stats.cipher ??= socket.getCipher()?.name ?? null;
      stats.keyExchange ??= socket.getEphemeralKeyInfo()?.name ?? null;
    });
    return socket;
  }
}

/**
 * One connection at a time, one request at a time: connects on the first request and again
 * whenever the previous socket closed (the server's `Connection: close`, its idle timeout, an
 * error, or a request sent with `close`).
 */
export class Connection {
  #target;
  #socket = null;
  #reader = new ResponseReader();
  /** The request in flight: { resolve, startNs, close } or null. */
  #pending = null;
  #timeoutMs = 0;
  #counted = null;

  constructor(target) {
    this.#target = target;
  }

  get connected() {
    return this.#socket !== null;
  }

  /**
   * Sends `request` (from Target.request) and resolves { ok, what, ns } once the answer is in
   * or the request failed (never rejects); `ns` counts from `startNs`. `timeoutMs` is the
   * socket's inactivity limit while the request is in flight, as `req.setTimeout` was.
   */
  send(request, startNs, timeoutMs) {
    return new Promise((resolve) => {
      if (this.#socket === null) this.#open(timeoutMs);
      else if (timeoutMs !== this.#timeoutMs) {
        this.#socket.setTimeout(timeoutMs);
        this.#timeoutMs = timeoutMs;
      }
      this.#pending = { resolve, startNs, close: request.close };
      this.#reader.reset();
      this.#socket.write(request.bytes);
    });
  }

  close() {
    this.#socket?.destroy();
    this.#socket = null;
  }

  #open(timeoutMs) {
    const socket = this.#target.connect();
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    socket.setTimeout(timeoutMs);
    // Events of a socket this connection has let go of are ignored.
    socket.on('data', (chunk) => { if (socket === this.#socket) this.#data(socket, chunk); });
    socket.on('end', () => { if (socket === this.#socket) this.#ended(socket); });
    socket.on('error', (e) => { if (socket === this.#socket) this.#fail(socket, e.code ?? e.message); });
    socket.on('close', () => { if (socket === this.#socket) this.#fail(socket, 'ECONNRESET'); });
    socket.on('timeout', () => {
      // An idle keep-alive socket may time out: only a request in flight fails.
      if (socket === this.#socket && this.#pending !== null) this.#fail(socket, 'timeout', 'request');
    });
  }

  #data(socket, chunk) {
    if (this.#pending === null) {
      // Bytes nobody asked for: the connection cannot be trusted for another request.
      this.#drop(socket);
      return;
    }
    let left;
    try {
      left = this.#reader.push(chunk);
    } catch (e) {
      this.#fail(socket, e.message, 'request');
      return;
    }
    if (left >= 0) this.#done(socket, left === 0);
  }

  #ended(socket) {
    if (this.#pending !== null && this.#reader.end()) this.#done(socket, false);
    else this.#fail(socket, 'ECONNRESET');
  }

  #done(socket, reusable) {
    const { resolve, startNs, close } = this.#pending;
    this.#pending = null;
    const reader = this.#reader;
    // A request whose body the server did not wait for leaves the connection out of step.
    if (reusable && !close && !reader.close && socket.writableLength === 0) this.#countOpen(socket);
    else this.#drop(socket);
    const ns = Number(process.hrtime.bigint() - startNs);
    const body = reader.body();
    if (reader.status === 200 && body.includes(ACK_TRUE)) resolve({ ok: true, what: undefined, ns });
    else resolve({ ok: false, what: `status ${reader.status}: ${body.toString('utf8').replace(/\s+/g, ' ').slice(-160)}`, ns });
  }

  /**
   * Lets the socket go and fails the request in flight, if any, as node:http reported it:
   * `request: <code>` before the answer's head, `answer: <code>` after it.
   */
  #fail(socket, what, stage = this.#reader.headDone ? 'answer' : 'request') {
    this.#socket = null;
    socket.destroy();
    const pending = this.#pending;
    if (pending === null) return;
    this.#pending = null;
    pending.resolve({ ok: false, what: `${stage}: ${what}`, ns: Number(process.hrtime.bigint() - pending.startNs) });
  }

  /** Closes the socket after an answer, as node:http does (end, then destroy once flushed). */
  #drop(socket) {
    this.#socket = null;
    // Unsent bytes (a body the server answered early) would keep the socket waiting.
    if (socket.writableLength > 0) socket.destroy();
    else socket.end(() => socket.destroy());
  }

  /** Counts the socket in `target.open` once, until it closes (the connections job reads it). */
  #countOpen(socket) {
    if (this.#counted === socket) return;
    this.#counted = socket;
    const target = this.#target;
    target.open++;
    socket.once('close', () => { target.open--; });
  }
}

/**
 * Up to `size` connections shared by requests in arrival order, like an Agent with `maxSockets`
 * and `scheduling: 'fifo'`: a request takes the longest-idle open connection, else opens one
 * while fewer than `size` are open, else waits its turn.
 */
export class Pool {
  #ready = [];
  #unopened;
  #waiting = [];
  #all;

  constructor(target, size) {
    this.#all = Array.from({ length: size }, () => new Connection(target));
    this.#unopened = [...this.#all];
  }

  send(request, startNs, timeoutMs) {
    const conn = this.#ready.shift() ?? this.#unopened.pop();
    if (conn !== undefined) return this.#run(conn, request, startNs, timeoutMs);
    return new Promise((resolve) => this.#waiting.push({ request, startNs, timeoutMs, resolve }));
  }

  close() {
    for (const conn of this.#all) conn.close();
  }

  async #run(conn, request, startNs, timeoutMs) {
    const result = await conn.send(request, startNs, timeoutMs);
    const next = this.#waiting.shift();
    if (next !== undefined) this.#run(conn, next.request, next.startNs, next.timeoutMs).then(next.resolve);
    else (conn.connected ? this.#ready : this.#unopened).push(conn);
    return result;
  }
}
