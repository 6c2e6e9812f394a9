import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { NS_OUTBOUND, NS_SOAP11, NS_SOBJECT, NS_XSI } from '../../../src/constants.js';
import { GatewayError } from '../../../src/errors.js';
import { buildJsonRequest } from '../../../src/forward/json-body.js';
import { buildSoapRequest, type ForwardBodyOptions } from '../../../src/forward/soap-body.js';
import { readOutboundMessage } from '../../../src/soap/envelope.js';
import { DEFAULT_XML_LIMITS, parseXml } from '../../../src/soap/parser.js';
import type { OutboundMessage } from '../../../src/soap/types.js';
import { escapeAttribute, escapeText } from '../../../src/soap/xml-escape.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/salesforce/${name}`, import.meta.url), 'utf8');
const read = (xml: string): OutboundMessage => readOutboundMessage(parseXml(Buffer.from(xml), DEFAULT_XML_LIMITS));

/** The SOAP body is written as UTF-8 bytes. */
const soap = (msg: OutboundMessage, opts: ForwardBodyOptions): string => buildSoapRequest(msg, opts).toString('utf8');

const NO_SESSION = { forwardSessionId: false } as const;
const WITH_SESSION = { forwardSessionId: true } as const;

/** A notifications call with one Contact whose fields are written verbatim. */
function sample(fields: string, session = '<SessionId>00D5g000004XyZq!AQ0AQ.secret</SessionId>'): string {
  return `<soapenv:Envelope xmlns:soapenv="${NS_SOAP11}" xmlns:xsi="${NS_XSI}"><soapenv:Body>`
    + `<notifications xmlns="${NS_OUTBOUND}"><OrganizationId>00D5g000004XyZq</OrganizationId><ActionId>04k5g000000Gm3QAAS</ActionId>${session}`
    + '<EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/61.0/00D5g000004XyZq?a=1&amp;b=2</EnterpriseUrl>'
    + '<PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/61.0/00D5g000004XyZq</PartnerUrl>'
    + `<Notification><Id>04l5g0000bnWgrYAAS</Id><sObject xsi:type="sf:Contact" xmlns:sf="${NS_SOBJECT}">${fields}</sObject></Notification>`
    + `<Notification><Id>04l5g0000rXbQ9nAAF</Id><sObject xmlns:sf="${NS_SOBJECT}"/></Notification>`
    + '</notifications></soapenv:Body></soapenv:Envelope>';
}

const TRICKY = '<sf:A><![CDATA[<b>&amp;</b> ]]]]><![CDATA[>]]></sf:A><sf:B>R&amp;D &lt;x&gt; &quot;q&quot; &apos;s&apos;</sf:B>'
  + '<sf:C>&#x1F600;&#233;&#x9;&#10;&#13;&#xD;&#10;</sf:C><sf:D>  007  </sf:D><sf:E>\t\n x \n</sf:E><sf:F xsi:nil="true"/>'
  + '<sf:G></sf:G><sf:H>]]&gt;</sf:H><sf:I>true</sf:I><sf:J>\u0085\u2028\u00a0</sf:J>';

describe('buildSoapRequest', () => {
  it('rebuilds the Salesforce samples byte for byte, apart from apostrophes written as &apos;', () => {
    const expected = (name: string) => fixture(name).replaceAll("'", '&apos;');
    for (const name of ['contact-1.xml', 'contact-10.xml', 'contact-100.xml']) {
      expect(soap(read(fixture(name)), NO_SESSION)).toBe(expected(name));
    }
    expect(soap(read(fixture('opportunity-1.xml')), WITH_SESSION)).toBe(expected('opportunity-1.xml'));
  });

  it('writes SessionId as xsi:nil unless the route forwards it and Salesforce sent one', () => {
    const msg = read(sample('<sf:A>a</sf:A>'));
    expect(soap(msg, NO_SESSION)).toContain('<SessionId xsi:nil="true"/>');
    expect(soap(msg, NO_SESSION)).not.toContain('secret');
    expect(soap(msg, WITH_SESSION)).toContain('<SessionId>00D5g000004XyZq!AQ0AQ.secret</SessionId>');
    expect(soap(read(sample('', '<SessionId xsi:nil="true"/>')), WITH_SESSION)).toContain('<SessionId xsi:nil="true"/>');
  });

  it('round-trips values exactly: CDATA, references, CR, leading zeros, whitespace, nil', () => {
    const msg = read(sample(TRICKY));
    expect(msg.notifications[0]?.fields.map((f) => f.value)).toEqual([
      '<b>&amp;</b> ]]>', 'R&D <x> "q" \'s\'', '\u{1F600}é\t\n\r\r\n', '  007  ', '\t\n x \n', null, '', ']]>', 'true', '\u0085\u2028\u00a0',
    ]);
    expect(read(soap(msg, WITH_SESSION))).toEqual(msg);
  });

  it('writes an empty sObject without type as a record deleted before delivery', () => {
    const xml = soap(read(sample('')), NO_SESSION);
    expect(xml).toContain(`<sObject xsi:type="sf:Contact" xmlns:sf="${NS_SOBJECT}"/>`);
    expect(xml).toContain(`<sObject xmlns:sf="${NS_SOBJECT}"/>`);
  });

  it('writes non-ASCII values of any size as UTF-8, past its first estimate of the size', () => {
    const big = '東京 \u{1F600} é'.repeat(20_000);
    const msg = read(sample(`<sf:A>${big}</sf:A><sf:B>x</sf:B>`));
    const bytes = buildSoapRequest(msg, WITH_SESSION);
    expect(bytes.toString('utf8')).toContain(`<sf:A>${big}</sf:A>`);
    expect(read(bytes.toString('utf8'))).toEqual(msg);
  });

  it('refuses to write a model whose names are not API names', () => {
    const msg = read(sample('<sf:A>a</sf:A>'));
    const badField = { ...msg, notifications: [{ id: '04l5g0000bnWgrYAAS', type: 'Contact', fields: [{ name: 'A><x', value: 'a' }] }] };
    const badType = { ...msg, notifications: [{ id: '04l5g0000bnWgrYAAS', type: 'C" evil="1', fields: [] }] };
    for (const bad of [badField, badType]) {
      expect(() => soap(bad, NO_SESSION)).toThrow(GatewayError);
    }
  });
});

