import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { NS_OUTBOUND, NS_SOAP11, NS_SOAP12 } from '../../../src/constants.js';
import { ERRORS, type ErrorCode } from '../../../src/errors.js';
import { ackEnvelope, faultEnvelope, readJsonAck, readSoapAck } from '../../../src/soap/ack.js';
import { DEFAULT_XML_LIMITS, parseXml } from '../../../src/soap/parser.js';
import { codeOf } from '../../helpers/gateway-error.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/salesforce/${name}`, import.meta.url));

const soap = (body: string, ns = NS_SOAP11): Buffer =>
  Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${ns}"><s:Body>${body}</s:Body></s:Envelope>`);
const response = (ack: string, ns = NS_OUTBOUND): string => `<notificationsResponse xmlns="${ns}"><Ack>${ack}</Ack></notificationsResponse>`;
const codes = Object.keys(ERRORS) as ErrorCode[];

describe('ackEnvelope', () => {
  it('writes exactly the acknowledgement Salesforce expects', () => {
    expect(ackEnvelope(true)).toBe(fixture('ack.xml').toString('utf8'));
  });

  it('writes Ack false, and both read back as what they say', () => {
    expect(ackEnvelope(false)).toBe(fixture('ack.xml').toString('utf8').replace('<Ack>true</Ack>', '<Ack>false</Ack>'));
    expect(readSoapAck(Buffer.from(ackEnvelope(true)))).toBe(true);
    expect(readSoapAck(Buffer.from(ackEnvelope(false)))).toBe(false);
  });
});

describe('faultEnvelope', () => {
  it('writes soap:Client for rejections with a 4xx status', () => {
    const xml = faultEnvelope('GW_ERR_ORG_DENIED');
    expect(xml).toContain('<faultcode>soap:Client</faultcode>');
    expect(xml).toContain('<faultstring>GW_ERR_ORG_DENIED: organization is not allowed</faultstring>');
  });

  it('writes soap:Server for errors with a 5xx status', () => {
    expect(faultEnvelope('GW_ERR_UPSTREAM_TIMEOUT')).toContain('<faultcode>soap:Server</faultcode>');
    expect(faultEnvelope('GW_ERR_INTERNAL')).toContain('<faultcode>soap:Server</faultcode>');
  });

  it('writes a well-formed SOAP 1.1 Fault for every code, with the faultstring "<code>: <message>"', () => {
    for (const code of codes) {
      const root = parseXml(Buffer.from(faultEnvelope(code)), DEFAULT_XML_LIMITS);
      const fault = root.children[0]?.children[0];
      expect([root.ns, root.local, fault?.ns, fault?.local]).toEqual([NS_SOAP11, 'Envelope', NS_SOAP11, 'Fault']);
      const [faultcode, faultstring] = fault?.children ?? [];
      expect([faultcode?.ns, faultcode?.local, faultstring?.ns, faultstring?.local]).toEqual(['', 'faultcode', '', 'faultstring']);
      const prefix = faultcode?.text.split(':')[0] ?? '';
      expect(faultcode?.namespaces.get(prefix)).toBe(NS_SOAP11);
      expect(faultcode?.text).toBe(ERRORS[code].status >= 500 ? 'soap:Server' : 'soap:Client');
      expect(faultstring?.text).toBe(`${code}: ${ERRORS[code].message}`);
    }
  });

  it('is never read as an acknowledgement', () => {
    for (const code of codes) expect(codeOf(() => readSoapAck(Buffer.from(faultEnvelope(code))))).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
  });
});

