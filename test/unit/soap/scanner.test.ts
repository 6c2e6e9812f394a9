/**
 * The scanner's own paths: the byte-level reading (non-ASCII text decoded piece by piece, limits
 * counted in UTF-16 code units, not bytes), the shared name cache, the order of errors, and
 * linear time on inputs built against each fast path. parser.test.ts holds the contract every
 * parseXml implementation must meet; scanner.fuzz.test.ts holds the scanner to the previous one.
 */
import { describe, expect, it } from 'vitest';
import { GatewayError, type ErrorCode } from '../../../src/errors.js';
import { DEFAULT_XML_LIMITS, parseXml } from '../../../src/soap/parser.js';
import type { XmlElement, XmlLimits } from '../../../src/soap/types.js';
import { parseXmlFxp } from '../../oracle/parser-fxp.js';

const parse = (xml: string | Buffer, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlElement =>
  parseXml(typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml, limits);

function codeOf(fn: () => unknown): ErrorCode | 'accepted' {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    if (err instanceof GatewayError) return err.code;
    throw err;
  }
}

/** The code for `xml`, which the previous parser must give too. */
function code(xml: string | Buffer, limits: XmlLimits = DEFAULT_XML_LIMITS): ErrorCode | 'accepted' {
  const body = typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml;
  const result = codeOf(() => parseXml(body, limits));
  expect(codeOf(() => parseXmlFxp(body, limits))).toBe(result);
  return result;
}

function within(ms: number, fn: () => unknown): void {
  const started = performance.now();
  fn();
  expect(performance.now() - started).toBeLessThan(ms);
}

const limited = (overrides: Partial<XmlLimits>): XmlLimits => ({ ...DEFAULT_XML_LIMITS, ...overrides });

describe('non-ASCII character data', () => {
  it('reads short and long non-ASCII text, attributes and CDATA exactly (both decoders)', () => {
    // Short values with up to 3 non-ASCII characters are decoded in JavaScript, longer ones natively.
    for (const value of ['Schäfer', 'ñandú\u{1F600}', 'é', '\u{1F600}', 'Łódź – 東京 \u{1F600}', `${'Ærøskøbing 東京 \u{1F600} '.repeat(40)}end`]) {
      const root = parse(`<a v="${value}">${value}<![CDATA[${value}]]><b>${value}&amp;${value}</b></a>`);
      expect(root.attributes[0]?.value).toBe(value);
      expect(root.text).toBe(value + value);
      expect(root.children[0]?.text).toBe(`${value}&${value}`);
    }
  });

  it('accepts characters whose UTF-8 starts like U+FFFE: U+FF01, U+FFFD, U+F900', () => {
    const value = '\uff01\ufffd\uf900';
    expect(parse(`<a v="${value}"><!--${value}-->${value}<![CDATA[${value}]]></a>`).text).toBe(value + value);
    expect(parse(`<a>${value.repeat(200)}</a>`).text).toBe(value.repeat(200));
  });

  it('refuses U+FFFE and U+FFFF wherever they are, in short and long runs', () => {
    for (const bad of ['\ufffe', '\uffff']) {
      for (const xml of [`<a>${bad}</a>`, `<a>${'é'.repeat(300)}${bad}</a>`, `<a>x&amp;${bad}</a>`, `<a v="${bad}"/>`,
        `<a v="&lt;${bad}"/>`, `<a><![CDATA[${bad}]]></a>`, `<a><!--${bad}--></a>`, `<!--${bad}--><a/>`]) {
        expect(code(xml)).toBe('GW_ERR_XML_MALFORMED');
      }
    }
  });

  it('reads non-ASCII names and resolves their prefixes', () => {
    const root = parse('<é:données xmlns:é="urn:e" é:ñ="1"><𐀀 ab·c="2"/></é:données>');
    expect([root.ns, root.prefix, root.local]).toEqual(['urn:e', 'é', 'données']);
    expect(root.attributes[0]).toEqual({ ns: 'urn:e', prefix: 'é', local: 'ñ', value: '1' });
    expect(root.children[0]?.attributes[0]?.local).toBe('ab·c');
  });
});

