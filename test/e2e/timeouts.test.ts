/**
 * Timeouts hold within a second of their setting (Node checks header and request timeouts every
 * 30 s unless told otherwise), and keep-alive connections serve at most maxRequestsPerSocket.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTls, exchangeRaw, post, readUntilClose } from '../helpers/client.js';
import { fixture, startHarness, type Harness } from '../helpers/gateway.js';

let h: Harness;
let contact1: string;
beforeAll(async () => {
  contact1 = await fixture('contact-1.xml');
  h = await startHarness((raw) => {
    Object.assign(raw.limits as Record<string, unknown>, {
      handshakeTimeoutMs: 1000, headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 1000, maxRequestsPerSocket: 3,
    });
  });
});
afterAll(() => h.close());

function closedAfter(socket: net.Socket): Promise<number> {
  const started = Date.now();
  return new Promise((resolve) => socket.once('close', () => resolve(Date.now() - started)));
}

describe('timeouts', () => {
  it('drops a connection that never sends a ClientHello at the handshake timeout', async () => {
    const socket = net.connect(h.port, '127.0.0.1');
    socket.on('error', () => undefined);
    const elapsed = await closedAfter(socket);
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(2000);
    expect(h.logs.records().some((r) => r.event === 'tls_failure' && r.reason === 'handshake_timeout')).toBe(true);
  });

  it('answers 408 and closes when headers trickle in past headersTimeout', async () => {
    const socket = await connectTls(h.port, h.salesforce);
    const started = Date.now();
    socket.write('POST /outbound/contact HTTP/1.1\r\nHost: x\r\n');
    const timer = setInterval(() => socket.write('X-Slow: 1\r\n'), 200);
    const text = await readUntilClose(socket);
    clearInterval(timer);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(2000);
    expect(text).toMatch(/^HTTP\/1\.1 408/);
    expect(text).toContain('GW_ERR_REQUEST_TIMEOUT');
  });

  it('closes a request whose body trickles in past requestTimeout', async () => {
    const socket = await connectTls(h.port, h.salesforce);
    const started = Date.now();
    socket.write(`POST /outbound/contact HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${contact1.length}\r\n\r\n`);
    let i = 0;
    const timer = setInterval(() => { if (!socket.destroyed) socket.write(contact1[i++] ?? ''); }, 100);
    const text = await readUntilClose(socket);
    clearInterval(timer);
    expect(Date.now() - started).toBeLessThan(3200);
    expect(text).toMatch(/^HTTP\/1\.1 408/);
    expect(h.upstream.received).toHaveLength(0);
  });
});

describe('keep-alive', () => {
  it('serves up to maxRequestsPerSocket requests on one connection, then closes it', async () => {
    const socket = await connectTls(h.port, h.salesforce);
    const request = `POST /outbound/contact HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(contact1)}\r\n\r\n${contact1}`;
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) answers.push(await exchangeRaw(socket, request, 300));
    expect(answers.every((a) => a.startsWith('HTTP/1.1 200'))).toBe(true);
    expect(answers[2]).toMatch(/connection: close/i);
    const ended = await new Promise<boolean>((resolve) => {
      if (socket.destroyed || socket.readableEnded) return resolve(true);
      const t = setTimeout(() => resolve(false), 1000);
      socket.once('end', () => { clearTimeout(t); resolve(true); });
      socket.once('close', () => { clearTimeout(t); resolve(true); });
      socket.resume();
    });
    expect(ended).toBe(true);
    expect((await post(h.port, h.salesforce, { body: contact1 })).status).toBe(200);
  });
});
