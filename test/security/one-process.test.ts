/**
 * The gateway stays up through all of it: one representative attack of each family, in turn,
 * against ONE gateway instance (the other suites start fresh gateways, which would hide state
 * that one attack leaves behind for the next: a leaked connection slot, a stuck body
 * reservation, a poisoned pooled connection, a parser left in a bad state).
 *
 * The families: hostile XML, hostile HTTP, hostile TLS, sources outside the allowlist, policy,
 * internal-service faults, a burst of load, log injection, and fuzzed envelopes. After each the
 * gateway must still serve; at the end a valid message is accepted (on a fresh connection and on
 * a raw one), no connection is left open, and every log line is JSON with no SessionId.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTls, exchangeRaw, post } from '../helpers/client.js';
import { fixture, type Harness } from '../helpers/gateway.js';
import type { Pki } from '../helpers/pki.js';
import { addresses, flood, tally } from '../load/flood.js';
import { BODY_MARKER, DEFAULT_FIELDS, envelope, notification } from './envelopes.js';
import {
  closedAfter, expectRejected, expectValidAccepted, faultCode, parseAnswers, parsedLines, SECRET_SESSION, attackSuite,
  viaPost, viaRaw, viaTcp, startGateway } from './expect-rejected.js';

let pki: Pki;
let h: Harness;
let body: string;
beforeAll(async () => {
  ({ pki, body } = await attackSuite());
  h = await startGateway((raw) => {
    raw.allowlist = { cidrs: ['127.0.0.1/32', '127.0.0.2/32', '127.0.60.0/24'] };
    Object.assign(raw.limits as object, { maxBodyBytes: 256 * 1024, handshakeTimeoutMs: 1000, headersTimeoutMs: 1000, requestTimeoutMs: 3000 });
    // Long enough for a burst on a loaded machine, short enough to wait out a silent service.
    (raw.routes as Array<Record<string, unknown>>).forEach((r) => { r.timeoutMs = 2500; });
  }, { pki });
});
afterAll(async () => {
  await h.close();
  await pki.cleanup();
});

const SECRETS = [BODY_MARKER, SECRET_SESSION];

describe('one gateway, every family in turn', () => {
  it('1. XML: entity expansion, then a 10,000-deep document', async () => {
    const laughs = envelope({
      prolog: '<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
      notifications: [notification(`${DEFAULT_FIELDS}<sf:Name>&b;</sf:Name>`)],
    });
    await expectRejected(h, viaPost(h, { body: laughs }), { status: 400, code: 'GW_ERR_XML_DOCTYPE' }, { maxMs: 1500, secrets: SECRETS });
    const deep = envelope({ notifications: [notification(`<sf:Name>${'<a>'.repeat(10_000)}${'</a>'.repeat(10_000)}</sf:Name>`)] });
    await expectRejected(h, viaPost(h, { body: deep }), { status: 400, code: 'GW_ERR_XML_LIMIT' }, { maxMs: 1500, secrets: SECRETS });
  });

  it('2. HTTP: request smuggling (CL.TE), then a chunked body past the cap', async () => {
    const smuggle = `POST /outbound/contact HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nPOST /outbound/json HTTP/1.1\r\nHost: x\r\n\r\n`;
    await expectRejected(h, viaRaw(h, smuggle), { status: 400, code: 'GW_ERR_BAD_REQUEST' }, { maxMs: 1500 });
    await expectRejected(h, async () => {
      const socket = await connectTls(h.port, h.salesforce);
      let data = '';
      socket.on('data', (d: Buffer) => { data += d.toString(); });
      socket.on('error', () => undefined);
      socket.write('POST /outbound/contact HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n');
      const chunk = `4000\r\n${'A'.repeat(0x4000)}\r\n`;
      for (let i = 0; i < 64 && !socket.destroyed; i++) {
        if (!socket.write(chunk)) await Promise.race([new Promise((r) => socket.once('drain', r)), closedAfter(socket)]);
      }
      await Promise.race([closedAfter(socket), new Promise((r) => setTimeout(r, 2000))]);
      socket.destroy();
      return parseAnswers(data)[0] ?? { kind: 'closed', detail: 'no answer' };
    }, { status: 413, code: 'GW_ERR_BODY_TOO_LARGE' }, { maxMs: 3000 });
  });

  it('3. TLS: no client certificate, then a trusted but unpinned one', async () => {
    await expectRejected(h, viaPost(h, { body }, { ca: pki.ca.certPem }), { tlsFailure: 'no_certificate' }, { maxMs: 2000 });
    const unpinned = { cert: pki.client2.certPem, key: pki.client2.keyPem, ca: pki.ca.certPem };
    await expectRejected(h, viaPost(h, { body }, unpinned), { status: 403, code: 'GW_ERR_CLIENT_CERT_DENIED' }, { maxMs: 2000 });
  });

  it('4. network: a source outside the allowlist, claiming an allowed one', async () => {
    await expectRejected(h, viaTcp(h, '127.0.0.9'), { refused: 'allowlist' }, { maxMs: 1000 });
    await expectRejected(h, viaPost(h, { body, localAddress: '127.0.0.9', headers: { 'X-Forwarded-For': '127.0.0.1' } }), { refused: 'allowlist' }, { maxMs: 1000 });
  });

  it('5. policy: another organization, then an EnterpriseUrl with user info', async () => {
    await expectRejected(h, viaPost(h, { body: envelope({ organizationId: '00D000000000002EAA' }) }), { status: 403, code: 'GW_ERR_ORG_DENIED' }, { maxMs: 1500, secrets: SECRETS });
    await expectRejected(h, viaPost(h, { body: envelope({ enterpriseUrl: 'https://x.salesforce.com@evil.example/' }) }), { status: 400, code: 'GW_ERR_URL_DENIED' }, { maxMs: 1500, secrets: SECRETS });
  });

  it('6. internal-service faults: a 500, silence, a redirect, a reset', async () => {
    const faults = [
      [{ kind: 'status', status: 500, body: 'boom' }, 502, 'GW_ERR_UPSTREAM_BAD_RESPONSE'],
      [{ kind: 'hang' }, 504, 'GW_ERR_UPSTREAM_TIMEOUT'],
      [{ kind: 'status', status: 307, headers: { Location: 'http://127.0.0.1:1/' } }, 502, 'GW_ERR_UPSTREAM_BAD_RESPONSE'],
      [{ kind: 'reset' }, 502, 'GW_ERR_UPSTREAM_UNAVAILABLE'],
    ] as const;
    for (const [behaviour, status, code] of faults) {
      h.upstream.behaviour = behaviour as typeof h.upstream.behaviour;
      await expectRejected(h, async () => {
        try {
          return await viaPost(h, { body })();
        } finally {
          h.upstream.behaviour = { kind: 'ack' };
        }
      }, { status, code }, { maxMs: 4000, reachesUpstream: true });
    }
  });

  it('7. load: a burst of 40 concurrent connections, valid and hostile, from a child process', async () => {
    const valid = path.join(pki.dir, 'burst-valid.xml');
    const hostile = path.join(pki.dir, 'burst-hostile.xml');
    await writeFile(valid, await fixture('contact-100.xml'));
    await writeFile(hostile, envelope({ prolog: '<!DOCTYPE x SYSTEM "http://127.0.0.1:1/x">' }));
    const [ok, bad] = await Promise.all([
      flood(h, { bodyFile: valid, connections: addresses(20, 1, 60) }),
      flood(h, { bodyFile: hostile, connections: addresses(20, 1, 60).map((a) => a.replace(/\.(\d+)$/, (_m, n: string) => `.${Number(n) + 100}`)) }),
    ]);
    h.upstream.received.length = 0;
    expect(tally(ok)).toEqual({ '200 Ack true': 20 });
    expect(tally(bad)).toEqual({ '400 GW_ERR_XML_DOCTYPE': 20 });
    await expectValidAccepted(h);
  }, 60_000);

  it('8. logs: a forged line in a field value, a control character in a header', async () => {
    const forged = envelope({ notifications: [notification(`${DEFAULT_FIELDS}<sf:Description>x&#10;{&quot;level&quot;:&quot;fatal&quot;,&quot;msg&quot;:&quot;forged&quot;}</sf:Description>`)] });
    expect((await post(h.port, h.salesforce, { body: forged })).status).toBe(200);
    await expectRejected(h, viaRaw(h, 'POST /outbound/contact HTTP/1.1\r\nHost: x\r\nX-A: \u001b[2Jforged\r\nContent-Length: 0\r\n\r\n'), { status: 400, code: 'GW_ERR_BAD_REQUEST' }, { maxMs: 1500, secrets: ['forged'] });
    expect(h.logs.text()).not.toContain('forged');
  });

  it('9. fuzz: mutated envelopes while the service says Ack false', async () => {
    h.upstream.behaviour = { kind: 'nack' };
    try {
      await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), async (flips) => {
        const bytes = Buffer.from(envelope());
        for (const [at, byte] of flips) bytes[at % bytes.length] = byte;
        const answer = await post(h.port, h.salesforce, { body: bytes });
        expect(answer.body).not.toContain('<Ack>true</Ack>');
        if (answer.status !== 200) expect(faultCode(answer.body)).toMatch(/^GW_ERR_/);
      }), { numRuns: 30 });
    } finally {
      h.upstream.behaviour = { kind: 'ack' };
    }
  });

  it('10. and at the end: a valid message is accepted, no connection is left open, every line is JSON', async () => {
    await expectValidAccepted(h);
    const socket = await connectTls(h.port, h.salesforce);
    const [answer] = parseAnswers(await exchangeRaw(socket, `POST /outbound/contact HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, 300));
    socket.destroy();
    expect(answer?.status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(h.gateway.openConnections).toBe(0);
    expect(h.gateway.ready).toBe(true);
    const records = parsedLines(h.logs.lines);
    expect(records.filter((r) => r.event === 'request').length).toBeGreaterThan(80);
    expect(h.logs.text()).not.toContain(SECRET_SESSION);
  });
});
