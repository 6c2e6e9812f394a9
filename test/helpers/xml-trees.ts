/**
 * Generated XML element trees for the parser fuzzers, and one serialiser that writes a tree in
 * many syntax variants (whitespace, quotes, self-closing tags, comments, references, CDATA).
 * Each suite brings its own names, text and character encoders: the read-back suite needs
 * encodings that round-trip exactly, the differential suite wants literal line ends too.
 */
import fc from 'fast-check';

export interface TreeModel {
  readonly prefix: '' | 'p' | 'q';
  readonly local: string;
  readonly attributes: readonly { readonly prefix: '' | 'p'; readonly local: string; readonly value: string }[];
  readonly pieces: readonly string[];
  readonly children: readonly TreeModel[];
}

/** The namespaces every generated document declares on its root. */
export const TREE_NAMESPACES: Readonly<Record<string, string>> = { '': 'urn:d', p: 'urn:p', q: 'urn:q' };

export const NAMED_REFERENCES: Readonly<Record<string, string>> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' };

/** Trees up to `depth` levels below the root, names from `names`, text and values from `text`. */
export function treeArbitrary(names: readonly string[], text: fc.Arbitrary<string>, depth: number): fc.Arbitrary<TreeModel> {
  return fc.record({
    prefix: fc.constantFrom('' as const, 'p' as const, 'q' as const),
    local: fc.constantFrom(...names),
    attributes: fc.uniqueArray(
      fc.record({ prefix: fc.constantFrom('' as const, 'p' as const), local: fc.constantFrom(...names), value: text }),
      { maxLength: 4, selector: (a) => `${a.prefix}:${a.local}` },
    ),
    pieces: fc.array(text, { minLength: 1, maxLength: 4 }),
    children: depth === 0 ? fc.constant([]) : fc.array(treeArbitrary(names, text, depth - 1), { maxLength: 3 }),
  });
}

export interface SerialiseStyle {
  readonly encodeChar: (char: string, how: number) => string;
  readonly encodeAttributeChar: (char: string, quote: string, how: number) => string;
  /** Whitespace used between attributes, picked by the style number. */
  readonly spaces: readonly string[];
  readonly comment: string;
  /** Redeclare `q` on some elements (scoping), when true. */
  readonly redeclare?: boolean;
}

export function serialiseTree(tree: TreeModel, root: boolean, style: number, how: SerialiseStyle): string {
  const space = how.spaces[style % how.spaces.length] ?? ' ';
  const quote = style % 3 === 0 ? "'" : '"';
  const qname = tree.prefix === '' ? tree.local : `${tree.prefix}:${tree.local}`;
  const declarations = root
    ? `${space}xmlns="urn:d"${space}xmlns:p="urn:p"${space}xmlns:q="urn:q"`
    : how.redeclare && style % 4 === 1 ? `${space}xmlns:q="urn:q2"` : '';
  const attributes = tree.attributes.map((a, i) => {
    const name = a.prefix === '' ? a.local : `${a.prefix}:${a.local}`;
    const value = [...a.value].map((c, j) => how.encodeAttributeChar(c, quote, style + i + j)).join('');
    return `${space}${name}${style % 2 === 0 ? '=' : ' = '}${quote}${value}${quote}`;
  }).join('');
  const content: string[] = [];
  tree.pieces.forEach((piece, i) => {
    content.push([...piece].map((c, j) => how.encodeChar(c, style + i + j)).join(''));
    const child = tree.children[i];
    if (child !== undefined) content.push(serialiseTree(child, false, style + i + 1, how));
    if (i % 2 === 1) content.push(how.comment);
  });
  for (const child of tree.children.slice(tree.pieces.length)) content.push(serialiseTree(child, false, style + 1, how));
  const body = content.join('');
  const open = `<${qname}${declarations}${attributes}${style % 5 === 0 ? space : ''}`;
  return body === '' && style % 2 === 1 ? `${open}/>` : `${open}>${body}</${qname}${style % 7 === 0 ? space : ''}>`;
}
