/**
 * The gateway end to end, each numbered rule of the core issue accepted and rejected: real mTLS
 * sockets on 127.0.0.1:0, certificates generated per suite, a real internal service recording
 * what it receives, and the log read back from a sink.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { post } from '../helpers/client.js';
import { fixture, startHarness, FIXTURE_ORG, type Harness } from '../helpers/gateway.js';
import { makePki, type Pki } from '../helpers/pki.js';

const SECRET_SESSION = '00D5g000004XyZq!AQ4AQLeakedSessionTokenValue';

function faultCode(body: string): string | undefined {
  return /<faultstring>([A-Z_]+):/.exec(body)?.[1];
}

let pki: Pki;
let contact1: string;
let contact10: string;
let contact100: string;
beforeAll(async () => {
  pki = await makePki();
  [contact1, contact10, contact100] = await Promise.all([
    fixture('contact-1.xml'), fixture('contact-10.xml'), fixture('contact-100.xml'),
  ]);
});
afterAll(() => pki.cleanup());

describe('a valid outbound message', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(undefined, { pki }); });
  afterAll(() => h.close());
  afterEach(() => { h.upstream.received.length = 0; h.upstream.behaviour = { kind: 'ack' }; h.upstream.format = 'soap'; });

  it('is forwarded as a clean SOAP envelope and the Ack true is relayed', async () => {
    const answer = await post(h.port, h.salesforce, {
      body: contact1,
      headers: { 'X-Forwarded-For': '10.9.9.9', Authorization: 'Bearer nope', Cookie: 'a=b', 'X-Custom': 'c' },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(answer.body).toContain('<Ack>true</Ack>');
    expect(answer.body).toContain('http://soap.sforce.com/2005/09/outbound');
    expect(h.upstream.received).toHaveLength(1);
    const got = h.upstream.received[0]!;
    expect(got.url).toBe('/contact');
    expect(got.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(got.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.headers['x-request-id']).toBe(got.headers['x-request-id']);
    for (const name of ['x-forwarded-for', 'authorization', 'cookie', 'x-custom']) {
      expect(got.headers[name]).toBeUndefined();
    }
    expect(got.body).toContain('<OrganizationId>00D5g000004XyZqEAK</OrganizationId>');
    expect(got.body).toContain('<SessionId xsi:nil="true"/>');
    expect(got.body).toMatch(/<sf:LastName>O(&apos;|')Brien<\/sf:LastName>/);
    expect(got.body).toContain('<sObject xsi:type="sf:Contact" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">');
  });

  it('keeps every notification of a 100-notification message', async () => {
    const answer = await post(h.port, h.salesforce, { body: contact100 });
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('<Ack>true</Ack>');
    const forwarded = h.upstream.received[0]!.body;
    expect(forwarded.match(/<Notification>/g)).toHaveLength(100);
  });

  it('reads a message in Salesforce\'s own layout the fast way and any other the general way, with the same result', async () => {
    const parsed = async (): Promise<string[]> => (await h.gateway.metrics.metrics()).split('\n').filter((l) => l.startsWith('sfom_messages_parsed_total{'));
    const before = await parsed();
    // The same message with another prefix for the SOAP envelope namespace: equally valid.
    const otherLayout = contact1.replaceAll('soapenv:', 'env:').replace('xmlns:soapenv=', 'xmlns:env=');
    const fast = await post(h.port, h.salesforce, { body: contact1 });
    const general = await post(h.port, h.salesforce, { body: otherLayout });
    expect([fast.status, general.status]).toEqual([200, 200]);
    expect(general.body).toContain('<Ack>true</Ack>');
    expect(h.upstream.received.map((r) => r.body)).toEqual([h.upstream.received[0]!.body, h.upstream.received[0]!.body]);
    const count = (lines: string[], way: string): number => Number(lines.find((l) => l.includes(`way="${way}"`))?.split(' ')[1]);
    const after = await parsed();
    expect(count(after, 'fast') - count(before, 'fast')).toBe(1);
    expect(count(after, 'general') - count(before, 'general')).toBe(1);
  });

  it('is forwarded as JSON on a json route', async () => {
    h.upstream.format = 'json';
    const answer = await post(h.port, h.salesforce, { path: '/outbound/json', body: contact1 });
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('<Ack>true</Ack>');
    const got = h.upstream.received[0]!;
    expect(got.headers['content-type']).toBe('application/json; charset=utf-8');
    const json = JSON.parse(got.body) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['organizationId', 'actionId', 'enterpriseUrl', 'partnerUrl', 'notifications']);
    expect(json.organizationId).toBe(FIXTURE_ORG);
    const n = (json.notifications as Array<Record<string, unknown>>)[0]!;
    expect(n.id).toBe('04l5g0000bnWgrYAAS');
    expect(n.type).toBe('Contact');
    expect((n.fields as Record<string, unknown>).LastName).toBe("O'Brien");
    expect((n.fields as Record<string, unknown>).Phone).toBe('+1 (415) 555-4198');
  });

  it('logs one decision line with the contract fields', async () => {
    const before = h.logs.requests().length;
    await post(h.port, h.salesforce, { body: contact10 });
    const line = h.logs.requests().slice(before).at(-1)!;
    expect(line).toMatchObject({
      reason: 'OK', outcome: 'acked', status: 200, remoteAddress: '127.0.0.1',
      clientCertFingerprint: pki.client.x509.fingerprint256, organizationId: FIXTURE_ORG,
      actionId: '04k5g000000Gm3QAAS', notificationCount: 10, route: '/outbound/contact', upstreamStatus: 200,
    });
    expect(typeof line.durationMs).toBe('number');
  });

  it('never forwards or logs a SessionId on a route that has not opted in', async () => {
    const withSession = contact1.replace('<SessionId xsi:nil="true"/>', `<SessionId>${SECRET_SESSION}</SessionId>`);
    const answer = await post(h.port, h.salesforce, { body: withSession });
    expect(answer.status).toBe(200);
    expect(h.upstream.received[0]!.body).not.toContain(SECRET_SESSION);
    expect(h.upstream.received[0]!.body).toContain('<SessionId xsi:nil="true"/>');
    h.upstream.format = 'json';
    await post(h.port, h.salesforce, { path: '/outbound/json', body: withSession });
    expect(h.upstream.received[1]!.body).not.toContain(SECRET_SESSION);
    expect(JSON.parse(h.upstream.received[1]!.body)).not.toHaveProperty('sessionId');
    expect(h.logs.text()).not.toContain(SECRET_SESSION);
  });

  it('relays Ack false from the internal service as 200 with Ack false', async () => {
    h.upstream.behaviour = { kind: 'nack' };
    const answer = await post(h.port, h.salesforce, { body: contact1 });
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('<Ack>false</Ack>');
    expect(h.logs.requests().at(-1)).toMatchObject({ reason: 'UPSTREAM_NACK', outcome: 'nacked' });
  });

  it.each([
    ['a 500', { kind: 'status', status: 500, body: 'boom' }, 502, 'GW_ERR_UPSTREAM_BAD_RESPONSE'],
    ['a redirect (never followed)', { kind: 'status', status: 302, headers: { Location: 'http://127.0.0.1:1/' } }, 502, 'GW_ERR_UPSTREAM_BAD_RESPONSE'],
    ['200 with garbage', { kind: 'status', status: 200, body: 'not xml', contentType: 'text/xml' }, 502, 'GW_ERR_UPSTREAM_BAD_RESPONSE'],
    ['a reset', { kind: 'reset' }, 502, 'GW_ERR_UPSTREAM_UNAVAILABLE'],
  ] as const)('answers %s from the internal service with a fault, never Ack true', async (_name, behaviour, status, code) => {
    h.upstream.behaviour = behaviour as typeof h.upstream.behaviour;
    const answer = await post(h.port, h.salesforce, { body: contact1 });
    expect(answer.status).toBe(status);
    expect(faultCode(answer.body)).toBe(code);
    expect(answer.body).toContain('<faultcode>soap:Server</faultcode>');
    expect(answer.body).not.toContain('<Ack>true</Ack>');
    expect(answer.body).not.toMatch(/127\.0\.0\.1|ECONN|node:|at \w+ \(/);
  });
});

describe('internal service down or slow', () => {
  it('answers 502 when the target refuses the connection', async () => {
    const h = await startHarness(undefined, { pki });
    try {
      await h.upstream.close();
      const answer = await post(h.port, h.salesforce, { body: contact1 });
      expect(answer.status).toBe(502);
      expect(faultCode(answer.body)).toBe('GW_ERR_UPSTREAM_UNAVAILABLE');
      expect(answer.body).not.toContain(String(h.upstream.port));
    } finally {
      await h.close();
    }
  });

  it('answers 504 when the target does not answer within the route timeout', async () => {
    const h = await startHarness((raw) => {
      (raw.routes as Array<Record<string, unknown>>)[0]!.timeoutMs = 300;
    }, { pki });
    try {
      h.upstream.behaviour = { kind: 'hang' };
      const started = Date.now();
      const answer = await post(h.port, h.salesforce, { body: contact1 });
      expect(answer.status).toBe(504);
      expect(faultCode(answer.body)).toBe('GW_ERR_UPSTREAM_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await h.close();
    }
  });
});

describe('HTTP rules, in pipeline order', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness((raw) => { (raw.limits as Record<string, unknown>).maxBodyBytes = 8192; }, { pki });
  });
  afterAll(() => h.close());

  it.each([
    ['GET', { method: 'GET', body: '' }, 405, 'GW_ERR_METHOD_NOT_ALLOWED'],
    ['PUT', { method: 'PUT' }, 405, 'GW_ERR_METHOD_NOT_ALLOWED'],
    ['an unknown path', { path: '/outbound/other' }, 404, 'GW_ERR_NOT_FOUND'],
    ['an encoded path', { path: '/outbound/%63ontact' }, 404, 'GW_ERR_NOT_FOUND'],
    ['JSON content type', { headers: { 'Content-Type': 'application/json' } }, 415, 'GW_ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['SOAP 1.2 content type', { headers: { 'Content-Type': 'application/soap+xml' } }, 415, 'GW_ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['a content encoding', { headers: { 'Content-Encoding': 'gzip' } }, 415, 'GW_ERR_CONTENT_ENCODING'],
    ['a body over maxBodyBytes', { useBig: true }, 413, 'GW_ERR_BODY_TOO_LARGE'],
  ] as const)('rejects %s', async (_name, opts, status, code) => {
    const received = h.upstream.received.length;
    const { useBig, ...rest } = opts as { useBig?: boolean; method?: string; path?: string; headers?: Record<string, string>; body?: string };
    const answer = await post(h.port, h.salesforce, { body: useBig ? contact100 : contact1, ...rest });
    expect(answer.status).toBe(status);
    expect(faultCode(answer.body)).toBe(code);
    expect(answer.body).toContain(status < 500 ? '<faultcode>soap:Client</faultcode>' : '<faultcode>soap:Server</faultcode>');
    expect(h.upstream.received.length).toBe(received);
    expect(h.logs.requests().at(-1)).toMatchObject({ reason: code, status });
    // and a valid message is accepted right after
    expect((await post(h.port, h.salesforce, { body: contact1 })).status).toBe(200);
  });

  it('accepts any charset parameter and any SOAPAction', async () => {
    const answer = await post(h.port, h.salesforce, {
      body: contact1, headers: { 'Content-Type': 'TEXT/XML;charset=UTF-8', SOAPAction: 'whatever' },
    });
    expect(answer.status).toBe(200);
  });
});

describe('policy', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness((raw) => {
      const routes = raw.routes as Array<Record<string, unknown>>;
      routes.push(
        { path: '/only-action', target: h0url(raw), format: 'soap', actionIds: ['04k5g000000Gm3Q'] },
        { path: '/other-action', target: h0url(raw), format: 'soap', actionIds: ['04k000000000001AAA'] },
        { path: '/only-opportunity', target: h0url(raw), format: 'soap', objectTypes: ['Opportunity'] },
      );
    }, { pki });
  });
  afterAll(() => h.close());
  function h0url(raw: Record<string, unknown>): string {
    return String((raw.routes as Array<Record<string, unknown>>)[0]!.target);
  }

  it('denies an organization that is not configured with 403', async () => {
    const other = contact1.replace('00D5g000004XyZqEAK', '00D000000000002EAA');
    const answer = await post(h.port, h.salesforce, { body: other });
    expect(answer.status).toBe(403);
    expect(faultCode(answer.body)).toBe('GW_ERR_ORG_DENIED');
  });

  it('compares organizations in 18-character form (a 15-character id is converted)', async () => {
    const short = contact1.replace('00D5g000004XyZqEAK', '00D5g000004XyZq');
    expect((await post(h.port, h.salesforce, { body: short })).status).toBe(200);
  });

  it("enforces a route's ActionIds", async () => {
    expect((await post(h.port, h.salesforce, { path: '/only-action', body: contact1 })).status).toBe(200);
    const denied = await post(h.port, h.salesforce, { path: '/other-action', body: contact1 });
    expect(denied.status).toBe(403);
    expect(faultCode(denied.body)).toBe('GW_ERR_ACTION_DENIED');
  });

  it("enforces a route's object types", async () => {
    const denied = await post(h.port, h.salesforce, { path: '/only-opportunity', body: contact1 });
    expect(denied.status).toBe(403);
    expect(faultCode(denied.body)).toBe('GW_ERR_OBJECT_TYPE_DENIED');
    const opp = await fixture('opportunity-1.xml');
    expect((await post(h.port, h.salesforce, { path: '/only-opportunity', body: opp })).status).toBe(200);
  });

  it.each([
    'http://acme.my.salesforce.com/services/Soap/c/61.0/x',
    'https://acme.my.salesforce.com:8443/services/Soap/c/61.0/x',
    'https://acme.salesforce.com.evil.example/services',
    'https://evilsalesforce.com/services',
    'https://x.salesforce.com@evil.example/services',
    'https://203.0.113.7/services',
  ])('rejects EnterpriseUrl %s with 400', async (url) => {
    const before = h.upstream.received.length;
    const bad = contact1.replace(/<EnterpriseUrl>[^<]*<\/EnterpriseUrl>/, `<EnterpriseUrl>${url.replace(/&/g, '&amp;')}</EnterpriseUrl>`);
    const answer = await post(h.port, h.salesforce, { body: bad });
    expect(answer.status).toBe(400);
    expect(faultCode(answer.body)).toBe('GW_ERR_URL_DENIED');
    expect(h.upstream.received.length).toBe(before);
  });

  it('rejects a message with a wrong id checksum with 400', async () => {
    const bad = contact1.replace('04l5g0000bnWgrYAAS', '04l5g0000bnWgrYAAA');
    const answer = await post(h.port, h.salesforce, { body: bad });
    expect(answer.status).toBe(400);
    expect(faultCode(answer.body)).toBe('GW_ERR_ID_INVALID');
  });
});

describe('a route that opts in to the SessionId', () => {
  it('forwards it, and still never logs it', async () => {
    const h = await startHarness((raw) => {
      (raw.routes as Array<Record<string, unknown>>)[0]!.forwardSessionId = true;
    }, { pki });
    try {
      const withSession = contact1.replace('<SessionId xsi:nil="true"/>', `<SessionId>${SECRET_SESSION}</SessionId>`);
      expect((await post(h.port, h.salesforce, { body: withSession })).status).toBe(200);
      expect(h.upstream.received[0]!.body).toContain(`<SessionId>${SECRET_SESSION}</SessionId>`);
      expect(h.logs.text()).not.toContain(SECRET_SESSION);
    } finally {
      await h.close();
    }
  });
});
