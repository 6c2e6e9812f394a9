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
});
