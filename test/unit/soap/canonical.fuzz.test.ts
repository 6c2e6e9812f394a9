/**
 * The fast path (soap/canonical.ts + forward/canonical-body.ts) against the general way (scanner →
 * envelope → the model's builders). The fast path may decline anything; what it accepts, the
 * general way must accept too, with the same head and byte for byte the same forwarded body, in
 * both formats, with and without the SessionId, under the default limits and under tight ones.
 * A fast path that accepted what the general way refuses would be a way around every check the
 * gateway makes; one that declined everything would be no fast path: both are tested.
 *
 * The messages are Salesforce's shape with every part drawn from near its edges (values with
 * each character that needs escaping or refusing, references, CDATA, comments, line ends, long
 * names, nil forms, ids with bad checksums, whitespace of each kind), then mutated byte by byte.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { buildCanonicalBody } from '../../../src/forward/canonical-body.js';
import { buildSoapRequest } from '../../../src/forward/soap-body.js';
import { joinBody } from '../../../src/forward/upstream.js';
import { toId18 } from '../../../src/policy/ids.js';
import { readCanonical } from '../../../src/soap/canonical.js';
import { FIELD_SLOTS } from '../../../src/soap/canonical-shape.js';
import { NameSet } from '../../../src/soap/field-names.js';
import { readOutboundMessage } from '../../../src/soap/envelope.js';
import { DEFAULT_XML_LIMITS, parseXml } from '../../../src/soap/parser.js';
import { buildForwardBody, headOf, prepareMessage } from '../../../src/soap/prepare.js';
import type { MessageHead, OutboundMessage, XmlLimits } from '../../../src/soap/types.js';
import { byteMutator } from '../../helpers/mutations.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/salesforce/${name}`, import.meta.url));

const OPTIONS = [
  { format: 'soap', forwardSessionId: false },
  { format: 'soap', forwardSessionId: true },
  { format: 'json', forwardSessionId: false },
  { format: 'json', forwardSessionId: true },
] as const;

interface Outcome {
  readonly head: MessageHead;
  readonly bodies: readonly Buffer[];
}

function general(body: Buffer, limits: XmlLimits): Outcome | GatewayError {
  try {
    const message = readOutboundMessage(parseXml(body, limits));
    return { head: headOf(message), bodies: OPTIONS.map((o) => buildForwardBody(message, o.format, o.forwardSessionId)) };
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
}

function fast(body: Buffer, limits: XmlLimits): Outcome | undefined {
  const message = readCanonical(body, limits);
  if (message === undefined) return undefined;
  return { head: headOf(message), bodies: OPTIONS.map((o) => joinBody(buildCanonicalBody(message, o.format, o.forwardSessionId))) };
}

/** What the fast path accepts, the general way accepts the same; returns whether the fast path took it. */
function agree(body: Buffer, limits: XmlLimits = DEFAULT_XML_LIMITS): boolean {
  const quick = fast(body, limits);
  if (quick === undefined) return false;
  const slow = general(body, limits);
  if (slow instanceof GatewayError) {
    throw new Error(`fast path accepted what the general way refuses (${slow.code}: ${slow.detail ?? ''}): ${JSON.stringify(body.toString('latin1'))}`);
  }
  expect(quick.head).toEqual(slow.head);
  for (let k = 0; k < OPTIONS.length; k++) {
    const [a, b] = [quick.bodies[k]!, slow.bodies[k]!];
    if (!a.equals(b)) expect(a.toString('utf8')).toBe(b.toString('utf8'));
    expect(a.equals(b)).toBe(true);
  }
  return true;
}

// ---- generated messages ------------------------------------------------------------------------

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const alnum = (length: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...ALNUM), minLength: length, maxLength: length });

/**
 * The generated messages: every part is Salesforce's own form or, one time in `odds`, a variant
 * near the edge of the fast path (refused by the general way, or valid but declined).
 */
