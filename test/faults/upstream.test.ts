/**
 * Faulty internal services: nothing is lost, and nothing is acknowledged on a guess.
 *
 * The faults: the service refuses the connection, resets it before or in the middle of its
 * answer, never answers, answers one byte at a time past the route's deadline, answers 5xx,
 * answers 200 with garbage, a SOAP Fault or an Ack that is not quite one, answers far more than an
 * Ack could be, or redirects the gateway somewhere else.
 *
 * The defence: forward/upstream.ts gives each exchange one deadline (timeoutMs), caps the answer
 * at 64 KiB and stops reading there, follows no redirect; forward/relay-ack.ts and soap/ack.ts
 * turn only a 2xx holding exactly one Ack true into Ack true. Everything else is a 502 or 504
 * fault (soap:Server), which Salesforce retries: at-least-once delivery, never a lost message.
 * The service's own Ack false is relayed as 200 Ack false.
 */
import net from 'node:net';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.js';
import { post } from '../helpers/client.js';
import type { Harness } from '../helpers/gateway.js';
import { fakeUpstream, SOAP_ACK, type FakeUpstream, type UpstreamBehaviour } from '../helpers/upstream.js';
import type { Pki } from '../helpers/pki.js';
import { expectRejected, expectValidAccepted, attackSuite, viaPost, type CheckOptions, startGateway } from '../security/expect-rejected.js';

const ROUTE_TIMEOUT_MS = 600;

let pki: Pki;
let h: Harness;
let body: string;
/** Would record a redirect being followed. */
let canary: FakeUpstream;
/** A port nothing listens on. */
let closedPort: number;
/**
 * An internal service that keeps connections alive, but resets one the moment a second request
 * arrives on it: the race between its keep-alive timeout and the gateway's reuse of the idle
 * connection, made to happen every time.
 */
let racing: net.Server;
let racingSeen = 0;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

beforeAll(async () => {
  ({ pki, body } = await attackSuite());
  canary = await fakeUpstream();
  closedPort = await freePort();
  racing = net.createServer((socket) => {
    let requests = 0;
    let buffered = '';
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      buffered += d.toString('latin1');
      if (!buffered.includes('</soapenv:Envelope>')) return;
      buffered = '';
      racingSeen++;
      if (++requests > 1) {
        socket.resetAndDestroy();
        return;
      }
      const ack = SOAP_ACK(true);
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(ack)}\r\nKeep-Alive: timeout=60\r\n\r\n${ack}`);
    });
  });
  await new Promise<void>((r) => racing.listen(0, '127.0.0.1', r));
  const racingPort = (racing.address() as net.AddressInfo).port;
  h = await startGateway((raw, { upstream }) => {
    const routes = raw.routes as Array<Record<string, unknown>>;
    for (const route of routes) route.timeoutMs = ROUTE_TIMEOUT_MS;
    routes.push({ path: '/down', target: `http://127.0.0.1:${closedPort}/x`, format: 'soap', timeoutMs: ROUTE_TIMEOUT_MS });
    routes.push({ path: '/racing', target: `http://127.0.0.1:${racingPort}/x`, format: 'soap', timeoutMs: ROUTE_TIMEOUT_MS });
    (raw.upstream as Record<string, unknown>).allowedPorts = [upstream.port, closedPort, racingPort];
  }, { pki });
});
afterAll(async () => {
  await h.close();
  await canary.close();
  await new Promise((r) => racing.close(r));
  await pki.cleanup();
});

const FAST: CheckOptions = { maxMs: 1500, reachesUpstream: true };

/** Sets the service's behaviour for one message, then checks the gateway's answer. */
async function faultAnswers(behaviour: UpstreamBehaviour, status: number, code: ErrorCode, opts: CheckOptions = FAST, path = '/outbound/contact'): Promise<void> {
  h.upstream.behaviour = behaviour;
  const received = h.upstream.received.length;
  await expectRejected(h, async () => {
    try {
      return await viaPost(h, { body, path })();
    } finally {
      h.upstream.behaviour = { kind: 'ack' };
    }
  }, { status, code }, opts);
  if (path !== '/down') {
    // the message reached the service (a reset on a pooled connection is retried once), then the follow-up
    expect(h.upstream.received.length - received).toBeGreaterThanOrEqual(2);
    expect(h.upstream.received.length - received).toBeLessThanOrEqual(3);
  }
}