describe('readSoapAck', () => {
  it('reads Ack true and 1 as delivered, with XML whitespace around the value', () => {
    expect(readSoapAck(soap(response('true')))).toBe(true);
    expect(readSoapAck(soap(response('1')))).toBe(true);
    expect(readSoapAck(soap(response('\n  true \t')))).toBe(true);
  });

  it('reads Ack false and 0 as not delivered', () => {
    expect(readSoapAck(soap(response('false')))).toBe(false);
    expect(readSoapAck(soap(response(' 0 ')))).toBe(false);
  });

  it('accepts any prefixes and a SOAP Header', () => {
    const xml = `<e:Envelope xmlns:e="${NS_SOAP11}"><e:Header/><e:Body><o:notificationsResponse xmlns:o="${NS_OUTBOUND}"><o:Ack>true</o:Ack></o:notificationsResponse></e:Body></e:Envelope>`;
    expect(readSoapAck(Buffer.from(xml))).toBe(true);
  });

  const bad: readonly (readonly [string, Buffer])[] = [
    ['an empty body', Buffer.alloc(0)],
    ['JSON', Buffer.from('{"ack":true}')],
    ['an HTML error page', Buffer.from('<html><body><h1>502 Bad Gateway</h1></body></html>')],
    ['a SOAP Fault', soap(`<s:Fault><faultcode>s:Server</faultcode><faultstring>boom</faultstring></s:Fault>`)],
    ['a SOAP 1.2 envelope', soap(response('true'), NS_SOAP12)],
    ['notificationsResponse in another namespace', soap(response('true', 'urn:other'))],
    ['Ack in another namespace', soap(`<notificationsResponse xmlns="${NS_OUTBOUND}"><Ack xmlns="">true</Ack></notificationsResponse>`)],
    ['a missing Ack', soap(`<notificationsResponse xmlns="${NS_OUTBOUND}"/>`)],
    ['two Acks', soap(`<notificationsResponse xmlns="${NS_OUTBOUND}"><Ack>true</Ack><Ack>false</Ack></notificationsResponse>`)],
    ['Ack yes', soap(response('yes'))],
    ['Ack TRUE', soap(response('TRUE'))],
    ['Ack true with a no-break space', soap(response('true\u00a0'))],
    ['an empty Ack', soap(response(''))],
    ['an Ack with child elements', soap(response('<b>true</b>'))],
    ['two elements in the Body', soap(response('true') + response('true'))],
    ['an empty Body', soap('')],
    ['a notifications request', soap(`<notifications xmlns="${NS_OUTBOUND}"/>`)],
    ['a DOCTYPE', Buffer.from(`<!DOCTYPE x [<!ENTITY a "true">]>${soap(response('&a;')).toString()}`)],
    ['invalid UTF-8', Buffer.concat([soap(response('true')), Buffer.from([0xff])])],
    ['a huge answer', soap(response(`true${' '.repeat(10_000)}`))],
  ];
  for (const [name, body] of bad) {
    it(`throws GW_ERR_UPSTREAM_BAD_RESPONSE for ${name}`, () => {
      expect(codeOf(() => readSoapAck(body))).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
    });
  }
});

describe('readJsonAck', () => {
  it('reads {"ack": true} and {"ack": false}', () => {
    expect(readJsonAck(Buffer.from('{"ack":true}'))).toBe(true);
    expect(readJsonAck(Buffer.from(' { "ack" : false, "id": 1 } '))).toBe(false);
  });

  const bad: readonly (readonly [string, string | Buffer])[] = [
    ['an empty body', ''],
    ['not JSON', '<Ack>true</Ack>'],
    ['a bare true', 'true'],
    ['null', 'null'],
    ['an array', '[{"ack":true}]'],
    ['a string ack', '{"ack":"true"}'],
    ['a number ack', '{"ack":1}'],
    ['a null ack', '{"ack":null}'],
    ['no ack', '{}'],
    ['ack only on a __proto__ key', '{"__proto__":{"ack":true}}'],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x61, 0x63, 0x6b, 0x22, 0x3a, 0x74, 0x72, 0x75, 0x65, 0x7d, 0xff])],
  ];
  for (const [name, body] of bad) {
    it(`throws GW_ERR_UPSTREAM_BAD_RESPONSE for ${name}`, () => {
      expect(codeOf(() => readJsonAck(typeof body === 'string' ? Buffer.from(body) : body))).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
    });
  }
});

describe('readSoapAck remembers verdicts by the exact bytes only', () => {
  it('gives the same verdict for a remembered answer, and still refuses a different one', () => {
    const yes = soap(response('true'));
    const no = soap(response('false'));
    for (let i = 0; i < 3; i++) {
      expect(readSoapAck(Buffer.from(yes))).toBe(true);
      expect(readSoapAck(Buffer.from(no))).toBe(false);
    }
    // One byte away from a remembered answer: parsed, and refused.
    const broken = Buffer.from(yes);
    broken[broken.indexOf('true')] = 0x78; // 'xrue'
    expect(codeOf(() => readSoapAck(broken))).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
    expect(codeOf(() => readSoapAck(broken))).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
  });

  it('keeps deciding correctly when more answers than it remembers come in turn', () => {
    const answers = Array.from({ length: 20 }, (_, i) => [soap(response(i % 2 === 0 ? 'true' : `0${' '.repeat(i)}`)), i % 2 === 0] as const);
    for (let round = 0; round < 2; round++) {
      for (const [body, ack] of answers) expect(readSoapAck(body)).toBe(ack);
    }
  });

  it('does not let a remembered answer change when the caller reuses its buffer', () => {
    const body = soap(response('true'));
    expect(readSoapAck(body)).toBe(true);
    body.fill(0x20);
    expect(codeOf(() => readSoapAck(body))).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
    expect(readSoapAck(soap(response('true')))).toBe(true);
  });
});
