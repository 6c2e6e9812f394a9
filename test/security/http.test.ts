/**
 * Hostile HTTP, as raw bytes over mTLS where node:https would refuse to send them.
 *
 * The attacks: bodies past the size cap (chunked, so no Content-Length can be refused up
 * front), a Content-Length that lies, slowloris heads and bodies, connections opened and held
 * idle to use up every slot, pipelining, request smuggling (CL+TE, two Content-Lengths,
 * obs-fold, bare LF: forms two parsers may frame differently), huge or many headers, other
 * methods (CONNECT included), media types, paths, HTTP versions, and `Expect`.
 *
 * The defence: Node's strict llhttp parser refuses every ambiguous framing; the gateway answers
 * those with a 400 fault and closes (net/listener.ts). The body reader counts bytes and stops at
 * the cap, then the connection is closed after the 413, so a client cannot make the gateway read
 * on. Header, request and first-request timeouts close slow and idle connections; the connection
 * caps refuse excess sockets before TLS. Method, path (exact, no decoding), media type and
 * encoding are checked before a byte of body is read. Each refusal is logged with its code and
 * nothing reaches the internal service.
 */
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTls, exchangeRaw, tcpProbe } from '../helpers/client.js';
import type { Harness } from '../helpers/gateway.js';
import type { Pki } from '../helpers/pki.js';
import { addresses, flood, largeMessage, tally } from '../load/flood.js';
import {
  closedAfter, expectRejected, expectValidAccepted, faultCode, parseAnswers, parsedLines, attackSuite, validMessage, viaRaw,
  type Outcome, startGateway } from './expect-rejected.js';

const LIMITS = { maxBodyBytes: 65_536, handshakeTimeoutMs: 1000, headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 1000 };

let pki: Pki;
let h: Harness;
let body: string;
let length: number;
beforeAll(async () => {
  ({ pki, body } = await attackSuite());
  length = Buffer.byteLength(body);
  h = await startGateway((raw) => { Object.assign(raw.limits as object, LIMITS); }, { pki });
});
afterAll(async () => {
  await h.close();
  await pki.cleanup();
});

/** A request head (CRLF line ends) with `lines` after Host, then the body. */
function request(lines: readonly string[], content = body, start = 'POST /outbound/contact HTTP/1.1'): string {
  return `${start}\r\nHost: gateway.example\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n${content}`;
}
const XML = 'Content-Type: text/xml; charset=utf-8';
const cl = (n: number = length): string => `Content-Length: ${n}`;