function messages(odds: number): fc.Arbitrary<Buffer> {
  const usually = <T>(plain: fc.Arbitrary<T>, edge: fc.Arbitrary<T>): fc.Arbitrary<T> =>
    fc.oneof({ weight: odds - 1, arbitrary: plain }, { weight: 1, arbitrary: edge });

  /** An id as text: a valid 18-character one, or 15, a lower-case suffix, a bad checksum, the wrong prefix. */
  const idText = (prefix: string): fc.Arbitrary<string> => fc.tuple(alnum(12), fc.nat({ max: 4 }), fc.nat({ max: odds })).map(([rest, pick, edge]) => {
    const id18 = toId18(prefix + rest)!;
    if (edge !== 0) return id18;
    return [id18.slice(0, 15), `${id18.slice(0, 15)}${id18.slice(15).toLowerCase()}`, `${id18.slice(0, 15)}ZZZ`, toId18(`001${rest}`)!, ` ${id18}`][pick]!;
  });

  /** Pieces of character data as written in the document: most allowed, some refused. */
  const piece = fc.oneof(
    { weight: 4 * odds, arbitrary: fc.string({ unit: fc.constantFrom(...'abc XYZ 019-_.,:;/()+@'), minLength: 1, maxLength: 12 }) },
    { weight: odds, arbitrary: fc.constantFrom('"', "'", '>', '\\', '\t', '\n', '\r', '\r\n', '\n\r', ']', ']]', ']]&gt;', '/') },
    { weight: odds, arbitrary: fc.constantFrom('&amp;', '&lt;', '&gt;', '&quot;', '&apos;', '&amp;lt;', '&amp;#65;') },
    { weight: odds, arbitrary: fc.constantFrom('é', 'Schäfer', '–', '€', '😀', '\u0085', '\u2028', '\u00A0', '中文', '\u007F', '\uFFFD') },
    { weight: 2, arbitrary: fc.constantFrom('&#13;', '&#x41;', '&#10;', '&nbsp;', '&', '&amp', '&ampx;') },
    { weight: 2, arbitrary: fc.constantFrom(']]>', '\u0001', '\u001F', '\uFFFE', '\uFFFF', '<![CDATA[x]]>', '<!--c-->', '<', '<b>x</b>') },
  );
  const value = fc.array(piece, { maxLength: 6 }).map((pieces) => pieces.join(''));
  const apiName = usually(
    fc.constantFrom('Id', 'Name', 'Email', 'Phone', 'Amount', 'Invoice__c', 'X', 'a1_b2', 'LastModifiedDate', 'A'.repeat(80)),
    fc.constantFrom('B'.repeat(81), '_x', '1a', 'a-b', 'a.b', 'Näme', '__proto__', 'x:y'),
  );
  const ws = usually(fc.constantFrom('', ' ', '\n', '\n   ', '\t', '\r\n', '\n\n  \t', `\n${' '.repeat(70)}`), fc.constantFrom(' <!-- c --> ', 'x', '&#32;'));
  const field = fc.tuple(apiName, fc.nat({ max: 2 }), usually(fc.constant(-1), fc.nat({ max: 2 })), value).map(([name, form, edge, text]) => {
    if (edge === 0) return `<sf:${name} xsi:nil="1"/>`;
    if (edge === 1) return `<sf:${name}>${text}</sf:${name} >`;
    if (edge === 2) return `<sf:${name} xsi:nil="true"></sf:${name}>`;
    if (form === 0) return `<sf:${name} xsi:nil="true"/>`;
    if (form === 1) return `<sf:${name}/>`;
    return `<sf:${name}>${text}</sf:${name}>`;
  });
  const notification = fc.record({
    id: idText('04l'),
    type: apiName,
    typeForm: usually(fc.constant(2), fc.nat({ max: 1 })),
    // Repeated names are refused: in one message in `odds`.
    fields: usually(
      fc.uniqueArray(fc.tuple(ws, field), { maxLength: 8, selector: ([, f]) => /^<sf:([^ >/]*)/.exec(f)?.[1] }),
      fc.array(fc.tuple(ws, field), { maxLength: 8 }),
    ),
    ws: fc.array(ws, { minLength: 4, maxLength: 4 }),
  }).map(({ id, type, typeForm, fields, ws: w }) => {
    const ns = 'xmlns:sf="urn:sobject.enterprise.soap.sforce.com"';
    const start = typeForm === 0 ? `<sObject ${ns}` : typeForm === 1 ? `<sObject xsi:type="${type}" ${ns}` : `<sObject xsi:type="sf:${type}" ${ns}`;
    const body = fields.length === 0 && typeForm === 2
      ? `${start}/>`
      : `${start}>${fields.map(([a, f]) => a + f).join('')}${w[3]}</sObject>`;
    return `<Notification>${w[0]}<Id>${id}</Id>${w[1]}${body}${w[2]}</Notification>`;
  });
  const url = (kind: string): fc.Arbitrary<string> => usually(fc.constant(`https://acme.my.salesforce.com/services/Soap/${kind}/61.0/00D5g000004XyZq`), value);
  return fc.record({
    organization: idText('00D'),
    action: idText('04k'),
    session: fc.oneof(fc.constant(null), value),
    enterpriseUrl: url('c'),
    partnerUrl: url('u'),
    notifications: usually(fc.array(fc.tuple(ws, notification), { minLength: 1, maxLength: 4 }), fc.constant<[string, string][]>([])),
    ws: fc.array(ws, { minLength: 12, maxLength: 12 }),
    declaration: usually(fc.constant('<?xml version="1.0" encoding="UTF-8"?>'), fc.constantFrom('<?xml version="1.0"?>', '', '\uFEFF<?xml version="1.0" encoding="UTF-8"?>')),
  }).map(({ organization, action, session, enterpriseUrl, partnerUrl, notifications, ws: w, declaration }) => Buffer.from(
    `${declaration}${w[0]}<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">${w[1]}`
    + `<soapenv:Body>${w[2]}<notifications xmlns="http://soap.sforce.com/2005/09/outbound">${w[3]}`
    + `<OrganizationId>${organization}</OrganizationId>${w[4]}<ActionId>${action}</ActionId>${w[5]}`
    + `${session === null ? '<SessionId xsi:nil="true"/>' : `<SessionId>${session}</SessionId>`}${w[6]}`
    + `<EnterpriseUrl>${enterpriseUrl}</EnterpriseUrl>${w[7]}<PartnerUrl>${partnerUrl}</PartnerUrl>`
    + `${notifications.map(([a, n]) => a + n).join('')}${w[8]}</notifications>${w[9]}</soapenv:Body>${w[10]}</soapenv:Envelope>${w[11]}`,
  ));
}
/** Mostly Salesforce's own form: the fast path should take a good share. */
const PLAIN = messages(60);
/** Near the edges everywhere: most are declined or refused. */
const EDGY = messages(3);

