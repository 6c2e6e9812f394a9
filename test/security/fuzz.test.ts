/**
 * Property-based attacks through the running gateway.
 *
 * The attack: whatever an attacker can build from a real envelope by editing it (bytes flipped,
 * markup inserted, parts deleted, duplicated or cut off, prefixes and namespaces changed, field
 * values full of markup characters), sent over real mTLS. Hand-written cases cover what we
 * thought of; generated ones look for what we did not.
 *
 * The defence, as invariants checked on every generated message: the gateway answers within a
 * bound with a 200 or a fault carrying a known code; it never says Ack true unless the internal
 * service acknowledged (the service is set to nack, then to fail, so any Ack true is a lie); a
 * SessionId is never forwarded or logged on a route that has not opted in; every log line is
 * JSON; and the gateway still serves a valid message afterwards. numRuns is bounded so the
 * suite stays fast; fast-check prints the seed of any failure.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';
import { escapeText } from '../../src/soap/xml-escape.js';
import { post } from '../helpers/client.js';
import { fixture, FIXTURE_ORG, type Harness } from '../helpers/gateway.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { ACTION_ID, ENTERPRISE_URL, notificationId, NS, PARTNER_URL } from './envelopes.js';
import { expectValidAccepted, faultCode, parsedLines, useValidMessage, startGateway } from './expect-rejected.js';
import { byteMutator } from '../helpers/mutations.js';

/** Per message: a few kilobytes over loopback TLS, parsed and answered. */
const MAX_MS = 2000;
const KNOWN_CODES = new Set(Object.keys(ERRORS));

let pki: Pki;
let h: Harness;
let fixtures: Buffer[];
beforeAll(async () => {
  pki = await makePki();
  const names = ['contact-1.xml', 'contact-10.xml', 'opportunity-1.xml'];
  const texts = await Promise.all(names.map((n) => fixture(n)));
  useValidMessage(texts[0]!);
  fixtures = texts.map((t) => Buffer.from(t));
  h = await startGateway((raw) => {
    (raw.routes as Array<Record<string, unknown>>).forEach((r) => { r.timeoutMs = 1000; });
  }, { pki });
});
afterAll(async () => {
  await h.close();
  await pki.cleanup();
});

// ---- generated envelopes --------------------------------------------------------------------

/** A field value of any XML characters, markup characters included (escaped when written). */
const fieldValue = fc.string({ unit: fc.oneof(
  fc.constantFrom('<', '>', '&', '"', "'", ']]>', '\r', '\n', '\t', ' ', '\u00e9', '\u{1F600}', '\u009b', 'a', 'Z', '0'),
  fc.string({ unit: 'grapheme', maxLength: 3 }),
), maxLength: 40 }).filter((v) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(v));

const fieldName = fc.constantFrom('Email', 'LastName', 'Title', 'Description', 'Amount__c', 'constructor', 'prototype', 'toString', 'Id');

/** Either sf-prefixed fields, or the default namespace: both mean the same thing. */
const fields = fc.tuple(fc.uniqueArray(fc.tuple(fieldName, fc.option(fieldValue)), { selector: ([n]) => n, maxLength: 6 }), fc.boolean())
  .map(([list, prefixed]) => ({ list, prefixed }));

const sessionToken = fc.stringMatching(/^00D[A-Za-z0-9]{12}![A-Za-z0-9._]{20,60}$/);

interface Generated {
  readonly xml: string;
  readonly session: string;
}

