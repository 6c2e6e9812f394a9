import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, it, expect } from 'vitest';
import { NS_OUTBOUND, NS_SOAP11, NS_SOBJECT, NS_XSI } from '../../../src/constants.js';
import { GatewayError } from '../../../src/errors.js';
import { buildJsonRequest } from '../../../src/forward/json-body.js';
import { buildSoapRequest } from '../../../src/forward/soap-body.js';
import { readSoapAck } from '../../../src/soap/ack.js';
import { readOutboundMessage } from '../../../src/soap/envelope.js';
import { DEFAULT_XML_LIMITS, parseXml } from '../../../src/soap/parser.js';
import type { OutboundMessage, XmlElement } from '../../../src/soap/types.js';
import { escapeAttribute, escapeText } from '../../../src/soap/xml-escape.js';
import { byteMutator } from '../../helpers/mutations.js';
import { NAMED_REFERENCES, serialiseTree, TREE_NAMESPACES, treeArbitrary, type SerialiseStyle, type TreeModel } from '../../helpers/xml-trees.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/salesforce/${name}`, import.meta.url));

/** Per-input budget: every input here is at most a few kilobytes, so this is generous. */
const MAX_MS = 250;

const readMessage = (body: Buffer): OutboundMessage => readOutboundMessage(parseXml(body, DEFAULT_XML_LIMITS));

/**
 * Runs `fn` and fails unless it returns or throws a GatewayError within MAX_MS. GW_ERR_INTERNAL
 * fails too: from the parser it means fast-xml-parser read a document differently from the
 * pre-scan, the parser differential the cross-check exists to catch.
 */
function onlyGatewayErrors<T>(fn: () => T): T | GatewayError {
  const started = performance.now();
  let outcome: T | GatewayError;
  try {
    outcome = fn();
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    outcome = err;
  }
  expect(performance.now() - started).toBeLessThan(MAX_MS);
  if (outcome instanceof GatewayError) expect(outcome.code).not.toBe('GW_ERR_INTERNAL');
  return outcome;
}

// ---- mutations of real envelopes ----------------------------------------------------------------

const SNIPPETS = [
  '<', '>', '&', '"', "'", '/', '=', ':', ']]>', '<!--', '-->', '<![CDATA[', '<!DOCTYPE a [<!ENTITY e "x">]>',
  '<?pi?>', '<?xml version="1.0"?>', '&e;', '&amp;', '&#0;', '&#x10FFFF;', '&#xD800;', '&#65;', '<a>', '</a>', '<a/>',
  ' xmlns="urn:x"', ' xmlns:sf="urn:x"', ' xmlns:p=""', ' xsi:nil="true"', ' xsi:type="sf:X"', ' x="1"',
  '<sf:X>1</sf:X>', '<Notification/>', '<__proto__/>', ' __proto__="1"', '\u0000', '\r', '\t', '\uFEFF', '\u{1F600}',
];

const { mutation, mutate } = byteMutator(SNIPPETS);

describe('parseXml and readOutboundMessage on mutated Salesforce envelopes', () => {
  for (const name of ['contact-1.xml', 'contact-10.xml', 'opportunity-1.xml']) {
    it(`never throws anything but a GatewayError, in bounded time, and what passes rebuilds exactly (${name})`, () => {
      const source = fixture(name);
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), (mutations) => {
          const outcome = onlyGatewayErrors(() => readMessage(mutate(source, mutations)));
          if (outcome instanceof GatewayError) return;
          // Whatever was accepted must survive the forward builders unchanged.
          expect(readMessage(Buffer.from(buildSoapRequest(outcome, { forwardSessionId: true })))).toEqual(outcome);
          expect(() => JSON.parse(buildJsonRequest(outcome, { forwardSessionId: true })) as unknown).not.toThrow();
        }),
        { numRuns: 400 },
      );
    });
  }

  it('readSoapAck never throws anything but a GatewayError on mutated acknowledgements', () => {
    const source = fixture('ack.xml');
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const outcome = onlyGatewayErrors(() => readSoapAck(mutate(source, mutations)));
        if (!(outcome instanceof GatewayError)) expect(typeof outcome).toBe('boolean');
        else expect(outcome.code).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
      }),
      { numRuns: 300 },
    );
  });

  it('never throws anything but a GatewayError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        onlyGatewayErrors(() => readMessage(Buffer.from(bytes)));
      }),
      { numRuns: 300 },
    );
  });
});