describe('limits count UTF-16 code units, as the previous parser did, not bytes', () => {
  const units = (n: number, char: string): string => char.repeat(n / char.length);
  for (const char of ['é', '東', '\u{1F600}']) {
    it(`with ${JSON.stringify(char)} (${Buffer.byteLength(char)} bytes, ${char.length} units)`, () => {
      const limits = limited({ maxTextLength: 16, maxNameLength: 8 });
      const ok = units(16, char);
      const over = units(16, char) + 'x';
      expect(code(`<a>${ok}</a>`, limits)).toBe('accepted');
      expect(code(`<a>${over}</a>`, limits)).toBe('GW_ERR_XML_LIMIT');
      expect(code(`<a>${ok.slice(0, 8)}<![CDATA[${ok.slice(8)}]]></a>`, limits)).toBe('accepted');
      expect(code(`<a>${ok}<![CDATA[x]]></a>`, limits)).toBe('GW_ERR_XML_LIMIT');
      expect(code(`<a v="${ok}"/>`, limits)).toBe('accepted');
      expect(code(`<a v="${over}"/>`, limits)).toBe('GW_ERR_XML_LIMIT');
      expect(code(`<a><!--${ok}--></a>`, limits)).toBe('accepted');
      expect(code(`<a><!--${over}--></a>`, limits)).toBe('GW_ERR_XML_LIMIT');
      expect(code(`<a>${ok.slice(0, 14)}&#x1F600;</a>`, limits)).toBe('accepted');
      expect(code(`<a>${ok.slice(0, 15)}&#x1F600;</a>`, limits)).toBe('GW_ERR_XML_LIMIT');
      if (char !== '\u{1F600}') {
        expect(code(`<${units(8, char)}/>`, limits)).toBe('accepted');
        expect(code(`<${units(8, char)}x/>`, limits)).toBe('GW_ERR_XML_LIMIT');
      }
    });
  }

  it('accepts references of any length: &#0000065; is one code unit', () => {
    const limits = limited({ maxTextLength: 4 });
    const long = `&#${'0'.repeat(100)}65;`;
    expect(parse(`<a v="${long.repeat(4)}">${long.repeat(4)}</a>`, limits).text).toBe('AAAA');
    expect(code(`<a>${long.repeat(5)}</a>`, limits)).toBe('GW_ERR_XML_LIMIT');
    expect(code(`<a v="${long.repeat(5)}"/>`, limits)).toBe('GW_ERR_XML_LIMIT');
  });

  it('counts a literal CR LF as two units, though it is read as one LF', () => {
    const limits = limited({ maxTextLength: 4 });
    expect(code('<a>a\r\nb</a>', limits)).toBe('accepted');
    expect(code('<a>ab\r\nc</a>', limits)).toBe('GW_ERR_XML_LIMIT');
  });
});

describe('the order of errors is the previous parser\'s', () => {
  it('reports the first error in document order, a limit before a later malformation', () => {
    const limits = limited({ maxTextLength: 8 });
    expect(code('<a>123456789\u0001</a>', limits)).toBe('GW_ERR_XML_LIMIT');
    expect(code('<a>\u0001123456789</a>', limits)).toBe('GW_ERR_XML_MALFORMED');
    expect(code('<a>123456789&bogus;</a>', limits)).toBe('GW_ERR_XML_LIMIT');
    expect(code('<a>1&bogus;23456789</a>', limits)).toBe('GW_ERR_XML_MALFORMED');
    expect(code('<a v="123456789<"/>', limits)).toBe('GW_ERR_XML_LIMIT');
    expect(code('<a v="1<23456789"/>', limits)).toBe('GW_ERR_XML_MALFORMED');
  });

  it('reports namespace errors only once the rest of the document is well-formed and within limits', () => {
    expect(code(`<p:a>${'<b>'.repeat(20)}${'</b>'.repeat(20)}</p:a>`)).toBe('GW_ERR_XML_LIMIT');
    expect(code('<p:a><?pi?></p:a>')).toBe('GW_ERR_XML_PI');
    expect(code('<a xmlns:p=""><!DOCTYPE a></a>')).toBe('GW_ERR_XML_DOCTYPE');
    expect(code('<p:a/>')).toBe('GW_ERR_XML_MALFORMED');
  });
});

