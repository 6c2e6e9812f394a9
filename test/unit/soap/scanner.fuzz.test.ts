/**
 * Differential fuzzing of the scanner against the parser it replaced.
 *
 * Two parsers that read one document differently are how parser-differential attacks work; a new
 * hand-written parser is also where new bugs live. The defence: the previous implementation (a
 * strict pre-scan, then fast-xml-parser on the tags, then a conversion) is kept as an oracle
 * (test/oracle/parser-fxp.ts), and for every document below both must agree exactly: the same tree
 * (names, namespaces, attributes, text, in-scope declarations) or the same error code. The inputs
 * are mutated Salesforce envelopes, documents built from XML fragments (with default and with
 * tight limits, so that every limit is hit), generated trees written in every syntax variant and
 * then mutated, non-ASCII-heavy documents, and random bytes.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { DEFAULT_XML_LIMITS, parseXml } from '../../../src/soap/parser.js';
import type { XmlElement, XmlLimits } from '../../../src/soap/types.js';
import { byteMutator } from '../../helpers/mutations.js';
import { NAMED_REFERENCES, serialiseTree, treeArbitrary, type SerialiseStyle, type TreeModel } from '../../helpers/xml-trees.js';
import { parseXmlFxp } from '../../oracle/parser-fxp.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/salesforce/${name}`, import.meta.url));

const TIGHT: XmlLimits = { maxDepth: 4, maxElements: 12, maxAttributesPerElement: 3, maxNameLength: 8, maxTextLength: 16 };

interface Projected {
  readonly name: readonly [string, string, string];
  readonly attributes: readonly (readonly [string, string, string, string])[];
  readonly text: string;
  readonly namespaces: readonly (readonly [string, string])[];
  readonly children: readonly Projected[];
}

function project(element: XmlElement): Projected {
  return {
    name: [element.ns, element.prefix, element.local],
    attributes: element.attributes.map((a) => [a.ns, a.prefix, a.local, a.value] as const),
    text: element.text,
    namespaces: [...element.namespaces],
    children: element.children.map(project),
  };
}

type Outcome = { readonly code: string } | { readonly tree: Projected };

function outcome(parse: (body: Buffer, limits: XmlLimits) => XmlElement, body: Buffer, limits: XmlLimits): Outcome {
  try {
    return { tree: project(parse(body, limits)) };
  } catch (err) {
    if (err instanceof GatewayError) return { code: err.code };
    throw err;
  }
}

let compared = 0;
let accepted = 0;

/** Both parsers: the same tree or the same error code; never GW_ERR_INTERNAL. */
function agree(body: Buffer, limits: XmlLimits = DEFAULT_XML_LIMITS): void {
  const expected = outcome(parseXmlFxp, body, limits);
  const actual = outcome(parseXml, body, limits);
  compared++;
  if ('tree' in actual) accepted++;
  expect(actual, body.toString('latin1').slice(0, 500)).toEqual(expected);
  if ('code' in actual) expect(actual.code).not.toBe('GW_ERR_INTERNAL');
}

// ---- mutations ----------------------------------------------------------------------------------

const SNIPPETS = [
  '<', '>', '&', '"', "'", '/', '=', ':', ']', ']]', ']]>', '<!--', '-->', '--', '<![CDATA[', '<!DOCTYPE a>', '<?pi?>',
  '<?xml version="1.0"?>', '&e;', '&amp;', '&lt;', '&#0;', '&#9;', '&#13;', '&#x10FFFF;', '&#xD800;', '&#65;', '&#x1F600;',
  '<a>', '</a>', '<a/>', ' xmlns="urn:x"', ' xmlns:sf="urn:x"', ' xmlns:p=""', ' xmlns=""', ' xsi:nil="true"', ' x="1"', ' x="1"',
  '<sf:X>1</sf:X>', '<__proto__/>', ' __proto__="1"', '\u0000', '\u0001', '\r', '\r\n', '\t', '\n', '\uFEFF', '\u{1F600}', 'é',
  '東京', '\uFF01', '\uFFFD', '\uFFFE', '\uFFFF', `${'ü'.repeat(200)}`, 'x'.repeat(40),
];

const { mutation, mutate } = byteMutator(SNIPPETS, { insertWeight: 2 });