/**
 * Messages as forward/soap-body.ts writes them, which is Salesforce's layout: the fast path must
 * take all of them but those holding a CR (written as a character reference), and copy their
 * notifications whole.
 */
const VALUE_CHAR = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...'abcXYZ09 -_.,:;/()+@') },
  { weight: 2, arbitrary: fc.constantFrom('"', "'", '<', '>', '&', '\\', '\t', '\n', ']', 'é', '–', '😀', '\u2028', '\u0085') },
  { weight: 1, arbitrary: fc.constantFrom('\r', ']]>') },
);
const MODEL_VALUE = fc.array(VALUE_CHAR, { maxLength: 10 }).map((chars) => chars.join(''));
const id18 = (prefix: string): fc.Arbitrary<string> => alnum(12).map((rest) => toId18(prefix + rest)!);
/** A notification id in its canonical form, or in one the general way converts (15 characters, a lower-case suffix). */
const notificationId = fc.tuple(id18('04l'), fc.nat({ max: 5 })).map(([id, form]) => (form === 0 ? id.slice(0, 15) : form === 1 ? id.slice(0, 15) + id.slice(15).toLowerCase() : id));
const WRITTEN = fc.record({
  organizationId: id18('00D'),
  actionId: id18('04k'),
  sessionId: fc.option(MODEL_VALUE),
  enterpriseUrl: MODEL_VALUE,
  partnerUrl: MODEL_VALUE,
  notifications: fc.array(fc.record({
    id: notificationId,
    type: fc.constantFrom('Contact', 'Invoice__c', 'X'),
    fields: fc.uniqueArray(fc.record({ name: fc.constantFrom('Id', 'Name', 'Email', 'a1_b2', 'A'.repeat(80)), value: fc.option(MODEL_VALUE) }), { maxLength: 6, selector: (f) => f.name }),
  }), { minLength: 1, maxLength: 4 }),
}).map((message: OutboundMessage) => buildSoapRequest(message, { forwardSessionId: true }));