describe('the service is unreachable or cuts the exchange', () => {
  it('answers 502 when the service refuses the connection', async () => {
    await faultAnswers({ kind: 'ack' }, 502, 'GW_ERR_UPSTREAM_UNAVAILABLE', { maxMs: 1500 }, '/down');
  });

  it('answers 502 when the service resets the connection before answering', async () => {
    await faultAnswers({ kind: 'reset' }, 502, 'GW_ERR_UPSTREAM_UNAVAILABLE');
  });

  it('answers 502 when the service resets in the middle of an answer that already holds "<Ack>true</Ack>"', async () => {
    const ack = SOAP_ACK(true);
    await faultAnswers({
      kind: 'custom',
      handle: (req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': ack.length + 500 });
        res.write(ack);
        setTimeout(() => req.socket.destroy(), 20);
      },
    }, 502, 'GW_ERR_UPSTREAM_UNAVAILABLE');
  });

  it('answers 502 when the service answers bytes that are not HTTP', async () => {
    await faultAnswers({ kind: 'custom', handle: (req) => { req.socket.end('<Ack>true</Ack>\r\n\r\n'); } }, 502, 'GW_ERR_UPSTREAM_UNAVAILABLE');
  });
});

describe('a pooled connection the service has closed', () => {
  it('is retried once on a new connection: the service\'s Ack true gets through', async () => {
    for (let i = 0; i < 3; i++) {
      const answer = await post(h.port, h.salesforce, { body, path: '/racing' });
      expect(answer.status, answer.body.slice(0, 300)).toBe(200);
      expect(answer.body).toContain('<Ack>true</Ack>');
    }
    // the first on a new connection; the second reuses it, is reset, and is retried on a fresh
    // one (not pooled); the third finds the pool empty and opens a new connection
    expect(racingSeen).toBe(4);
    expect(h.logs.requests().slice(-3).map((r) => r.reason)).toEqual(['OK', 'OK', 'OK']);
  });
});

describe('the service is slow', () => {
  it('answers 504 at the route timeout when the service never answers', async () => {
    await faultAnswers({ kind: 'hang' }, 504, 'GW_ERR_UPSTREAM_TIMEOUT', { maxMs: ROUTE_TIMEOUT_MS + 1000, reachesUpstream: true });
  });

  it('answers 504 at the route timeout when the service sends its head and then nothing', async () => {
    await faultAnswers({ kind: 'custom', handle: (_req, res) => { res.writeHead(200, { 'Content-Type': 'text/xml' }); res.flushHeaders(); } },
      504, 'GW_ERR_UPSTREAM_TIMEOUT', { maxMs: ROUTE_TIMEOUT_MS + 1000, reachesUpstream: true });
  });

  it('answers 504 at the route timeout when an Ack true trickles in past it (one deadline, not reset by each byte)', async () => {
    await faultAnswers({ kind: 'trickle', intervalMs: 20 }, 504, 'GW_ERR_UPSTREAM_TIMEOUT', { maxMs: ROUTE_TIMEOUT_MS + 1000, reachesUpstream: true });
  });
});

describe('the service answers something other than an Ack', () => {
  const soap = (xml: string, status = 200): UpstreamBehaviour => ({ kind: 'status', status, body: xml, contentType: 'text/xml' });
  it.each([
    ['500', { kind: 'status', status: 500, body: 'Internal Server Error' }],
    ['503 holding an Ack true', soap(SOAP_ACK(true), 503)],
    ['204 No Content', { kind: 'status', status: 204 }],
    ['200 with garbage', soap('garbage')],
    ['200 with an empty body', soap('')],
    ['200 with HTML', { kind: 'status', status: 200, body: '<html><body>OK</body></html>', contentType: 'text/html' }],
    ['200 with a SOAP Fault quoting an Ack true', soap(
      '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Server</faultcode>'
      + '<faultstring>x</faultstring><detail><Ack xmlns="http://soap.sforce.com/2005/09/outbound">true</Ack></detail></s:Fault></s:Body></s:Envelope>')],
    ['200 with two Acks', soap(SOAP_ACK(true).replace('<Ack>true</Ack>', '<Ack>true</Ack><Ack>false</Ack>'))],
    ['200 with Ack TRUE', soap(SOAP_ACK(true).replace('>true<', '>TRUE<'))],
    ['200 with Ack "yes"', soap(SOAP_ACK(true).replace('>true<', '>yes<'))],
    ['200 with an Ack in another namespace', soap(SOAP_ACK(true).replace('http://soap.sforce.com/2005/09/outbound', 'urn:other'))],
    ['200 with an Ack in a SOAP 1.2 envelope', soap(SOAP_ACK(true).replace('http://schemas.xmlsoap.org/soap/envelope/', 'http://www.w3.org/2003/05/soap-envelope'))],
    ['200 with a DOCTYPE', soap(`<!DOCTYPE x [<!ENTITY t "true">]>${SOAP_ACK(true).replace('<?xml version="1.0" encoding="UTF-8"?>', '').replace('>true<', '>&t;<')}`)],
  ] as const)('answers 502 to %s, never Ack true', async (_name, behaviour) => {
    await faultAnswers(behaviour as UpstreamBehaviour, 502, 'GW_ERR_UPSTREAM_BAD_RESPONSE');
  });

  it.each([
    ['a string "true"', '{"ack":"true"}'],
    ['the number 1', '{"ack":1}'],
    ['an array', '[{"ack":true}]'],
    ['ack only on the prototype', '{"__proto__":{"ack":true}}'],
    ['not JSON', 'ack: true'],
    ['JSON in invalid UTF-8', Buffer.from([0x7b, 0x22, 0x61, 0x63, 0x6b, 0x22, 0x3a, 0x74, 0x72, 0x75, 0x65, 0x2c, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]).toString('latin1')],
  ])('answers 502 on a json route when the service answers %s', async (_name, json) => {
    await faultAnswers({ kind: 'custom', handle: (_req, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }).end(Buffer.from(json, 'latin1')); } },
      502, 'GW_ERR_UPSTREAM_BAD_RESPONSE', FAST, '/outbound/json');
  });

  it('relays the service\'s Ack false as 200 Ack false (Salesforce retries it)', async () => {
    h.upstream.behaviour = { kind: 'nack' };
    const started = performance.now();
    const answer = await post(h.port, h.salesforce, { body });
    h.upstream.behaviour = { kind: 'ack' };
    expect(performance.now() - started).toBeLessThan(1500);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('<Ack>false</Ack>');
    expect(answer.body).not.toContain('<Ack>true</Ack>');
    expect(h.logs.requests().at(-1)).toMatchObject({ reason: 'UPSTREAM_NACK', outcome: 'nacked', upstreamStatus: 200 });
    await expectValidAccepted(h);
  });
});