// ---- token soup: documents built from XML fragments -------------------------------------------

const TOKENS = [
  '<a', '<b', '<p:c', '<__proto__', '<constructor', '</a>', '</b>', '</p:c>', '</__proto__>', '</constructor>', '>', '/>', ' ', '\n',
  ' x="1"', " y='2'", ' p:z="&amp;"', ' xmlns="urn:d"', ' xmlns:p="urn:p"', ' xmlns=""', ' __proto__="x"', ' toString="y"',
  ' x="a>b"', " x='\"'", ' x="\t\r\n"', 'text', '&lt;', '&#x1F600;', '&#13;', ']]', '<![CDATA[', ']]>', '<!--', '-->', '-',
  '<!-- c -->', '<![CDATA[<a>&amp;]]>', '\u1680', '\ufeff', 'é', '=', '"', "'", '<', '&', ';',
];

describe('parseXml agrees with fast-xml-parser on documents built from fragments', () => {
  it('never reports a parser differential and never throws anything but a GatewayError', () => {
    const soup = fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 40 }).map((tokens) => tokens.join(''));
    const wrapped = fc.oneof(soup, soup.map((inner) => `<r xmlns:p="urn:p">${inner}</r>`));
    fc.assert(
      fc.property(wrapped, (xml) => {
        onlyGatewayErrors(() => parseXml(Buffer.from(xml), DEFAULT_XML_LIMITS));
      }),
      { numRuns: 1_000 },
    );
  });
});

// ---- generated values, written in every way XML allows -----------------------------------------

/** One character that XML 1.0 can carry, with special characters weighted up. */
const xmlChar: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('\t', '\n', '\r', ' ', '&', '<', '>', '"', "'", ']', '\u0085', '\u2028', '\u00a0', '\ufeff', '0') },
  { weight: 3, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xd7ff }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0xe000, max: 0xfffd }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)) },
);

const NAMED = NAMED_REFERENCES;

/** Writes one character as raw text, a named or numeric reference, or a CDATA section. */
function encodeChar(char: string, how: number): string {
  const cp = char.codePointAt(0) ?? 0;
  const raw = !['<', '&', '>', '\r'].includes(char);
  switch (how % 5) {
    case 0:
      if (raw) return char;
      return NAMED[char] ?? `&#${cp};`;
    case 1:
      return `&#${cp};`;
    case 2:
      return `&#x${cp.toString(16)};`;
    case 3:
      return `&#x000${cp.toString(16).toUpperCase()};`;
    default:
      // A literal CR is read back as LF (XML 1.0 section 2.11), in CDATA too.
      return char === '\r' ? '&#13;' : `<![CDATA[${char}]]>`;
  }
}

const encodedValue = fc.array(fc.tuple(xmlChar, fc.nat()), { maxLength: 40 }).map((pairs) => ({
  value: pairs.map(([char]) => char).join(''),
  xml: pairs.map(([char, how]) => encodeChar(char, how)).join(''),
}));

const fieldsArbitrary = fc.uniqueArray(
  fc.record({ name: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,12}$/), value: fc.option(encodedValue, { nil: null }) }),
  { minLength: 1, maxLength: 6, selector: (f) => f.name },
);

function notificationsXml(fields: readonly { readonly name: string; readonly value: { readonly xml: string } | null }[]): string {
  const written = fields.map(({ name, value }) => (value === null ? `<sf:${name} xsi:nil="true"/>` : `<sf:${name}>${value.xml}</sf:${name}>`)).join('');
  return `<soapenv:Envelope xmlns:soapenv="${NS_SOAP11}" xmlns:xsi="${NS_XSI}"><soapenv:Body><notifications xmlns="${NS_OUTBOUND}">`
    + '<OrganizationId>00D5g000004XyZqEAK</OrganizationId><ActionId>04k5g000000Gm3QAAS</ActionId><SessionId xsi:nil="true"/>'
    + '<EnterpriseUrl>https://a.my.salesforce.com/c</EnterpriseUrl><PartnerUrl>https://a.my.salesforce.com/u</PartnerUrl>'
    + `<Notification><Id>04l5g0000bnWgrYAAS</Id><sObject xsi:type="sf:Invoice__c" xmlns:sf="${NS_SOBJECT}">${written}</sObject></Notification>`
    + '</notifications></soapenv:Body></soapenv:Envelope>';
}