/**
 * Edits of the writer's layout that keep the message valid: one line end becomes other
 * whitespace, an empty sObject is written with an end tag, a field without value as an empty
 * element. Each must make the notification it touches not verbatim, or change nothing.
 */
const LAYOUT_EDIT = fc.oneof(
  fc.record({ kind: fc.constant('line' as const), at: fc.nat(), by: fc.constantFrom(' ', '\t', '\r\n', '\n ', '', '\n\n') }),
  fc.record({ kind: fc.constant('empty' as const), at: fc.nat() }),
);
function edit(body: Buffer, edits: readonly { kind: 'line' | 'empty'; at: number; by?: string }[]): Buffer {
  let xml = body.toString('utf8');
  for (const e of edits) {
    if (e.kind === 'line') {
      const ends = [...xml.matchAll(/\n/g)].map((m) => m.index);
      const at = ends[e.at % ends.length]!;
      xml = xml.slice(0, at) + e.by! + xml.slice(at + 1);
    } else {
      xml = xml.replace('"/>\n   </Notification>', '">\n    </sObject>\n   </Notification>').replace('></sf:Id>', '/>');
    }
  }
  return Buffer.from(xml);
}

/** Limits at and just around what messages of this size reach. */
const LIMITS = fc.record({
  maxDepth: fc.integer({ min: 5, max: 8 }),
  maxElements: fc.integer({ min: 8, max: 60 }),
  maxAttributesPerElement: fc.integer({ min: 2, max: 4 }),
  maxNameLength: fc.integer({ min: 80, max: 90 }),
  maxTextLength: fc.integer({ min: 120, max: 200 }),
});

const SNIPPETS = ['<', '>', '&', '"', "'", '/', ' ', '\r', '\t', '\n', ']]>', '<!--x-->', '&amp;', '&#65;', '\u0000', '\u0001', '\uFFFE', 'é', '\u{1F600}',
  '<sf:X>1</sf:X>', '<sf:X xsi:nil="true"/>', ' xsi:nil="true"', ' x="1"', 'sf:', 'xmlns:sf="urn:x"', '</sObject>', '<Notification>', '</Notification>'];
const { mutation, mutate } = byteMutator(SNIPPETS, { maxDelete: 12, maxDuplicate: 60 });

// ---- the properties ----------------------------------------------------------------------------