describe('the scanner agrees with the fast-xml-parser oracle', () => {
  for (const name of ['contact-1.xml', 'contact-10.xml', 'opportunity-1.xml', 'ack.xml']) {
    it(`on mutated ${name}`, () => {
      const source = fixture(name);
      agree(source);
      fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 5 }), (mutations) => agree(mutate(source, mutations))), { numRuns: 1_500 });
    });
  }

  it('on mutated contact-100.xml, a few bytes changed in 75 KB', () => {
    const source = fixture('contact-100.xml');
    agree(source);
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => agree(mutate(source, mutations))), { numRuns: 200 });
  });

  it('on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => agree(Buffer.from(bytes))), { numRuns: 500 });
  });

  const TOKENS = [
    '<a', '<b', '<p:c', '<q:d', '<é', '<𐀀', '<__proto__', '</a>', '</b>', '</p:c>', '</q:d>', '</é>', '</𐀀>', '</__proto__>', '>', '/>', ' ', '\n',
    ' x="1"', " y='2'", ' p:z="&amp;"', ' q:z="3"', ' xmlns="urn:d"', ' xmlns:p="urn:p"', ' xmlns:q="urn:p"', ' xmlns:q="urn:q"', ' xmlns=""',
    ' xmlns:p=""', ' xmlns:xml="http://www.w3.org/XML/1998/namespace"', ' xml:lang="en"', ' __proto__="x"', ' x="a>b"', " x='\"'",
    ' x="\t\r\n"', ' x="a&#9;b&#10;&#13;\r\nc"', ' x="<"', ' x="é&lt;\u{1F600}"', ' x="\uFF01\uFFFD"', ' x="\uFFFE"', 'text', 'é',
    '東京', '\uFF01', '\uFFFD', '\uFFFE', '\u{1F600}', '&lt;', '&#x1F600;', '&#13;', '&#0;', '&bogus;', '&', ']', ']]', ']]>', '<![CDATA[',
    '<![CDATA[é\r\n<a>&amp;]]>', '<!--', '-->', '<!-- c -->', '<!-- é -->', '<!DOCTYPE a>', '<?pi?>', '\r', '\r\n', '\t', '\u0001',
    '\u1680', '\ufeff', '=', '"', "'", '<', ';', 'x'.repeat(20), 'ü'.repeat(140),
    // More bytes than TIGHT.maxTextLength and maxNameLength, fewer UTF-16 code units.
    'é'.repeat(10), '東'.repeat(6), '\u{1F600}'.repeat(5), '<ééééé', '</ééééé>', ' ééééé="1"',
    // One code unit in many bytes.
    `&#${'0'.repeat(60)}65;`, ` z="&#x${'0'.repeat(60)}41;"`,
  ];
  const soup = fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 40 }).map((tokens) => tokens.join(''));
  const wrapped = fc.oneof(soup, soup.map((inner) => `<r xmlns:p="urn:p">${inner}</r>`), soup.map((inner) => `<?xml version="1.0"?>\n<r xmlns:p="urn:p" xmlns:q="urn:q">${inner}</r>`));

  it('on documents built from XML fragments', () => {
    fc.assert(fc.property(wrapped, (xml) => agree(Buffer.from(xml))), { numRuns: 6_000 });
  });

  it('on documents built from XML fragments, under tight limits', () => {
    fc.assert(fc.property(wrapped, (xml) => agree(Buffer.from(xml), TIGHT)), { numRuns: 4_000 });
  });

  it('on generated trees, as written and mutated', () => {
    fc.assert(
      fc.property(treeOf(3), fc.nat({ max: 1_000 }), fc.array(mutation, { maxLength: 3 }), (tree, style, mutations) => {
        const xml = Buffer.from(serialise(tree, true, style));
        agree(xml);
        agree(mutate(xml, mutations));
        agree(mutate(xml, mutations), TIGHT);
      }),
      { numRuns: 1_500 },
    );
  });

  it('compared thousands of documents and accepted a share of them', () => {
    // Runs last in this file: the counts are the evidence the report quotes.
    expect(compared).toBeGreaterThan(20_000);
    expect(accepted).toBeGreaterThan(1_000);
    console.log(`scanner differential: ${compared} documents compared, ${accepted} accepted by both, the rest refused with the same code`);
  });
});

// ---- generated trees ------------------------------------------------------------------------------

const NAMES = ['a', 'b', 'Field__c', '__proto__', 'constructor', 'x.y-z', 'é', '𐀀', '_', 'ab·c', 'naïve', 'données'];

const xmlChar: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('\t', '\n', '\r', ' ', '&', '<', '>', '"', "'", ']', '\u0085', '\u2028', '\u00a0', '\ufeff', '\uff01', '\ufffd', '0') },
  { weight: 3, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xd7ff }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0xe000, max: 0xfffd }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)) },
);
const text = fc.oneof(
  { weight: 4, arbitrary: fc.array(xmlChar, { maxLength: 8 }).map((chars) => chars.join('')) },
  // Long enough for the transcode path (256 bytes and more).
  { weight: 1, arbitrary: fc.array(xmlChar, { minLength: 100, maxLength: 200 }).map((chars) => chars.join('')) },
);

const treeOf = (depth: number): fc.Arbitrary<TreeModel> => treeArbitrary(NAMES, text, depth);

const NAMED = NAMED_REFERENCES;

function encodeChar(char: string, how: number): string {
  const cp = char.codePointAt(0) ?? 0;
  switch (how % 6) {
    case 0:
    case 5:
      return ['<', '&'].includes(char) ? NAMED[char] ?? '' : char === '>' ? '&gt;' : char;
    case 1:
      return `&#${cp};`;
    case 2:
      return `&#x${cp.toString(16)};`;
    case 3:
      return NAMED[char] ?? char;
    default:
      return `<![CDATA[${char}]]>`;
  }
}

function encodeAttributeChar(char: string, quote: string, how: number): string {
  const cp = char.codePointAt(0) ?? 0;
  if (['<', '&', quote].includes(char)) return how % 2 === 0 ? NAMED[char] ?? '' : `&#${cp};`;
  // Literal whitespace is kept on purpose: it is normalised to a space by both parsers.
  return how % 5 === 0 ? `&#x${cp.toString(16)};` : char;
}

/** Literal line ends and whitespace too: both parsers must normalise them alike. */
const VARIANTS: SerialiseStyle = {
  encodeChar, encodeAttributeChar, spaces: [' ', '\n ', '\t', '  ', '\r\n'], comment: '<!-- comment é -->', redeclare: true,
};
const serialise = (tree: TreeModel, root: boolean, style: number): string => serialiseTree(tree, root, style, VARIANTS);
