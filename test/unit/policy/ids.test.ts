import fc from 'fast-check';
import { describe, it, expect } from 'vitest';
import { ID_PREFIX, toId18 } from '../../../src/policy/ids.js';

describe('toId18', () => {
  it('adds the case-encoding suffix to a 15-character id', () => {
    expect(toId18('00D000000000001')).toBe('00D000000000001EAA');
  });

  it('accepts the ids of the sample messages', () => {
    const ids = [
      ['00D5g000004XyZqEAK', ID_PREFIX.organization],
      ['04k5g000000Gm3QAAS', ID_PREFIX.action],
      ['04l5g0000bnWgrYAAS', ID_PREFIX.notification],
      ['04l5g0000rXbQ9nAAF', ID_PREFIX.notification],
      ['0035g0000IqDoXoAQK', '003'],
      ['0065g0000Z8sHtmAQE', '006'],
      ['0055g0000gyT4TNAA0', '005'],
    ] as const;
    for (const [id, prefix] of ids) expect(toId18(id, prefix)).toBe(id);
  });

  it('converts the 15-character form of a sample id to its 18-character form', () => {
    expect(toId18('00D5g000004XyZq', ID_PREFIX.organization)).toBe('00D5g000004XyZqEAK');
    expect(toId18('0055g0000gyT4TN')).toBe('0055g0000gyT4TNAA0');
  });

  it('accepts a lower-case suffix and returns the canonical upper-case one', () => {
    expect(toId18('00D5g000004XyZqeak')).toBe('00D5g000004XyZqEAK');
    expect(toId18('00D000000000001eAa')).toBe('00D000000000001EAA');
  });

  it('refuses a wrong checksum', () => {
    expect(toId18('00D5g000004XyZqAAA')).toBeNull();
    expect(toId18('00D000000000001AAA')).toBeNull();
    // Changing the case of one character changes the id, so the suffix no longer matches.
    expect(toId18('00d5g000004XyZqEAK')).toBeNull();
  });

  it('refuses a wrong prefix, compared case-sensitively', () => {
    expect(toId18('04k5g000000Gm3QAAS', ID_PREFIX.organization)).toBeNull();
    expect(toId18('00D5g000004XyZqEAK', ID_PREFIX.notification)).toBeNull();
    expect(toId18('00D000000000001', '00d')).toBeNull();
  });

  it('refuses bad characters and lengths', () => {
    for (const id of ['', '00D', '00D00000000000', '00D0000000000001', '00D00000000000012', '00D000000000001EAAA',
      '00D00000000000-', '00D 00000000001', '00D00000000000é', '00D000000000001EA-', '00D000000000001\nEAA'.slice(0, 18)]) {
      expect(toId18(id)).toBeNull();
    }
  });

  it('agrees with the definition written out plainly, on ids near the valid ones', () => {
    const alphabet = [...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-é '];
    /** The definition (shared/SALESFORCE.md "Ids"), with regular expressions and slices. */
    const reference = (id: string, prefix?: string): string | null => {
      const suffixOf = (body: string): string => [0, 1, 2].map((chunk) => {
        let bits = 0;
        for (let i = 0; i < 5; i++) if (/[A-Z]/.test(body[chunk * 5 + i]!)) bits |= 1 << i;
        return 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345'[bits]!;
      }).join('');
      const body = id.slice(0, 15);
      if (!/^[0-9A-Za-z]{15}$/.test(body) || (id.length !== 15 && id.length !== 18)) return null;
      if (id.length === 18 && id.slice(15).toUpperCase() !== suffixOf(body)) return null;
      const id18 = body + suffixOf(body);
      return prefix === undefined || id18.startsWith(prefix) ? id18 : null;
    };
    const id = fc.oneof(
      fc.string({ unit: fc.constantFrom(...alphabet), minLength: 14, maxLength: 19 }),
      fc.string({ unit: fc.constantFrom(...alphabet.slice(0, 62)), minLength: 15, maxLength: 15 }).chain((body) => fc.constantFrom(
        body, toId18(body)!, toId18(body)!.toLowerCase(), `${body}${toId18(body)!.slice(15).toLowerCase()}`, `${toId18(body)!.slice(0, 17)}9`,
        // Each suffix character moved by 32: lower case for a letter, 'P'–'U' for a digit.
        `${body}${String.fromCharCode(...[...toId18(body)!.slice(15)].map((c) => c.charCodeAt(0) + 32))}`,
      )),
    );
    fc.assert(fc.property(id, fc.constantFrom(undefined, '00D', '04l', 'a'), (value, prefix) => {
      expect(toId18(value, prefix)).toBe(reference(value, prefix));
    }), { numRuns: 5_000 });
  });
});