describe('buildJsonRequest', () => {
  it('writes exactly the documented shape, sessionId after actionId only when forwarded', () => {
    const msg = read(sample('<sf:A>a</sf:A><sf:B xsi:nil="true"/>'));
    const expected = {
      organizationId: '00D5g000004XyZqEAK',
      actionId: '04k5g000000Gm3QAAS',
      enterpriseUrl: 'https://acme.my.salesforce.com/services/Soap/c/61.0/00D5g000004XyZq?a=1&b=2',
      partnerUrl: 'https://acme.my.salesforce.com/services/Soap/u/61.0/00D5g000004XyZq',
      notifications: [
        { id: '04l5g0000bnWgrYAAS', type: 'Contact', fields: { A: 'a', B: null } },
        { id: '04l5g0000rXbQ9nAAF', type: null, fields: {} },
      ],
    };
    const without = buildJsonRequest(msg, NO_SESSION);
    expect(JSON.parse(without)).toEqual(expected);
    expect(Object.keys(JSON.parse(without) as object)).toEqual(['organizationId', 'actionId', 'enterpriseUrl', 'partnerUrl', 'notifications']);
    expect(without).not.toContain('secret');
    const withSession = JSON.parse(buildJsonRequest(msg, WITH_SESSION)) as Record<string, unknown>;
    expect(Object.keys(withSession)).toEqual(['organizationId', 'actionId', 'sessionId', 'enterpriseUrl', 'partnerUrl', 'notifications']);
    expect(withSession['sessionId']).toBe('00D5g000004XyZq!AQ0AQ.secret');
    expect(Object.keys(JSON.parse(buildJsonRequest(read(sample('', '<SessionId xsi:nil="true"/>')), WITH_SESSION)) as object)).not.toContain('sessionId');
  });

  it('carries every value exactly, in document order', () => {
    const msg = read(sample(TRICKY));
    const parsed = JSON.parse(buildJsonRequest(msg, NO_SESSION)) as { notifications: { fields: Record<string, string | null> }[] };
    const fields = parsed.notifications[0]?.fields ?? {};
    expect(Object.entries(fields)).toEqual(msg.notifications[0]?.fields.map((f) => [f.name, f.value]));
  });

  it('writes a field named __proto__ as an own key, without touching any prototype', () => {
    // Attack: building `fields[name] = value` on a plain object turns "__proto__" into a prototype
    // assignment, which drops the field (and, with an object value, replaces the prototype).
    const msg: OutboundMessage = {
      organizationId: '00D5g000004XyZqEAK', actionId: '04k5g000000Gm3QAAS', sessionId: null,
      enterpriseUrl: 'https://a.salesforce.com/', partnerUrl: 'https://a.salesforce.com/',
      notifications: [{ id: '04l5g0000bnWgrYAAS', type: 'Contact', fields: [
        { name: '__proto__', value: '{"polluted":true}' }, { name: 'constructor', value: 'c' }, { name: 'prototype', value: null },
      ] }],
    };
    const json = buildJsonRequest(msg, NO_SESSION);
    expect(json).toContain('"fields":{"__proto__":"{\\"polluted\\":true}","constructor":"c","prototype":null}');
    const parsed = JSON.parse(json) as { notifications: { fields: object }[] };
    expect(Object.keys(parsed.notifications[0]?.fields ?? {})).toEqual(['__proto__', 'constructor', 'prototype']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('xml escaping', () => {
  const values = ['plain', '&<>"\'', '\r\n\t', ' lead and trail ', ']]>', '\u{1F600}é', '&amp;', '&#13;', ''];

  it('escapes text and attribute values so that they parse back unchanged', () => {
    for (const value of values) {
      const root = parseXml(Buffer.from(`<a v="${escapeAttribute(value)}" w='${escapeAttribute(value)}'>${escapeText(value)}</a>`), DEFAULT_XML_LIMITS);
      expect(root.text).toBe(value);
      expect(root.attributes.map((a) => a.value)).toEqual([value, value]);
    }
  });

  it('writes CR as &#13; in text, and tab, LF and CR as references in attributes', () => {
    expect(escapeText('a\r\nb\t')).toBe('a&#13;\nb\t');
    expect(escapeAttribute('a\r\nb\t')).toBe('a&#13;&#10;b&#9;');
    expect(escapeText('<a href="x">&</a>')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;');
  });

  it('refuses characters XML 1.0 cannot represent instead of writing them', () => {
    for (const value of ['\u0000', '\u0001', '\u001f', '\ufffe', '\uffff', '\ud800', 'a\udc00', '\ud800a']) {
      expect(() => escapeText(value)).toThrow(GatewayError);
      expect(() => escapeAttribute(value)).toThrow(GatewayError);
    }
  });
});