describe('the fast path on Salesforce-shaped messages', () => {
  it('takes the fixtures, with the same head and bytes as the general way', () => {
    for (const name of ['contact-1.xml', 'contact-10.xml', 'contact-100.xml', 'opportunity-1.xml']) {
      expect(agree(fixture(name)), name).toBe(true);
    }
  });

  it('agrees with the general way on generated messages, and takes most of the plain ones', () => {
    let taken = 0;
    let runs = 0;
    fc.assert(fc.property(PLAIN, (body) => {
      runs++;
      if (agree(body)) taken++;
    }), { numRuns: 2_000 });
    // Guards against a fast path that declines what it is for.
    expect(taken / runs).toBeGreaterThan(0.3);
    fc.assert(fc.property(EDGY, (body) => {
      agree(body);
    }), { numRuns: 3_000 });
  });

  it('takes what the SOAP writer writes, copying each notification whole', () => {
    fc.assert(fc.property(WRITTEN, (body) => {
      const taken = agree(body);
      expect(taken).toBe(!body.includes('&#13;'));
      if (!taken) return;
      // Copied whole unless its id was written in a form the reader converts.
      for (const n of readCanonical(body, DEFAULT_XML_LIMITS)!.notifications) {
        expect(n.verbatimFrom >= 0).toBe(body.includes(`<Id>${n.id}</Id>`));
      }
    }), { numRuns: 1_500 });
  });

  it('agrees with the general way on what the SOAP writer writes, laid out otherwise', () => {
    fc.assert(fc.property(WRITTEN, fc.array(LAYOUT_EDIT, { minLength: 1, maxLength: 3 }), (body, edits) => {
      agree(edit(body, edits));
    }), { numRuns: 3_000 });
  });

  it('forwards verbatim notifications as parts of the received body, one part for each unbroken run', () => {
    const notification = { id: toId18('04l5g0000J66H9T')!, type: 'Contact', fields: [{ name: 'Email', value: 'a@example.com' }, { name: 'Phone', value: null }] };
    const quoted = { ...notification, id: toId18('04l5g0000J66H9V')!, fields: [{ name: 'LastName', value: "O'Brien" }] };
    const written = buildSoapRequest({
      organizationId: toId18('00D5g000004XyZq')!, actionId: toId18('04k5g000000Gm3Q')!, sessionId: null,
      enterpriseUrl: 'https://acme.my.salesforce.com/e', partnerUrl: 'https://acme.my.salesforce.com/p',
      notifications: [...Array.from({ length: 30 }, () => notification), quoted, ...Array.from({ length: 30 }, () => notification)],
    }, { forwardSessionId: false });
    // As Salesforce might send it: an apostrophe as it is (written back as &apos;), a blank line.
    const received = Buffer.from(written.toString('latin1').replace('&apos;', "'").replace('</Notification>\n', '</Notification>\n\n'), 'latin1');
    const prepared = prepareMessage(received, { format: 'soap', forwardSessionId: false, limits: DEFAULT_XML_LIMITS });
    expect(joinBody(prepared.forwardBody).toString('latin1')).toBe(written.toString('latin1'));
    const parts = prepared.forwardBody as readonly Buffer[];
    // Parts of the received bytes (the writer's own buffer may come from the same pool).
    const within = (part: Buffer): boolean => part.buffer === received.buffer
      && part.byteOffset >= received.byteOffset && part.byteOffset + part.length <= received.byteOffset + received.length;
    const fromBody = parts.filter(within);
    // Head | 1st | (blank line: a new run) 2nd–30th | O'Brien, written | 32nd–61st | tail.
    expect(parts).toHaveLength(6);
    expect(fromBody).toHaveLength(3);
    // The parts taken from the body are the received bytes of whole verbatim notifications.
    for (const part of fromBody) expect(part.toString('latin1')).toMatch(/^ {3}<Notification>[^']*<\/Notification>\n$/);
  });

  it('finds repeated names after its generation counter starts again', () => {
    const names = new NameSet(2 ** 31 - 5);
    const body = Buffer.from('AbAb');
    const fields = new Int32Array(2 * FIELD_SLOTS);
    fields.set([0, 2, 0, 0, 0, 2, 4, 0, 0, 0]);
    for (let round = 0; round < 10; round++) {
      names.clear();
      expect(names.add(body, fields, 0, 7)).toBe(true);
      expect(names.add(body, fields, 1, 7)).toBe(false);
    }
  });

  it('finds a repeated field among hundreds, and takes hundreds of distinct ones', () => {
    const contact1 = fixture('contact-1.xml').toString('utf8');
    const fields = Array.from({ length: 300 }, (_, k) => `\n     <sf:F${k}>v${k}</sf:F${k}>`).join('');
    const many = contact1.replace('\n     <sf:Id>', `${fields}\n     <sf:Id>`);
    expect(agree(Buffer.from(many))).toBe(true);
    const repeated = contact1.replace('\n     <sf:Id>', `${fields}\n     <sf:F150>again</sf:F150>\n     <sf:Id>`);
    expect(readCanonical(Buffer.from(repeated), DEFAULT_XML_LIMITS)).toBeUndefined();
    expect(general(Buffer.from(repeated), DEFAULT_XML_LIMITS)).toBeInstanceOf(GatewayError);
  });

  it('agrees with the general way on what the SOAP writer writes, mutated', () => {
    fc.assert(fc.property(WRITTEN, fc.array(mutation, { minLength: 1, maxLength: 3 }), (body, mutations) => {
      agree(mutate(body, mutations));
    }), { numRuns: 3_000 });
  });

  it('agrees with the general way under tight limits', () => {
    let taken = 0;
    fc.assert(fc.property(PLAIN, LIMITS, (body, limits) => {
      if (agree(body, limits)) taken++;
    }), { numRuns: 2_000 });
    expect(taken).toBeGreaterThan(0);
  });

  it('agrees with the general way on mutated messages', () => {
    fc.assert(fc.property(fc.oneof(PLAIN, EDGY), fc.array(mutation, { minLength: 1, maxLength: 4 }), (body, mutations) => {
      agree(mutate(body, mutations));
    }), { numRuns: 3_000 });
  });

  it('agrees with the general way on mutated fixtures', () => {
    for (const name of ['contact-1.xml', 'opportunity-1.xml']) {
      const source = fixture(name);
      fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        agree(mutate(source, mutations));
      }), { numRuns: 1_500 });
    }
  });
});