/** A valid notifications envelope built from generated parts, with prefixes chosen at random. */
const validEnvelope: fc.Arbitrary<Generated> = fc.record({
  count: fc.integer({ min: 1, max: 5 }),
  fields,
  session: sessionToken,
  soapPrefix: fc.constantFrom('soapenv', 'S', 's11', 'e'),
  outboundPrefix: fc.constantFrom('', 'o', 'out'),
  whitespace: fc.constantFrom('', '\n ', '\t', '\r\n  '),
}).map(({ count, fields: f, session, soapPrefix, outboundPrefix, whitespace }) => {
  // A default namespace on sObject would move sObject itself out of the outbound namespace
  // unless sObject carries a prefix.
  const prefixed = f.prefixed || outboundPrefix === '';
  const sf = prefixed ? 'sf:' : '';
  const sObjectNs = prefixed ? `xmlns:sf="${NS.sobject}"` : `xmlns="${NS.sobject}"`;
  const body = f.list.map(([name, value]) => (value === null
    ? `<${sf}${name} xsi:nil="true"/>`
    : `<${sf}${name}>${escapeText(value)}</${sf}${name}>`)).join(whitespace);
  const o = outboundPrefix === '' ? '' : `${outboundPrefix}:`;
  const oDecl = outboundPrefix === '' ? `xmlns="${NS.outbound}"` : `xmlns:${outboundPrefix}="${NS.outbound}"`;
  const notifications = Array.from({ length: count }, (_, i) =>
    `<${o}Notification><${o}Id>${notificationId(i + 1)}</${o}Id>`
    + `<${o}sObject xsi:type="${sf}Contact" ${sObjectNs}>${body}</${o}sObject></${o}Notification>`).join(whitespace);
  const xml = '<?xml version="1.0" encoding="UTF-8"?>'
    + `<${soapPrefix}:Envelope xmlns:${soapPrefix}="${NS.soap11}" xmlns:xsi="${NS.xsi}">${whitespace}<${soapPrefix}:Body>`
    + `<${o}notifications ${oDecl}>${whitespace}`
    + `<${o}OrganizationId>${FIXTURE_ORG}</${o}OrganizationId><${o}ActionId>${ACTION_ID}</${o}ActionId>`
    + `<${o}SessionId>${session}</${o}SessionId><${o}EnterpriseUrl>${ENTERPRISE_URL}</${o}EnterpriseUrl>`
    + `<${o}PartnerUrl>${PARTNER_URL}</${o}PartnerUrl>${whitespace}${notifications}`
    + `</${o}notifications></${soapPrefix}:Body></${soapPrefix}:Envelope>`;
  return { xml, session };
});

const SNIPPETS = [
  '<', '>', '&', '"', '/', ']]>', '<!--', '-->', '<![CDATA[', '<!DOCTYPE a [<!ENTITY e "x">]>', '<?pi?>', '&e;', '&amp;',
  '&#0;', '&#x10FFFF;', '&#65;', '<a>', '</a>', '<sf:X>1</sf:X>', ' xmlns="urn:x"', ' xmlns:sf="urn:x"', ' xsi:nil="true"',
  ' xsi:type="sf:Account"', '<Notification/>', '<__proto__/>', '\u0000', '\r', '\uFEFF', '\u{1F600}', '<soapenv:Header/>',
  '<OrganizationId>00D000000000002EAA</OrganizationId>', '<ActionId>04k000000000001AAA</ActionId>',
];

const { mutation, mutate } = byteMutator(SNIPPETS, { maxDelete: 60, maxDuplicate: 200 });

/** A real or generated envelope, then 0 to 4 mutations. */
const hostileBody: fc.Arbitrary<Buffer> = fc.tuple(
  fc.oneof(fc.nat().map((i) => fixtures[i % fixtures.length]!), validEnvelope.map((g) => Buffer.from(g.xml))),
  fc.array(mutation, { maxLength: 4 }),
  fc.constantFrom('/outbound/contact', '/outbound/json'),
).map(([source, mutations, path]) => Object.assign(mutate(source, mutations), { path }));

// ---- the invariants -------------------------------------------------------------------------

interface Sent {
  readonly status: number;
  readonly body: string;
  readonly ms: number;
}