describe('redirects are never followed', () => {
  it.each([301, 302, 303, 307, 308])('answers 502 to a %i, and the redirect target gets nothing', async (status) => {
    await faultAnswers({ kind: 'status', status, headers: { Location: canary.url('/stolen') }, body: '' }, 502, 'GW_ERR_UPSTREAM_BAD_RESPONSE');
    expect(canary.received).toHaveLength(0);
  });
});

describe('an oversized answer', () => {
  /** Streams `total` bytes of an endless "Ack" until the gateway hangs up; records how far it got. */
  function flood(total: number, sent: number[]): UpstreamBehaviour {
    return {
      kind: 'custom',
      handle: (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/xml' });
        const chunk = Buffer.alloc(64 * 1024, '<Ack>true</Ack>');
        let written = 0;
        const pump = (): void => {
          while (written < total && !res.destroyed) {
            written += chunk.length;
            if (!res.write(chunk)) { res.once('drain', pump); return; }
          }
          if (!res.destroyed) res.end();
        };
        res.on('close', () => sent.push(written));
        pump();
      },
    };
  }

  it('answers 502 after reading at most the 64 KiB cap, and the gateway\'s memory does not grow', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const total = 16 * 1024 * 1024;
    const sent: number[] = [];
    // warm up, then measure over 20 floods of 16 MiB each
    await faultAnswers(flood(total, sent), 502, 'GW_ERR_UPSTREAM_BAD_RESPONSE');
    gc();
    const before = process.memoryUsage();
    for (let i = 0; i < 20; i++) {
      h.upstream.behaviour = flood(total, sent);
      const answer = await post(h.port, h.salesforce, { body });
      expect(answer.status).toBe(502);
      expect(answer.body).toContain('GW_ERR_UPSTREAM_BAD_RESPONSE:');
    }
    h.upstream.behaviour = { kind: 'ack' };
    gc();
    const after = process.memoryUsage();
    const heapGrowthMiB = (after.heapUsed - before.heapUsed) / 1048576;
    const maxSentMiB = Math.max(...sent) / 1048576;
    console.log(`oversized answers: 21 x ${total / 1048576} MiB offered; the service got at most ${maxSentMiB.toFixed(1)} MiB out before the gateway hung up; `
      + `heap ${(before.heapUsed / 1048576).toFixed(1)} -> ${(after.heapUsed / 1048576).toFixed(1)} MiB (${heapGrowthMiB.toFixed(1)}), `
      + `rss ${(before.rss / 1048576).toFixed(0)} -> ${(after.rss / 1048576).toFixed(0)} MiB`);
    // The gateway stops at 64 KiB; what the service got out beyond that sat in socket buffers.
    expect(maxSentMiB).toBeLessThan(total / 1048576 / 2);
    expect(heapGrowthMiB).toBeLessThan(16);
    await expectValidAccepted(h);
  });

  it('answers 502 at once to a declared Content-Length over the cap, without reading', async () => {
    await faultAnswers({
      kind: 'custom',
      handle: (_req, res) => { res.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': 1024 * 1024 * 1024 }); res.write(SOAP_ACK(true)); },
    }, 502, 'GW_ERR_UPSTREAM_BAD_RESPONSE');
  });
});