describe('the fast path declines, and the general way answers', () => {
  const contact1 = fixture('contact-1.xml').toString('utf8');
  const notification = contact1.slice(contact1.indexOf('<Notification>'), contact1.indexOf('</notifications>'));
  const withNotifications = (count: number): Buffer => Buffer.from(contact1.replace(notification, notification.repeat(count)));

  it.each([
    ['a repeated field', contact1.replace('<sf:Email>', '<sf:Phone>x</sf:Phone><sf:Email>'), 'GW_ERR_SOAP_INVALID'],
    ['a bad id checksum', contact1.replace('00D5g000004XyZqEAK', '00D5g000004XyZqAAA'), 'GW_ERR_ID_INVALID'],
    ['an external entity', contact1.replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'), 'GW_ERR_XML_DOCTYPE'],
    [']]> in a value', contact1.replace('Hiroshi</sf:FirstName>', 'H]]>n</sf:FirstName>'), 'GW_ERR_XML_MALFORMED'],
    ['a control character', contact1.replace('Hiroshi</sf:FirstName>', 'H\u0001n</sf:FirstName>'), 'GW_ERR_XML_MALFORMED'],
    ['an undeclared entity', contact1.replace('Hiroshi</sf:FirstName>', 'H&e;n</sf:FirstName>'), 'GW_ERR_XML_MALFORMED'],
    ['101 notifications', withNotifications(101).toString('utf8'), 'GW_ERR_NOTIFICATION_COUNT'],
  ])('%s', (_, xml, code) => {
    const body = Buffer.from(xml);
    expect(readCanonical(body, DEFAULT_XML_LIMITS)).toBeUndefined();
    let thrown: unknown;
    try {
      prepareMessage(body, { format: 'soap', forwardSessionId: false, limits: DEFAULT_XML_LIMITS });
    } catch (err) {
      thrown = err;
    }
    expect(thrown instanceof GatewayError && thrown.code).toBe(code);
  });

  it('takes 100 notifications and declines invalid UTF-8 in a value', () => {
    expect(agree(withNotifications(100))).toBe(true);
    const invalid = Buffer.from(contact1.replace('Hiroshi', 'Hir\u00f6shi'));
    invalid[invalid.indexOf(0xc3)] = 0xc0; // an overlong lead byte
    expect(readCanonical(invalid, DEFAULT_XML_LIMITS)).toBeUndefined();
    expect(() => prepareMessage(invalid, { format: 'soap', forwardSessionId: false, limits: DEFAULT_XML_LIMITS })).toThrow(GatewayError);
  });
});