async function send(body: Buffer & { path?: string }): Promise<Sent> {
  const started = performance.now();
  const answer = await post(h.port, h.salesforce, { body, path: body.path ?? '/outbound/contact' });
  return { status: answer.status, body: answer.body, ms: performance.now() - started };
}

/** A 200 with an Ack, or a fault with a known code and its status. */
function expectWellFormedAnswer(a: Sent): void {
  expect(a.ms, 'answer time (ms)').toBeLessThan(MAX_MS);
  if (a.status === 200) {
    expect(a.body).toMatch(/<Ack>(true|false)<\/Ack>/);
    return;
  }
  const code = faultCode(a.body);
  expect(code !== undefined && KNOWN_CODES.has(code), `unknown answer ${a.status}: ${a.body.slice(0, 200)}`).toBe(true);
  expect(ERRORS[code as keyof typeof ERRORS].status).toBe(a.status);
  // an unexpected exception, or the two parsers of soap/parser.ts reading a document differently
  expect(code).not.toBe('GW_ERR_INTERNAL');
}

describe('generated and mutated envelopes', () => {
  it('never get Ack true while the internal service says Ack false', async () => {
    h.upstream.behaviour = { kind: 'nack' };
    h.upstream.format = 'soap';
    try {
      await fc.assert(fc.asyncProperty(hostileBody, async (body) => {
        h.upstream.format = (body as { path?: string }).path === '/outbound/json' ? 'json' : 'soap';
        const answer = await send(body);
        expectWellFormedAnswer(answer);
        expect(answer.body).not.toContain('<Ack>true</Ack>');
      }), { numRuns: 120 });
    } finally {
      h.upstream.behaviour = { kind: 'ack' };
      h.upstream.format = 'soap';
    }
    await expectValidAccepted(h);
  });

  it('never get Ack true while the internal service fails', async () => {
    const failures = [
      { kind: 'status', status: 500, body: 'x' },
      { kind: 'status', status: 200, body: '<Ack>true</Ack>', contentType: 'text/xml' },
      { kind: 'reset' },
    ] as const;
    try {
      await fc.assert(fc.asyncProperty(hostileBody, fc.nat({ max: failures.length - 1 }), async (body, which) => {
        h.upstream.behaviour = failures[which]!;
        const answer = await send(body);
        expectWellFormedAnswer(answer);
        expect(answer.body).not.toContain('<Ack>true</Ack>');
        expect([400, 403, 404, 413, 415, 502]).toContain(answer.status);
      }), { numRuns: 80 });
    } finally {
      h.upstream.behaviour = { kind: 'ack' };
    }
    await expectValidAccepted(h);
  });

  it('never forward or log a SessionId on routes that have not opted in, whatever the envelope looks like', async () => {
    const firstLine = h.logs.lines.length;
    await fc.assert(fc.asyncProperty(validEnvelope, fc.array(mutation, { maxLength: 2 }), fc.boolean(), async (generated, mutations, json) => {
      const receivedBefore = h.upstream.received.length;
      h.upstream.format = json ? 'json' : 'soap';
      const body = Object.assign(mutate(Buffer.from(generated.xml), mutations), { path: json ? '/outbound/json' : '/outbound/contact' });
      const answer = await send(body);
      expectWellFormedAnswer(answer);
      // the unmutated envelopes are valid: they must get through
      if (mutations.length === 0) expect(answer.status, answer.body.slice(0, 300)).toBe(200);
      for (const got of h.upstream.received.slice(receivedBefore)) expect(got.body).not.toContain(generated.session);
      expect(h.logs.text()).not.toContain(generated.session);
    }), { numRuns: 100 });
    h.upstream.format = 'soap';
    parsedLines(h.logs.lines.slice(firstLine));
    await expectValidAccepted(h);
  });
});

it('leaves one gateway serving, with every log line JSON', async () => {
  await expectValidAccepted(h);
  expect(h.logs.requests().length).toBeGreaterThanOrEqual(300);
  parsedLines(h.logs.lines);
});