describe('field values round-trip exactly through parse, build and parse', () => {
  it('reads every encoding of a value as the value, and both builders carry it unchanged', () => {
    fc.assert(
      fc.property(fieldsArbitrary, (fields) => {
        const expected = fields.map(({ name, value }) => ({ name, value: value === null ? null : value.value }));
        const msg = readMessage(Buffer.from(notificationsXml(fields)));
        expect(msg.notifications[0]?.fields).toEqual(expected);

        const rebuilt = readMessage(Buffer.from(buildSoapRequest(msg, { forwardSessionId: false })));
        expect(rebuilt).toEqual(msg);

        const json = JSON.parse(buildJsonRequest(msg, { forwardSessionId: false })) as { notifications: { fields: Record<string, string | null> }[] };
        expect(Object.entries(json.notifications[0]?.fields ?? {})).toEqual(expected.map((f) => [f.name, f.value]));
      }),
      { numRuns: 300 },
    );
  });

  it('escapes any XML string so that text and attribute values parse back unchanged', () => {
    fc.assert(
      fc.property(fc.array(xmlChar, { maxLength: 60 }).map((chars) => chars.join('')), (value) => {
        const root = parseXml(Buffer.from(`<a v="${escapeAttribute(value)}">${escapeText(value)}</a>`), DEFAULT_XML_LIMITS);
        expect(root.text).toBe(value);
        expect(root.attributes[0]?.value).toBe(value);
      }),
      { numRuns: 300 },
    );
  });
});

// ---- generated trees, written with every syntax variant, read back exactly ---------------------

const NAMES = ['a', 'b', 'Field__c', '__proto__', 'constructor', 'prototype', 'toString', 'x.y-z', 'é', '𐀀', '_'];
const text = fc.array(xmlChar, { maxLength: 8 }).map((chars) => chars.join(''));
const treeOf = (depth: number): fc.Arbitrary<TreeModel> => treeArbitrary(NAMES, text, depth);

/** Writes one attribute-value character; literal whitespace would be normalised to a space. */
function encodeAttributeChar(char: string, quote: string, how: number): string {
  const cp = char.codePointAt(0) ?? 0;
  const special = ['<', '&', quote, '\t', '\n', '\r'].includes(char);
  switch (how % 3) {
    case 0:
      return special ? NAMED[char] ?? `&#${cp};` : char;
    case 1:
      return `&#${cp};`;
    default:
      return `&#x${cp.toString(16)};`;
  }
}

/** Encodings that read back exactly: a literal CR or whitespace in a value would be normalised. */
const EXACT: SerialiseStyle = { encodeChar, encodeAttributeChar, spaces: [' ', '\n ', '\t', '  '], comment: '<!-- comment -->' };
const serialise = (tree: TreeModel, root: boolean, style: number): string => serialiseTree(tree, root, style, EXACT);

interface Projected {
  readonly ns: string;
  readonly local: string;
  readonly attributes: readonly (readonly [string, string, string])[];
  readonly text: string;
  readonly children: readonly Projected[];
}

function expectedOf(tree: TreeModel): Projected {
  return {
    ns: TREE_NAMESPACES[tree.prefix] ?? '',
    local: tree.local,
    attributes: tree.attributes.map((a) => [a.prefix === '' ? '' : TREE_NAMESPACES[a.prefix] ?? '', a.local, a.value] as const),
    text: tree.pieces.join(''),
    children: tree.children.map(expectedOf),
  };
}

function project(element: XmlElement): Projected {
  return {
    ns: element.ns,
    local: element.local,
    attributes: element.attributes.map((a) => [a.ns, a.local, a.value] as const),
    text: element.text,
    children: element.children.map(project),
  };
}

describe('parseXml reads generated trees exactly as they were written', () => {
  it('resolves names, decodes values and keeps structure, whatever the syntax variant', () => {
    fc.assert(
      fc.property(treeOf(3), fc.nat({ max: 1_000 }), (tree, style) => {
        const xml = serialise(tree, true, style);
        const parsed = onlyGatewayErrors(() => parseXml(Buffer.from(xml), DEFAULT_XML_LIMITS));
        if (parsed instanceof GatewayError) throw new Error(`refused a well-formed document (${parsed.code}: ${parsed.detail ?? ''}): ${xml}`);
        expect(project(parsed)).toEqual(expectedOf(tree));
      }),
      { numRuns: 500 },
    );
  });
});
