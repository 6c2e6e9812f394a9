/**
 * The client for internal services (forward/upstream.ts) on real sockets: reused buffers, and
 * certificate verification of https services.
 *
 * Bodies in parts are copied into reused buffers before they are sent (forward/upstream.ts). A
 * service may answer before it has read a body: the exchange is over, but the body can still be
 * queued on the connection. Reusing its buffer then would put another message's bytes on the
 * wire in its place. This service answers every request as soon as its head arrives and reads
 * the body only later. (On loopback the system takes in a whole 200 kB body at once, so the
 * queue itself stays empty here; the rule that waits for it is tested in
 * test/unit/http/body-buffers.test.ts. What this test catches is a buffer given back before its
 * body was written.)
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamClient } from '../../../src/forward/upstream.js';

const ACK = '<Ack>true</Ack>';
const BODY_BYTES = 200_000;

interface Stream { chunks: Buffer[]; ended: Promise<void> }

let server: net.Server;
let port: number;
const streams: Stream[] = [];

beforeAll(async () => {
  server = net.createServer((socket) => {
    const stream: Stream = { chunks: [], ended: Promise.resolve() };
    streams.push(stream);
    let head = '';
    let reading = false;
    stream.ended = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      stream.chunks.push(chunk);
      if (reading) return;
      // Answers each head it sees at once, then stops reading for a while.
      head += chunk.toString('latin1');
      const heads = head.split('\r\n\r\n').length - 1;
      head = head.slice(head.lastIndexOf('\r\n\r\n') + 4).slice(-4);
      for (let k = 0; k < heads; k++) {
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: ${ACK.length}\r\n\r\n${ACK}`);
      }
      if (heads > 0) {
        reading = true;
        socket.pause();
        setTimeout(() => { reading = false; socket.resume(); }, 150);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

/** Splits one connection's bytes into request bodies, by each head's Content-Length. */
function bodiesOf(bytes: Buffer): Buffer[] {
  const bodies: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const end = bytes.indexOf('\r\n\r\n', at, 'latin1');
    if (end < 0) break;
    const length = Number(/content-length: (\d+)/i.exec(bytes.subarray(at, end).toString('latin1'))![1]);
    bodies.push(bytes.subarray(end + 4, end + 4 + length));
    at = end + 4 + length;
  }
  return bodies;
}

describe('the reused buffers of bodies sent in parts', () => {
  it('keep each body\'s bytes its own when the service answers before reading it', async () => {
    const client = new UpstreamClient();
    const target = new URL(`http://127.0.0.1:${port}/x`);
    const sent: number[] = [];
    // 60 bodies of 200 kB, each one byte value throughout, two at a time
    let next = 0;
    await Promise.all([0, 1].map(async () => {
      while (next < 60) {
        const mark = 0x30 + (next++ % 64);
        sent.push(mark);
        const half = Buffer.alloc(BODY_BYTES / 2, mark);
        const answer = await client.send({ target, body: [half, Buffer.from(half)], contentType: 'text/xml', requestId: 'r', timeoutMs: 10_000 });
        expect(answer.body.toString()).toBe(ACK);
      }
    }));
    await client.close();
    await Promise.all(streams.map((s) => s.ended));
    const bodies = streams.flatMap((s) => bodiesOf(Buffer.concat(s.chunks)));
    expect(bodies).toHaveLength(60);
    for (const body of bodies) {
      expect(body.length).toBe(BODY_BYTES);
      const mark = body[0]!;
      // every byte of a body is its own
      expect(body.every((b) => b === mark), `a body with bytes of another: ${String.fromCharCode(mark)}`).toBe(true);
    }
    expect(bodies.map((b) => b[0]).sort()).toEqual([...sent].sort());
  });
});

describe('an https internal service', () => {
  it('is refused when its certificate does not verify: nothing is sent to it', async () => {
    const { makePki } = await import('../../helpers/pki.js');
    const https = await import('node:https');
    const pki = await makePki();
    let requests = 0;
    const service = https.createServer({ cert: pki.server.certPem, key: pki.server.keyPem }, (_req, res) => {
      requests++;
      res.end(ACK);
    });
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
    const client = new UpstreamClient();
    try {
      const target = new URL(`https://127.0.0.1:${(service.address() as net.AddressInfo).port}/x`);
      // The test CA is not among the system's: the handshake must fail.
      await expect(client.send({ target, body: Buffer.from('<x/>'), contentType: 'text/xml', requestId: 'r', timeoutMs: 5000 }))
        .rejects.toMatchObject({ code: 'GW_ERR_UPSTREAM_UNAVAILABLE' });
      expect(requests).toBe(0);
    } finally {
      await client.close();
      await new Promise((r) => service.close(r));
      await pki.cleanup();
    }
  });
});