describe('the shared name cache never changes what a name means', () => {
  it('resolves one name to the namespace in scope, across siblings and documents', () => {
    const root = parse('<r><a xmlns="urn:1"><b/></a><a xmlns="urn:2"><b/></a><a xmlns="urn:1"><b/></a><b/></r>');
    expect(root.children.map((a) => a.children[0]?.ns ?? a.ns)).toEqual(['urn:1', 'urn:2', 'urn:1', '']);
    expect(parse('<b xmlns="urn:3"/>').ns).toBe('urn:3');
    expect(parse('<b/>').ns).toBe('');
    expect(code('<r xmlns:p="urn:p"><p:b/></r>')).toBe('accepted');
    expect(code('<r><p:b/></r>')).toBe('GW_ERR_XML_MALFORMED');
  });

  it('keeps sibling declarations apart when they differ, and equal when they do not', () => {
    const root = parse('<r><s xmlns:p="urn:1"><p:x/></s><s xmlns:p="urn:2"><p:x/></s><s xmlns:p="urn:2" xmlns:q="urn:q"><p:x/></s></r>');
    expect(root.children.map((s) => s.children[0]?.ns)).toEqual(['urn:1', 'urn:2', 'urn:2']);
    expect(root.children.map((s) => s.namespaces.get('q'))).toEqual([undefined, undefined, 'urn:q']);
  });

  it('reads thousands of distinct names, and names longer than the cache keeps', () => {
    const names = Array.from({ length: 5_000 }, (_, i) => `n${i.toString(36)}_${'x'.repeat(i % 80)}`);
    const root = parse(`<r>${names.map((n) => `<${n}/>`).join('')}</r>`);
    expect(root.children.map((c) => c.local)).toEqual(names);
    expect(parse(`<r>${names.map((n) => `<${n}/>`).join('')}</r>`).children.map((c) => c.local)).toEqual(names);
  });
});

describe('duplicate attributes, however many', () => {
  it('finds a duplicate among many attributes, by name and after namespace resolution', () => {
    const limits = limited({ maxAttributesPerElement: 5_000 });
    const many = Array.from({ length: 3_000 }, (_, i) => `a${i}="1"`).join(' ');
    expect(parse(`<r ${many}/>`, limits).attributes).toHaveLength(3_000);
    expect(code(`<r ${many} a17="2"/>`, limits)).toBe('GW_ERR_XML_MALFORMED');
    expect(code(`<r xmlns:p="urn:x" xmlns:q="urn:x" ${many} p:z="1" q:z="2"/>`, limits)).toBe('GW_ERR_XML_MALFORMED');
    within(1_000, () => expect(code(`<r ${Array.from({ length: 5_000 }, (_, i) => `a${i}="1"`).join(' ')}/>`, limits)).toBe('accepted'));
  });
});

describe('input buffers', () => {
  it('reads a body that is a slice of a larger buffer', () => {
    const whole = Buffer.from('garbage<!DOCTYPE<a x="é">Schäfer</a>&&&');
    const body = whole.subarray(16, whole.length - 3);
    expect(parse(body).text).toBe('Schäfer');
  });
});

describe('linear time on inputs built against each fast path', () => {
  // Attack: make a single-pass parser search the rest of the document again and again. Defence:
  // every search either ends inside the construct being read or is remembered (']]>').
  // Budgets are generous for a loaded machine: a quadratic search would take minutes here.
  it('reads 200,000 text runs that hold ]', () => {
    within(2_000, () => expect(parse(`<r>${']<!---->'.repeat(200_000)}</r>`).text).toHaveLength(200_000));
  });

  it('reads 100,000 text runs with a reference each', () => {
    within(2_000, () => expect(parse(`<r>${'a&amp;<!---->'.repeat(100_000)}</r>`).text).toHaveLength(200_000));
  });

  it('reads 20,000 attribute values with references and non-ASCII characters', () => {
    const element = '<a v="é&amp;\t&#x1F600;ｆ"/>';
    within(2_000, () => expect(parse(`<r>${element.repeat(20_000)}</r>`).children).toHaveLength(20_000));
  });

  it('refuses an unclosed attribute value and an unclosed comment over 4 MB quickly', () => {
    within(1_000, () => expect(code(`<a x="${'x'.repeat(4 << 20)}`)).toBe('GW_ERR_XML_LIMIT'));
    within(1_000, () => expect(code(`<a><!--${'é'.repeat(2 << 20)}`)).toBe('GW_ERR_XML_MALFORMED'));
  });

  it('refuses 4 MB of non-ASCII text, as text and as CDATA', () => {
    within(1_000, () => expect(code(`<a>${'東'.repeat(1_400_000)}</a>`)).toBe('GW_ERR_XML_LIMIT'));
    within(1_000, () => expect(code(`<a><![CDATA[${'東'.repeat(1_400_000)}]]></a>`)).toBe('GW_ERR_XML_LIMIT'));
  });
});
