/**
 * Byte-level mutations of documents for the fuzzers (fast-check): flip a byte, insert a snippet
 * of markup, delete, duplicate or truncate. Each suite brings its own snippets.
 */
import fc from 'fast-check';

export type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly byte: number }
  | { readonly kind: 'insert'; readonly at: number; readonly snippet: number }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'duplicate'; readonly at: number; readonly length: number }
  | { readonly kind: 'truncate'; readonly at: number };

export interface MutatorOptions {
  /** Longest run one delete removes (default 40). */
  readonly maxDelete?: number;
  /** Longest run one duplicate repeats; 0 (default) leaves duplicates out. */
  readonly maxDuplicate?: number;
  /** Relative weight of inserts against each other kind (default 1). */
  readonly insertWeight?: number;
}

export interface Mutator {
  readonly mutation: fc.Arbitrary<Mutation>;
  mutate(source: Buffer, mutations: readonly Mutation[]): Buffer;
}

export function byteMutator(snippets: readonly string[], opts: MutatorOptions = {}): Mutator {
  const bytes = snippets.map((s) => Buffer.from(s, 'utf8'));
  const kinds: Array<fc.WeightedArbitrary<Mutation>> = [
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }) },
    { weight: opts.insertWeight ?? 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), snippet: fc.nat({ max: bytes.length - 1 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: opts.maxDelete ?? 40 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  ];
  if (opts.maxDuplicate) {
    kinds.push({ weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: opts.maxDuplicate }) }) });
  }
  return {
    mutation: fc.oneof(...kinds),
    mutate(source, mutations) {
      let out = Buffer.from(source);
      for (const m of mutations) {
        const at = out.length === 0 ? 0 : m.at % out.length;
        if (m.kind === 'flip' && out.length > 0) out[at] = m.byte;
        else if (m.kind === 'insert') out = Buffer.concat([out.subarray(0, at), bytes[m.snippet] ?? Buffer.alloc(0), out.subarray(at)]);
        else if (m.kind === 'delete') out = Buffer.concat([out.subarray(0, at), out.subarray(at + m.length)]);
        else if (m.kind === 'duplicate') out = Buffer.concat([out.subarray(0, at + m.length), out.subarray(at)]);
        else if (m.kind === 'truncate') out = out.subarray(0, at);
      }
      return out;
    },
  };
}