describe('bodies past the cap', () => {
  /**
   * Streams a chunked body of up to `total` bytes, respecting back-pressure, until the gateway
   * closes the connection. Returns what came back and how much was sent by then.
   */
  async function streamChunked(total: number): Promise<{ outcome: Outcome; sent: number; closed: boolean }> {
    const socket = await connectTls(h.port, h.salesforce);
    let data = '';
    let closed = false;
    socket.on('data', (d: Buffer) => { data += d.toString(); });
    socket.on('error', () => undefined);
    const closing = new Promise<void>((resolve) => socket.once('close', () => { closed = true; resolve(); }));
    socket.write(`POST /outbound/contact HTTP/1.1\r\nHost: x\r\n${XML}\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = `4000\r\n${'A'.repeat(0x4000)}\r\n`;
    let sent = 0;
    while (!closed && sent < total) {
      sent += 0x4000;
      // events.once rejects on 'error': the gateway closing mid-body (EPIPE) is the outcome under test.
      if (!socket.write(chunk)) await Promise.race([once(socket, 'drain').catch(() => undefined), closing]);
    }
    if (!closed) socket.write('0\r\n\r\n');
    await Promise.race([closing, new Promise((r) => setTimeout(r, 3000))]);
    socket.destroy();
    const [answer] = parseAnswers(data);
    return { outcome: answer ?? { kind: 'closed', detail: 'no answer' }, sent, closed };
  }

  it('answers 413 to a chunked body past maxBodyBytes and closes before the client has sent it all', async () => {
    const total = 64 * 1024 * 1024;
    let sent = 0;
    let closed = false;
    await expectRejected(h, async () => {
      const r = await streamChunked(total);
      sent = r.sent;
      closed = r.closed;
      return r.outcome;
    }, { status: 413, code: 'GW_ERR_BODY_TOO_LARGE' }, { maxMs: 5000 });
    console.log(`chunked body past the cap: the gateway closed after the client had sent ${(sent / 1048576).toFixed(1)} MiB of ${total / 1048576} MiB`);
    expect(closed).toBe(true);
    expect(sent).toBeLessThan(total / 4);
  });

  it('answers 413 to a declared Content-Length past the cap without reading the body', async () => {
    await expectRejected(h, viaRaw(h, request([XML, cl(10_000_000)], '')), { status: 413, code: 'GW_ERR_BODY_TOO_LARGE' }, { maxMs: 1000 });
  });
});

describe('a refused request with a large body', () => {
  it('still gets its fault: the body is read and thrown away, not reset under the answer', async () => {
    // default maxBodyBytes (5 MiB): 2 MB bodies to a path with no route
    const big = await startGateway((raw) => { raw.allowlist = { cidrs: ['127.0.0.0/8'] }; }, { pki });
    try {
      const bodyFile = path.join(pki.dir, 'refused-large.xml');
      await writeFile(bodyFile, largeMessage(2_000_000));
      const results = await flood(big, { bodyFile, path: '/no/route', connections: addresses(4, 1, 51) });
      expect(tally(results)).toEqual({ '404 GW_ERR_NOT_FOUND': 4 });
      expect(big.logs.requests().map((r) => r.reason)).toEqual(Array(4).fill('GW_ERR_NOT_FOUND'));
      expect(big.upstream.received).toHaveLength(0);
    } finally {
      await big.close();
    }
  });
});

describe('a Content-Length that lies', () => {
  it('shorter than the body: the declared bytes are the request (cut XML, 400), the rest is refused and the connection closed', async () => {
    const { records } = await expectRejected(h, viaRaw(h, request([XML, cl(100)])), { status: 400, code: 'GW_ERR_XML_MALFORMED' }, { maxMs: 1500 });
    expect(records.some((r) => r.event === 'request' && r.reason === 'GW_ERR_BAD_REQUEST')).toBe(true);
  });

  it('longer than the body: the gateway waits at most requestTimeoutMs, answers 408 and closes', async () => {
    await expectRejected(h, viaRaw(h, request([XML, cl(length + 500)]), { idleMs: 3000 }), { status: 408, code: 'GW_ERR_REQUEST_TIMEOUT' }, { maxMs: LIMITS.requestTimeoutMs + 1500 });
  });

  it('longer than the body, then the client half-closes: 400 body incomplete', async () => {
    await expectRejected(h, async () => {
      const socket = await connectTls(h.port, h.salesforce);
      const answer = exchangeRaw(socket, request([XML, cl(length + 500)]), 1500);
      socket.end();
      const [first] = parseAnswers(await answer);
      socket.destroy();
      return first ?? { kind: 'closed', detail: 'no answer' };
    }, { status: 400, code: 'GW_ERR_BODY_INCOMPLETE' }, { maxMs: 1500 });
  });

  it('a client that half-closes right after its request gets no answer (Node aborts it), and the request is still logged', async () => {
    const firstLine = h.logs.lines.length;
    const before = h.upstream.received.length;
    const socket = await connectTls(h.port, h.salesforce);
    let data = '';
    socket.on('data', (d: Buffer) => { data += d.toString(); });
    socket.on('error', () => undefined);
    socket.end(request([XML, cl()]));
    await Promise.race([closedAfter(socket), new Promise((r) => setTimeout(r, 3000))]);
    socket.destroy();
    expect(data).toBe('');
    let line: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && !line; i++) {
      line = parsedLines(h.logs.lines.slice(firstLine)).find((r) => r.event === 'request');
      if (!line) await new Promise((r) => setTimeout(r, 20));
    }
    expect(line).toMatchObject({ reason: 'GW_ERR_CLIENT_CLOSED', status: 499 });
    // forwarded or not depends on when the close is seen; if it was, the log says so
    const forwarded = h.upstream.received.length - before;
    expect(forwarded).toBeLessThanOrEqual(1);
    expect(line!.upstreamStatus).toBe(forwarded === 1 ? 200 : null);
    await expectValidAccepted(h);
  });

  it('a valid request followed by bytes that are not HTTP: the request keeps its own answer, the rest is refused, the connection closed', async () => {
    const before = h.upstream.received.length;
    const firstLine = h.logs.lines.length;
    const socket = await connectTls(h.port, h.salesforce);
    const text = await exchangeRaw(socket, `${request([XML, cl()])}GARBAGE / HTTP/1.1\r\n\r\n`, 1500);
    const closed = socket.destroyed || socket.readableEnded;
    socket.destroy();
    const answers = parseAnswers(text);
    expect(answers).toHaveLength(1);
    expect(answers[0]!.status).toBe(200);
    expect(answers[0]!.body).toContain('<Ack>true</Ack>');
    expect(answers[0]!.headers.connection).toBe('close');
    expect(closed).toBe(true);
    expect(h.upstream.received.length).toBe(before + 1);
    const reasons = h.logs.records().slice(firstLine).filter((r) => r.event === 'request').map((r) => r.reason);
    expect(reasons.sort()).toEqual(['GW_ERR_BAD_REQUEST', 'OK']);
    await expectValidAccepted(h);
  });
});

describe('slow and idle peers', () => {
  it('answers 408 and closes when headers trickle in past headersTimeoutMs (slowloris)', async () => {
    await expectRejected(h, async () => {
      const socket = await connectTls(h.port, h.salesforce);
      let data = '';
      socket.on('data', (d: Buffer) => { data += d.toString(); });
      socket.on('error', () => undefined);
      socket.write('POST /outbound/contact HTTP/1.1\r\nHost: x\r\n');
      const timer = setInterval(() => { if (!socket.destroyed) socket.write('X-Slow: 1\r\n'); }, 150);
      await closedAfter(socket);
      clearInterval(timer);
      return parseAnswers(data)[0] ?? { kind: 'closed', detail: 'no answer' };
    }, { status: 408, code: 'GW_ERR_REQUEST_TIMEOUT' }, { maxMs: LIMITS.headersTimeoutMs + 1000 });
  });

  it('answers 408 and closes when the body trickles in past requestTimeoutMs (slow POST)', async () => {
    await expectRejected(h, async () => {
      const socket = await connectTls(h.port, h.salesforce);
      let data = '';
      socket.on('data', (d: Buffer) => { data += d.toString(); });
      socket.on('error', () => undefined);
      socket.write(request([XML, cl()], ''));
      let i = 0;
      const timer = setInterval(() => { if (!socket.destroyed) socket.write(body[i++] ?? ''); }, 100);
      await closedAfter(socket);
      clearInterval(timer);
      return parseAnswers(data)[0] ?? { kind: 'closed', detail: 'no answer' };
    }, { status: 408, code: 'GW_ERR_REQUEST_TIMEOUT' }, { maxMs: LIMITS.requestTimeoutMs + 1000 });
  });

  it('closes a connection that completes the handshake and then sends nothing, at headersTimeoutMs', async () => {
    await expectRejected(h, async () => {
      const socket = await connectTls(h.port, h.salesforce);
      let data = '';
      socket.on('data', (d: Buffer) => { data += d.toString(); });
      socket.on('error', () => undefined);
      const elapsed = await Promise.race([closedAfter(socket), new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]);
      socket.destroy();
      expect(elapsed, 'idle connection still open after 10 s').toBeGreaterThan(0);
      return parseAnswers(data)[0] ?? { kind: 'closed', detail: 'no answer' };
    }, { status: 408, code: 'GW_ERR_REQUEST_TIMEOUT' }, { maxMs: LIMITS.headersTimeoutMs + 1000 });
  });
});

describe('connections held idle up to and past the caps', () => {
  let caps: Harness;
  beforeAll(async () => {
    caps = await startGateway((raw) => {
      raw.allowlist = { cidrs: ['127.0.0.0/8'] };
      Object.assign(raw.limits as object, { ...LIMITS, maxConnections: 4, maxConnectionsPerIp: 2 });
    }, { pki });
  });
  afterAll(() => caps.close());

  it('refuses the connection past maxConnectionsPerIp and past maxConnections before TLS, then frees every slot at the idle deadline', async () => {
    const held = await Promise.all(['127.0.0.11', '127.0.0.11', '127.0.0.12', '127.0.0.12']
      .map((localAddress) => connectTls(caps.port, caps.salesforce, { localAddress })));
    // read, so the client notices the gateway closing
    for (const s of held) { s.on('error', () => undefined); s.resume(); }
    const closing = held.map((s) => closedAfter(s));
    // global cap: a fifth address
    await expectRejected(caps, async () => {
      const probe = await tcpProbe(caps.port, '127.0.0.13');
      return probe.closed && probe.bytes === 0 ? { kind: 'closed', detail: 'before TLS' } : { kind: 'answer', status: 0, body: '', headers: {}, raw: '' };
    }, { refused: 'connection_limit' }, { maxMs: 1000, followUp: false });
    // the idle connections are closed at the first-request deadline, which frees the slots
    const times = await Promise.all(closing);
    expect(Math.max(...times)).toBeLessThan(LIMITS.headersTimeoutMs + 1000);
    await new Promise((r) => setTimeout(r, 50));
    expect(caps.gateway.openConnections).toBe(0);
    await expectValidAccepted(caps, { localAddress: '127.0.0.13' });
    // per-address cap: two from one address held, a third refused
    const two = await Promise.all([0, 1].map(() => connectTls(caps.port, caps.salesforce, { localAddress: '127.0.0.14' })));
    for (const s of two) { s.on('error', () => undefined); s.resume(); }
    await expectRejected(caps, async () => {
      const probe = await tcpProbe(caps.port, '127.0.0.14');
      return probe.closed && probe.bytes === 0 ? { kind: 'closed', detail: 'before TLS' } : { kind: 'answer', status: 0, body: '', headers: {}, raw: '' };
    }, { refused: 'per_ip_limit' }, { maxMs: 1000, followUp: { localAddress: '127.0.0.15' } });
    for (const s of two) s.destroy();
  });
});

describe('pipelining', () => {
  it('answers two pipelined valid requests in order', async () => {
    const before = h.upstream.received.length;
    const socket = await connectTls(h.port, h.salesforce);
    const text = await exchangeRaw(socket, request([XML, cl()]) + request([XML, cl()]), 800);
    socket.destroy();
    const answers = parseAnswers(text);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(answers.every((a) => a.body.includes('<Ack>true</Ack>'))).toBe(true);
    expect(h.upstream.received.length).toBe(before + 2);
  });

  it('closes after a refused request whose body was not read: what was pipelined behind it is not served', async () => {
    const before = h.upstream.received.length;
    const socket = await connectTls(h.port, h.salesforce);
    const text = await exchangeRaw(socket, request([XML, cl()]) + request(['Content-Type: application/json', cl()]) + request([XML, cl()]), 800);
    socket.destroy();
    const answers = parseAnswers(text);
    expect(answers.map((a) => a.status)).toEqual([200, 415]);
    expect(faultCode(answers[1]!.body)).toBe('GW_ERR_UNSUPPORTED_MEDIA_TYPE');
    expect(h.upstream.received.length).toBe(before + 1);
    // the third was parsed (Node emits pipelined requests at once), refused, and logged
    expect(h.logs.requests().slice(-3).map((r) => r.reason).sort()).toEqual(['GW_ERR_BAD_REQUEST', 'GW_ERR_UNSUPPORTED_MEDIA_TYPE', 'OK']);
    await expectValidAccepted(h);
  });

  it('forwards nothing pipelined past maxRequestsPerSocket: the last answer closes the connection', async () => {
    const small = await startGateway((raw) => { Object.assign(raw.limits as object, { ...LIMITS, maxRequestsPerSocket: 2 }); }, { pki });
    try {
      const socket = await connectTls(small.port, small.salesforce);
      const text = await exchangeRaw(socket, request([XML, cl()]).repeat(4), 800);
      socket.destroy();
      const answers = parseAnswers(text);
      expect(answers.map((a) => a.status)).toEqual([200, 200]);
      expect(answers[1]!.headers.connection).toBe('close');
      expect(small.upstream.received).toHaveLength(2);
      expect(small.logs.requests().map((r) => r.reason).sort()).toEqual(['GW_ERR_BAD_REQUEST', 'GW_ERR_BAD_REQUEST', 'OK', 'OK']);
    } finally {
      await small.close();
    }
  });
});

describe('request smuggling: every ambiguous framing is refused with 400 and the connection closed', () => {
  const chunked = (content: string): string => `${Buffer.byteLength(content).toString(16)}\r\n${content}\r\n0\r\n\r\n`;
  const smuggled = (): string => `POST /outbound/json HTTP/1.1\r\nHost: x\r\n${XML}\r\n${cl()}\r\n\r\n${body}`;
  it.each([
    ['Content-Length with Transfer-Encoding (CL.TE)', () => request([XML, cl(), 'Transfer-Encoding: chunked'])],
    ['Transfer-Encoding with Content-Length (TE.CL), smuggling a second request', () => request([XML, 'Transfer-Encoding: chunked', cl(4)], `0\r\n\r\n${smuggled()}`)],
    ['two equal Content-Lengths', () => request([XML, cl(), cl()])],
    ['two different Content-Lengths', () => request([XML, cl(), cl(5)])],
    ['a Content-Length list', () => request([XML, `Content-Length: ${length}, ${length}`])],
    ['obs-fold (a folded header line)', () => request([XML, cl(), 'X-Folded: a', ' b'])],
    ['a folded Transfer-Encoding', () => request([XML, 'Transfer-Encoding:', ' chunked'], chunked(body))],
    ['bare LF line ends', () => request([XML, cl()]).replace(/\r\n/g, '\n')],
    ['one bare LF in the head', () => request([XML, cl()]).replace('Host: gateway.example\r\n', 'Host: gateway.example\n')],
    ['Transfer-Encoding: chunked, identity', () => request([XML, 'Transfer-Encoding: chunked, identity'], chunked(body))],
    ['Transfer-Encoding: xchunked', () => request([XML, 'Transfer-Encoding: xchunked'], chunked(body))],
    ['a space before the colon', () => request([XML, `Content-Length : ${length}`])],
    ['a control character in a header value', () => request([XML, cl(), 'X-A: \u001b[31mred'])],
    ['an invalid chunk size', () => request([XML, 'Transfer-Encoding: chunked'], `zz\r\n${body}\r\n0\r\n\r\n`)],
    ['HTTP/2 prior knowledge', () => 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
    ['HTTP/1.2', () => request([XML, cl()], body, 'POST /outbound/contact HTTP/1.2')],
  ])('refuses %s', async (_name, bytes) => {
    await expectRejected(h, viaRaw(h, bytes()), { status: 400, code: 'GW_ERR_BAD_REQUEST' }, { maxMs: 1500 });
  });
});

describe('headers', () => {
  it('refuses one huge header with 431', async () => {
    await expectRejected(h, viaRaw(h, request([XML, cl(), `X-Big: ${'a'.repeat(20_000)}`])), { status: 431, code: 'GW_ERR_HEADERS_TOO_LARGE' }, { maxMs: 1500 });
  });

  it('refuses many small headers with 431 rather than silently dropping those past the hundredth', async () => {
    const many = Array.from({ length: 150 }, (_, i) => `X-Pad-${i}: 1`);
    await expectRejected(h, viaRaw(h, request([XML, cl(), ...many])), { status: 431, code: 'GW_ERR_HEADERS_TOO_LARGE' }, { maxMs: 1500 });
    // Content-Type after the padding: refused for the count, not misread as missing
    await expectRejected(h, viaRaw(h, request([...many, XML, cl()])), { status: 431, code: 'GW_ERR_HEADERS_TOO_LARGE' }, { maxMs: 1500 });
  });

  it('accepts a head of ordinary size with a few dozen headers', async () => {
    const some = Array.from({ length: 40 }, (_, i) => `X-Pad-${i}: 1`);
    const socket = await connectTls(h.port, h.salesforce);
    const [answer] = parseAnswers(await exchangeRaw(socket, request([XML, cl(), ...some]), 500));
    socket.destroy();
    expect(answer?.status).toBe(200);
  });

  it('refuses an HTTP/1.1 request without a Host, or with two', async () => {
    await expectRejected(h, viaRaw(h, `POST /outbound/contact HTTP/1.1\r\n${XML}\r\n${cl()}\r\n\r\n${body}`), { status: 400, code: 'GW_ERR_BAD_REQUEST' }, { maxMs: 1500 });
    await expectRejected(h, viaRaw(h, request([XML, cl(), 'Host: other.example'])), { status: 400, code: 'GW_ERR_BAD_REQUEST' }, { maxMs: 1500 });
  });
});

describe('methods, media types and paths', () => {
  it.each(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND'])('refuses %s with 405', async (method) => {
    await expectRejected(h, viaRaw(h, request([XML, cl()], body, `${method} /outbound/contact HTTP/1.1`)), { status: 405, code: 'GW_ERR_METHOD_NOT_ALLOWED' }, { maxMs: 1500 });
  });

  it('refuses HEAD with 405 (no body in the answer, as HEAD requires)', async () => {
    const firstLine = h.logs.lines.length;
    const socket = await connectTls(h.port, h.salesforce);
    const text = await exchangeRaw(socket, 'HEAD /outbound/contact HTTP/1.1\r\nHost: x\r\n\r\n', 500);
    socket.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 405 /);
    expect(h.logs.records().slice(firstLine).some((r) => r.reason === 'GW_ERR_METHOD_NOT_ALLOWED')).toBe(true);
    await expectValidAccepted(h);
  });

  it('refuses CONNECT with 405 and closes (no tunnel)', async () => {
    await expectRejected(h, viaRaw(h, 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n'), { status: 405, code: 'GW_ERR_METHOD_NOT_ALLOWED' }, { maxMs: 1500 });
  });

  it('treats an Upgrade request as an ordinary request (no protocol switch)', async () => {
    const socket = await connectTls(h.port, h.salesforce);
    const [answer] = parseAnswers(await exchangeRaw(socket, request([XML, cl(), 'Connection: Upgrade', 'Upgrade: websocket']), 500));
    socket.destroy();
    expect(answer?.status).toBe(200);
  });

  it.each([
    ['no Content-Type', []],
    ['application/json', ['Content-Type: application/json']],
    ['application/soap+xml (SOAP 1.2)', ['Content-Type: application/soap+xml; charset=utf-8']],
    ['multipart/related (MTOM)', ['Content-Type: multipart/related; type="application/xop+xml"']],
    ['text/html', ['Content-Type: text/html']],
    ['text/xmlx', ['Content-Type: text/xmlx']],
    ['a list of types', ['Content-Type: text/xml, application/json']],
  ])('refuses the media type: %s', async (_name, lines) => {
    await expectRejected(h, viaRaw(h, request([...lines, cl()])), { status: 415, code: 'GW_ERR_UNSUPPORTED_MEDIA_TYPE' }, { maxMs: 1500 });
  });

  it.each(['gzip', 'deflate', 'br', 'identity'])('refuses Content-Encoding: %s', async (coding) => {
    await expectRejected(h, viaRaw(h, request([XML, cl(), `Content-Encoding: ${coding}`])), { status: 415, code: 'GW_ERR_CONTENT_ENCODING' }, { maxMs: 1500 });
  });

  it.each([
    '/outbound/contact/', '/OUTBOUND/contact', '/outbound/%63ontact', '/outbound/./contact', '/outbound/x/../contact',
    '//outbound/contact', '/outbound/contact;x=1', '/outbound/contact%00', '/outbound/contact%2f', '*',
    'https://gateway.example/outbound/contact', '/outbound/contact#frag',
  ])('refuses the path %s with 404 (exact match, no decoding)', async (target) => {
    await expectRejected(h, viaRaw(h, request([XML, cl()], body, `POST ${target} HTTP/1.1`)), { status: 404, code: 'GW_ERR_NOT_FOUND' }, { maxMs: 1500 });
  });

  it('ignores a query string (never forwarded)', async () => {
    const socket = await connectTls(h.port, h.salesforce);
    const [answer] = parseAnswers(await exchangeRaw(socket, request([XML, cl()], body, 'POST /outbound/contact?x=1&admin=true HTTP/1.1'), 500));
    socket.destroy();
    expect(answer?.status).toBe(200);
    expect(h.upstream.received.at(-1)!.url).toBe('/contact');
  });
});

describe('HTTP versions and Expect', () => {
  it('serves an HTTP/1.0 request, then closes the connection', async () => {
    const before = h.upstream.received.length;
    const socket = await connectTls(h.port, h.salesforce);
    const text = await exchangeRaw(socket, `POST /outbound/contact HTTP/1.0\r\n${XML}\r\n${cl()}\r\n\r\n${body}`, 1000);
    const closed = socket.destroyed || socket.readableEnded;
    socket.destroy();
    const [answer] = parseAnswers(text);
    expect(answer?.status).toBe(200);
    expect(answer?.body).toContain('<Ack>true</Ack>');
    expect(answer?.headers.connection).toBe('close');
    expect(closed).toBe(true);
    expect(h.upstream.received.length).toBe(before + 1);
  });

  it('answers Expect: 100-continue with 100 once the head is accepted, then the Ack', async () => {
    const socket = await connectTls(h.port, h.salesforce);
    const interim = await exchangeRaw(socket, request([XML, cl(), 'Expect: 100-continue'], ''), 300);
    expect(interim).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    const text = await exchangeRaw(socket, body, 500);
    socket.destroy();
    const [answer] = parseAnswers(text);
    expect(answer?.status).toBe(200);
    expect(answer?.body).toContain('<Ack>true</Ack>');
  });

  it('refuses a bad head with Expect: 100-continue at once, without asking for the body', async () => {
    const { outcome } = await expectRejected(h, viaRaw(h, request(['Content-Type: application/json', cl(), 'Expect: 100-continue'], '')), { status: 415, code: 'GW_ERR_UNSUPPORTED_MEDIA_TYPE' }, { maxMs: 1500 });
    expect(outcome.kind === 'answer' && outcome.raw).not.toContain('100 Continue');
    const big = await expectRejected(h, viaRaw(h, request([XML, cl(10_000_000), 'Expect: 100-continue'], '')), { status: 413, code: 'GW_ERR_BODY_TOO_LARGE' }, { maxMs: 1500 });
    expect(big.outcome.kind === 'answer' && big.outcome.raw).not.toContain('100 Continue');
  });

  it('refuses an expectation other than 100-continue with a logged fault', async () => {
    await expectRejected(h, viaRaw(h, request([XML, cl(), 'Expect: 200-ok'])), { status: 400, code: 'GW_ERR_BAD_REQUEST' }, { maxMs: 1500 });
  });
});

it('still serves the pinned client at the end of the suite', async () => {
  await expectValidAccepted(h);
  expect(validMessage()).toBe(body);
});
