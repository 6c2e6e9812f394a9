/**
 * Hostile XML, end to end through a running gateway.
 *
 * The attacks: entity expansion (billion laughs, quadratic blow-up), external entities and DTDs
 * that make a parser read files or call URLs (XXE, SSRF), parameter entities, XInclude;
 * documents built to exhaust the parser (depth, element and attribute counts, huge text and
 * names, reference floods); encodings that make two parsers read different documents (UTF-16,
 * BOMs, declared charsets, invalid UTF-8); and envelopes that look right to a careless reader
 * (right local name in the wrong namespace, duplicated fields, two Bodies, SOAP 1.2, elements
 * named after JavaScript prototype properties).
 *
 * The defence: soap/parser.ts decodes strict UTF-8, then a linear pre-scan refuses any DOCTYPE
 * (so no entity, DTD or parameter entity can exist) and any processing instruction, and enforces
 * depth, count, name and text limits before a tree is built; soap/envelope.ts then accepts only
 * a SOAP 1.1 notifications call by expanded names, whatever the prefixes. Values in CDATA and
 * character references are data: they reach the internal service with the same meaning, escaped
 * again by the body builders. Every rejection is answered with its code, logged, forwards
 * nothing, and leaves the gateway serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_XML_LIMITS, parseXml } from '../../src/soap/parser.js';
import { readOutboundMessage } from '../../src/soap/envelope.js';
import { fixture, type Harness } from '../helpers/gateway.js';
import { fakeUpstream, type FakeUpstream } from '../helpers/upstream.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { BODY_MARKER, DEFAULT_FIELDS, envelope, notification, notifications, NS } from './envelopes.js';
import { expectAccepted, expectRejected, SECRET_SESSION, startGateway, useValidMessage, viaPost, type CheckOptions } from './expect-rejected.js';
import type { ErrorCode } from '../../src/errors.js';

let pki: Pki;
let h: Harness;
/** Would record any fetch of an external entity or DTD. */
let canary: FakeUpstream;

beforeAll(async () => {
  pki = await makePki();
  useValidMessage(await fixture('contact-1.xml'));
  canary = await fakeUpstream();
  h = await startGateway((raw) => {
    // Multi-megabyte bodies over TLS on a busy machine: well inside, so the limit under test decides.
    (raw.limits as Record<string, unknown>).requestTimeoutMs = 10_000;
  }, { pki });
});
afterAll(async () => {
  await h.close();
  await canary.close();
  await pki.cleanup();
});

const SECRETS = [BODY_MARKER, SECRET_SESSION];
const SMALL: CheckOptions = { maxMs: 1500, secrets: SECRETS };
/** Multi-megabyte bodies: sent over TLS, scanned, refused. */
const LARGE: CheckOptions = { maxMs: 4000, secrets: SECRETS };

async function rejects(body: string | Buffer, code: ErrorCode, opts: CheckOptions = SMALL): Promise<void> {
  await expectRejected(h, viaPost(h, { body }), { status: 400, code }, opts);
}

/** An envelope with `fields` (raw XML) in its one sObject. */
const withFields = (fields: string): string => envelope({ notifications: [notification(fields)] });

describe('entities and DTDs: any DOCTYPE is refused before a tree is built', () => {
  it('refuses internal-entity expansion (billion laughs)', async () => {
    const entities = ['<!ENTITY lol0 "lol">']
      .concat(Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`));
    const body = envelope({
      prolog: `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE soapenv:Envelope [${entities.join('')}]>\n`,
      notifications: [notification(`${DEFAULT_FIELDS}<sf:Name>&lol9;</sf:Name>`)],
    });
    await rejects(body, 'GW_ERR_XML_DOCTYPE');
  });

  it('refuses quadratic blow-up (one large entity referenced many times)', async () => {
    const big = 'x'.repeat(100_000);
    const body = envelope({
      prolog: `<?xml version="1.0"?><!DOCTYPE soapenv:Envelope [<!ENTITY a "${big}">]>`,
      notifications: [notification(`<sf:Name>${'&a;'.repeat(40_000)}</sf:Name>`)],
    });
    await rejects(body, 'GW_ERR_XML_DOCTYPE');
  });

  it('refuses references to undeclared entities (no DOCTYPE can declare one)', async () => {
    await rejects(withFields(`<sf:Name>${'&a;'.repeat(40_000)}</sf:Name>`), 'GW_ERR_XML_MALFORMED');
  });

  it.each([
    ['a file: external entity', () => '<!DOCTYPE soapenv:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'],
    ['an http: external entity to loopback', (c: string) => `<!DOCTYPE soapenv:Envelope [<!ENTITY xxe SYSTEM "${c}">]>`],
    ['an external DTD', (c: string) => `<!DOCTYPE soapenv:Envelope SYSTEM "${c}">`],
    ['a parameter entity', (c: string) => `<!DOCTYPE soapenv:Envelope [<!ENTITY % remote SYSTEM "${c}"> %remote;]>`],
    ['a public identifier', (c: string) => `<!DOCTYPE soapenv:Envelope PUBLIC "-//X//Y" "${c}">`],
  ])('refuses %s, and nothing is fetched', async (_name, doctype) => {
    const url = canary.url('/evil.dtd');
    const prolog = `<?xml version="1.0" encoding="UTF-8"?>\n${doctype(url)}\n`;
    await rejects(envelope({ prolog, notifications: [notification(`${DEFAULT_FIELDS}<sf:Name>&xxe;</sf:Name>`)] }), 'GW_ERR_XML_DOCTYPE');
    expect(canary.received).toHaveLength(0);
  });

  it('does not process XInclude: an include element is a foreign element, refused', async () => {
    const include = `<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="${canary.url('/x')}" parse="text"/>`;
    await rejects(withFields(`${DEFAULT_FIELDS}${include}`), 'GW_ERR_SOAP_INVALID');
    await rejects(withFields(`<sf:Name>${include}</sf:Name>`), 'GW_ERR_SOAP_INVALID');
    expect(canary.received).toHaveLength(0);
  });
});

describe('documents built to exhaust the parser stop at a limit', () => {
  it('refuses nesting 10,000 deep', async () => {
    await rejects(withFields(`<sf:Name>${'<a>'.repeat(10_000)}${'</a>'.repeat(10_000)}</sf:Name>`), 'GW_ERR_XML_LIMIT');
  });

  it('refuses 100,000 elements', async () => {
    await rejects(withFields('<sf:Name/>'.repeat(100_000)), 'GW_ERR_XML_LIMIT', LARGE);
  });

  it('refuses thousands of attributes on one element', async () => {
    const attributes = Array.from({ length: 5000 }, (_, i) => ` a${i}="1"`).join('');
    await rejects(envelope({ notifications: [notification(DEFAULT_FIELDS, { sObjectAttributes: `xsi:type="sf:Contact" xmlns:sf="${NS.sobject}"${attributes}` })] }), 'GW_ERR_XML_LIMIT');
  });

  it('refuses a multi-megabyte text node (4 MiB, under maxBodyBytes)', async () => {
    await rejects(withFields(`<sf:Name>${'A'.repeat(4 * 1024 * 1024)}</sf:Name>`), 'GW_ERR_XML_LIMIT', LARGE);
  });

  it('refuses very long element, attribute and prefix names', async () => {
    const long = 'n'.repeat(100_000);
    await rejects(withFields(`<sf:${long}>1</sf:${long}>`), 'GW_ERR_XML_LIMIT');
    await rejects(withFields(`<sf:Name ${long}="1">1</sf:Name>`), 'GW_ERR_XML_LIMIT');
    await rejects(withFields(`<${long}:Name xmlns:${long}="${NS.sobject}">1</${long}:Name>`), 'GW_ERR_XML_LIMIT');
  });

  it.each([
    ['numeric', '&#65;'],
    ['hexadecimal', '&#x41;'],
    ['predefined', '&amp;'],
  ])('refuses a flood of %s character references past maxTextLength', async (_name, ref) => {
    await rejects(withFields(`<sf:Name>${ref.repeat(Math.floor(4_500_000 / ref.length))}</sf:Name>`), 'GW_ERR_XML_LIMIT', LARGE);
  });

  it('accepts a flood of references within the limits, decoded once, in bounded time', async () => {
    const count = DEFAULT_XML_LIMITS.maxTextLength;
    const forwarded = await expectAccepted(h, withFields(`<sf:Name>${'&#x26;'.repeat(count)}</sf:Name>`), { maxMs: 3000 });
    // '&' decoded once and escaped once again: never '&amp;amp;', never a bare '&'.
    expect(forwarded).toContain(`<sf:Name>${'&amp;'.repeat(count)}</sf:Name>`);
  });
});

describe('processing instructions and encodings', () => {
  it.each([
    ['after the declaration', '<?xml version="1.0" encoding="UTF-8"?><?xml-stylesheet href="http://127.0.0.1:1/x.xsl"?>', ''],
    ['inside a field', '<?xml version="1.0"?>', '<sf:Name><?php echo 1; ?></sf:Name>'],
    ['as a second XML declaration', '<?xml version="1.0"?>', '<?xml version="1.0"?>'],
  ])('refuses a processing instruction %s', async (_name, prolog, fields) => {
    await rejects(envelope({ prolog, notifications: [notification(`${DEFAULT_FIELDS}${fields}`)] }), 'GW_ERR_XML_PI');
  });

  it.each([
    ['a truncated sequence', Buffer.from([0xc3, 0x28])],
    ['an overlong "/"', Buffer.from([0xc0, 0xaf])],
    ['a UTF-8 encoded surrogate', Buffer.from([0xed, 0xa0, 0x80])],
    ['a 0xFF byte', Buffer.from([0xff])],
  ])('refuses invalid UTF-8: %s', async (_name, bad) => {
    const [head, tail] = withFields('<sf:Name>SPLIT</sf:Name>').split('SPLIT') as [string, string];
    await rejects(Buffer.concat([Buffer.from(head), bad, Buffer.from(tail)]), 'GW_ERR_XML_ENCODING');
  });

  it('refuses a UTF-16 body, with or without a byte order mark', async () => {
    const text = envelope().replace('encoding="UTF-8"', 'encoding="UTF-16"');
    await rejects(Buffer.from(`\uFEFF${text}`, 'utf16le'), 'GW_ERR_XML_ENCODING');
    await rejects(Buffer.from(text, 'utf16le').swap16(), 'GW_ERR_XML_ENCODING');
  });

  it('refuses a declared encoding other than UTF-8, whatever the bytes', async () => {
    await rejects(envelope({ prolog: '<?xml version="1.0" encoding="ISO-8859-1"?>' }), 'GW_ERR_XML_ENCODING');
    await rejects(envelope({ prolog: "<?xml version='1.0' encoding='UTF-16'?>" }), 'GW_ERR_XML_ENCODING');
  });

  it('accepts a UTF-8 byte order mark (XML 1.0 section 4.3.3)', async () => {
    await expectAccepted(h, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(envelope())]));
  });
});

describe('envelopes that only look right', () => {
  it.each([
    ['Envelope', { envelopeNs: 'http://schemas.xmlsoap.org/soap/envelope' }],
    ['notifications', { outboundNs: 'http://soap.sforce.com/2005/09/outbound/' }],
    ['a header field in no namespace', { headerFields: envelope().match(/<OrganizationId>.*<\/PartnerUrl>/)![0].replace('<OrganizationId>', '<OrganizationId xmlns="">') }],
    ['an sObject field', { notifications: [notification('<x:Email xmlns:x="urn:sobject.partner.soap.sforce.com">a@example.com</x:Email>')] }],
  ])('refuses %s with the right local name in the wrong namespace', async (_name, opts) => {
    await rejects(envelope(opts), 'GW_ERR_SOAP_INVALID');
  });

  it('accepts any prefixes when the namespaces are right', async () => {
    const body = '<?xml version="1.0" encoding="UTF-8"?>'
      + `<S:Envelope xmlns:S="${NS.soap11}" xmlns:i="${NS.xsi}"><S:Body>`
      + `<o:notifications xmlns:o="${NS.outbound}">`
      + '<o:OrganizationId>00D5g000004XyZqEAK</o:OrganizationId><o:ActionId>04k5g000000Gm3QAAS</o:ActionId>'
      + '<o:SessionId i:nil="1"/>'
      + '<o:EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/61.0/x</o:EnterpriseUrl>'
      + '<o:PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/61.0/x</o:PartnerUrl>'
      + '<o:Notification><o:Id>04l5g0000bnWgrYAAS</o:Id>'
      + `<o:sObject i:type="z:Contact" xmlns:z="${NS.sobject}"><z:Email>a@example.com</z:Email></o:sObject></o:Notification>`
      + '<o:Notification><o:Id>04l5g0000bnWgrYAAS</o:Id>'
      + `<o:sObject i:type="Contact" xmlns="${NS.sobject}"><Email>b@example.com</Email></o:sObject></o:Notification>`
      + '</o:notifications></S:Body></S:Envelope>';
    const forwarded = await expectAccepted(h, body);
    expect(forwarded).toContain('<sf:Email>a@example.com</sf:Email>');
    expect(forwarded).toContain('<sf:Email>b@example.com</sf:Email>');
    expect(forwarded.match(/<sObject xsi:type="sf:Contact"/g)).toHaveLength(2);
  });

  it('refuses duplicated header fields (no "first" or "last wins")', async () => {
    const fields = envelope().match(/<OrganizationId>.*<\/PartnerUrl>/)![0];
    await rejects(envelope({ headerFields: fields.replace('</OrganizationId>', '</OrganizationId><OrganizationId>00D000000000002EAA</OrganizationId>') }), 'GW_ERR_SOAP_INVALID');
    await rejects(envelope({ headerFields: fields.replace('<SessionId>', '<SessionId xsi:nil="true"/><SessionId>') }), 'GW_ERR_SOAP_INVALID');
  });

  it('refuses two Bodies and any Header block', async () => {
    const body = envelope();
    await rejects(body.replace('</soapenv:Body>', '</soapenv:Body><soapenv:Body/>'), 'GW_ERR_SOAP_INVALID');
    await rejects(envelope({ beforeBody: '<soapenv:Header><x:Route xmlns:x="urn:x" soapenv:mustUnderstand="1">/admin</x:Route></soapenv:Header>' }), 'GW_ERR_SOAP_INVALID');
  });

  it('refuses a SOAP 1.2 envelope', async () => {
    await rejects(envelope({ envelopeNs: NS.soap12 }), 'GW_ERR_SOAP_VERSION');
  });

  it('refuses a field named __proto__, and elements so named anywhere in the envelope', async () => {
    await rejects(withFields(`${DEFAULT_FIELDS}<sf:__proto__><sf:polluted>1</sf:polluted></sf:__proto__>`), 'GW_ERR_SOAP_INVALID');
    await rejects(withFields(`${DEFAULT_FIELDS}<sf:__proto__>1</sf:__proto__>`), 'GW_ERR_SOAP_INVALID');
    await rejects(envelope({ notifications: [notification(), '<__proto__><polluted>1</polluted></__proto__>'] }), 'GW_ERR_SOAP_INVALID');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('forwards fields named constructor and prototype as ordinary data, polluting nothing', async () => {
    const body = withFields(`${DEFAULT_FIELDS}<sf:constructor>c</sf:constructor><sf:prototype>p</sf:prototype><sf:toString>t</sf:toString>`);
    const soap = await expectAccepted(h, body);
    expect(soap).toContain('<sf:constructor>c</sf:constructor>');
    expect(soap).toContain('<sf:prototype>p</sf:prototype>');
    h.upstream.format = 'json';
    try {
      const json = JSON.parse(await expectAccepted(h, body, { path: '/outbound/json' })) as { notifications: Array<{ fields: Record<string, unknown> }> };
      const fields = json.notifications[0]!.fields;
      expect(Object.hasOwn(fields, 'constructor') && fields.constructor).toBe('c');
      expect(Object.hasOwn(fields, 'prototype') && fields.prototype).toBe('p');
      expect(Object.hasOwn(fields, 'toString') && fields.toString).toBe('t');
    } finally {
      h.upstream.format = 'soap';
    }
    expect(typeof ({} as { constructor: unknown }).constructor).toBe('function');
  });

  it.each([
    [0, 'GW_ERR_NOTIFICATION_COUNT'],
    [101, 'GW_ERR_NOTIFICATION_COUNT'],
  ] as const)('refuses %i notifications', async (count, code) => {
    await rejects(envelope({ notifications: notifications(count) }), code);
  });

  it('accepts 100 notifications', async () => {
    const forwarded = await expectAccepted(h, envelope({ notifications: notifications(100) }));
    expect(forwarded.match(/<Notification>/g)).toHaveLength(100);
  });
});

describe('CDATA, references and nil are data: forwarded with the same meaning', () => {
  // CDATA (split around ']]>'), predefined and numeric references, astral characters, CR LF and a tab.
  const RAW = '<![CDATA[<b>R&D</b> ]]]]><![CDATA[> "q"]]> &lt;i&gt; &amp;amp; &#233;&#x1F600; &apos;x&quot; &#13;&#10;line2&#9;tab';
  const VALUE = '<b>R&D</b> ]]> "q" <i> &amp; \u00e9\u{1F600} \'x" \r\nline2\ttab';
  const body = withFields(`${DEFAULT_FIELDS}<sf:Description>${RAW}</sf:Description><sf:Fax xsi:nil="true"/><sf:Phone xsi:nil="1"/>`);

  it('on a soap route: escaped again, and read back to the same value', async () => {
    const forwarded = await expectAccepted(h, body);
    expect(forwarded).toContain('<sf:Description>&lt;b&gt;R&amp;D&lt;/b&gt; ]]&gt; &quot;q&quot; &lt;i&gt; &amp;amp; \u00e9\u{1F600} &apos;x&quot; &#13;\nline2\ttab</sf:Description>');
    expect(forwarded).toContain('<sf:Fax xsi:nil="true"/>');
    const message = readOutboundMessage(parseXml(Buffer.from(forwarded), DEFAULT_XML_LIMITS));
    const fields = Object.fromEntries(message.notifications[0]!.fields.map((f) => [f.name, f.value]));
    expect(fields).toMatchObject({ Description: VALUE, Fax: null, Phone: null });
    // not forwarded without opt-in
    expect(forwarded).not.toContain(SECRET_SESSION);
  });

  it('on a json route: the same string, and nil as null', async () => {
    h.upstream.format = 'json';
    try {
      const forwarded = await expectAccepted(h, body, { path: '/outbound/json' });
      const json = JSON.parse(forwarded) as { notifications: Array<{ fields: Record<string, unknown> }> };
      expect(json.notifications[0]!.fields).toMatchObject({ Description: VALUE, Fax: null, Phone: null });
      expect(forwarded).not.toContain(SECRET_SESSION);
    } finally {
      h.upstream.format = 'soap';
    }
  });
});
