import { describe, expect, it } from 'vitest';
import { findOverlaps, parseCidr, toBlockList } from '../../../src/net/cidr.js';

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', 'ipv4', '10.0.0.0', 8, '10.0.0.0/8'],
    ['127.0.0.1', 'ipv4', '127.0.0.1', 32, '127.0.0.1/32'],
    ['127.0.0.1/32', 'ipv4', '127.0.0.1', 32, '127.0.0.1/32'],
    ['0.0.0.0/0', 'ipv4', '0.0.0.0', 0, '0.0.0.0/0'],
    ['255.255.255.255', 'ipv4', '255.255.255.255', 32, '255.255.255.255/32'],
    ['::1', 'ipv6', '::1', 128, '::1/128'],
    ['::/0', 'ipv6', '::', 0, '::/0'],
    ['2001:DB8::/32', 'ipv6', '2001:db8::', 32, '2001:db8::/32'],
    ['2001:0db8:0000:0000:0000:0000:0000:0000/32', 'ipv6', '2001:db8::', 32, '2001:db8::/32'],
    ['2001:db8:0:0:1:0:0:1', 'ipv6', '2001:db8::1:0:0:1', 128, '2001:db8::1:0:0:1/128'],
    ['2001:db8:0:1:1:1:1:1', 'ipv6', '2001:db8:0:1:1:1:1:1', 128, '2001:db8:0:1:1:1:1:1/128'],
    ['fe80::/10', 'ipv6', 'fe80::', 10, 'fe80::/10'],
    ['::ffff:1.2.3.4', 'ipv4', '1.2.3.4', 32, '1.2.3.4/32'],
    ['::ffff:192.0.2.0/120', 'ipv4', '192.0.2.0', 24, '192.0.2.0/24'],
    ['::ffff:c000:0200/120', 'ipv4', '192.0.2.0', 24, '192.0.2.0/24'],
  ] as const)('accepts %s', (entry, family, address, prefix, normalized) => {
    expect(parseCidr(entry)).toEqual({ family, address, prefix, normalized });
  });

  it.each([
    ['0177.0.0.1', /not a valid IPv4 address/],
    ['010.0.0.1', /not a valid IPv4 address/],
    ['1.2.3', /not a valid IPv4 address/],
    ['1.2.3.4.5', /not a valid IPv4 address/],
    ['0x7f.0.0.1', /not a valid IPv4 address/],
    ['0x7f000001', /not a valid IPv4 address/],
    ['2130706433', /not a valid IPv4 address/],
    ['256.0.0.1', /not a valid IPv4 address/],
    ['1.2.3.-4', /not a valid IPv4 address/],
    ['localhost', /not a valid IPv4 address/],
    ['10.0.0.0/33', /prefix length must be at most 32/],
    ['::/129', /prefix length must be at most 128/],
    ['10.0.0.0/-1', /decimal number without leading zeros/],
    ['10.0.0.0/08', /decimal number without leading zeros/],
    ['10.0.0.0/', /decimal number without leading zeros/],
    ['10.0.0.0/8/8', /decimal number without leading zeros/],
    ['10.0.0.0/0x8', /decimal number without leading zeros/],
    ['fe80::1%eth0', /zone ids are not allowed/],
    ['1:2:3:4:5:6:7:8:9', /not a valid IPv6 address/],
    ['::ffff:010.1.2.3', /not a valid IPv6 address/],
    ['12345::1', /not a valid IPv6 address/],
    ['::ffff:1.2.3.0/64', /IPv4-mapped range needs a prefix of at least 96/],
    ['', /empty/],
  ])('rejects %j', (entry, message) => {
    expect(() => parseCidr(entry)).toThrow(message);
  });

  it('rejects whitespace anywhere and names the entry, quoted so a trailing space shows', () => {
    expect(() => parseCidr('10.0.0.0/8 ')).toThrow('"10.0.0.0/8 " contains whitespace');
    expect(() => parseCidr(' 10.0.0.0/8')).toThrow(/contains whitespace/);
    expect(() => parseCidr('10.0.0.0 /8')).toThrow(/contains whitespace/);
    expect(() => parseCidr('10.0.0.0/8\t')).toThrow('"10.0.0.0/8\\t" contains whitespace');
  });

  it('rejects host bits beyond the prefix and suggests the network', () => {
    expect(() => parseCidr('10.0.0.1/8')).toThrow('10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?');
    expect(() => parseCidr('2001:db8::1/32')).toThrow('2001:db8::1/32 has host bits set; did you mean 2001:db8::/32?');
    expect(() => parseCidr('::ffff:1.2.3.4/120')).toThrow(/has host bits set; did you mean 1\.2\.3\.0\/24\?/);
  });

  it('rejects non-strings and absurdly long entries', () => {
    expect(() => parseCidr(42 as unknown as string)).toThrow(/must be a string/);
    expect(() => parseCidr('1'.repeat(200))).toThrow(/longer than 100/);
  });
});

describe('findOverlaps', () => {
  it('finds containment and duplicates, container first', () => {
    expect(findOverlaps(['10.1.0.0/16', '192.0.2.0/24', '10.0.0.0/8', '10.1.2.0/24'])).toEqual([
      ['10.0.0.0/8', '10.1.0.0/16'],
      ['10.0.0.0/8', '10.1.2.0/24'],
      ['10.1.0.0/16', '10.1.2.0/24'],
    ]);
    expect(findOverlaps(['192.0.2.0/24', '192.0.2.0/24'])).toEqual([['192.0.2.0/24', '192.0.2.0/24']]);
  });

  it('reports nothing for disjoint or adjacent ranges and never mixes families', () => {
    expect(findOverlaps(['10.0.0.0/9', '10.128.0.0/9', '::/0', '192.0.2.1'])).toEqual([]);
    expect(findOverlaps([])).toEqual([]);
  });

  it('handles IPv6 and single addresses', () => {
    expect(findOverlaps(['2001:db8::/32', '2001:db8::1', '2001:db9::/32'])).toEqual([['2001:db8::/32', '2001:db8::1']]);
    expect(findOverlaps(['0.0.0.0/0', '127.0.0.1/32'])).toEqual([['0.0.0.0/0', '127.0.0.1/32']]);
  });

  it('throws on an invalid entry', () => {
    expect(() => findOverlaps(['10.0.0.1/8'])).toThrow(/host bits/);
  });
});

describe('toBlockList', () => {
  it('compiles entries into a matcher', () => {
    const list = toBlockList(['10.0.0.0/8', '::1', '::ffff:192.0.2.0/120']);
    expect(list.check('10.200.1.1', 'ipv4')).toBe(true);
    expect(list.check('11.0.0.1', 'ipv4')).toBe(false);
    expect(list.check('::1', 'ipv6')).toBe(true);
    expect(list.check('192.0.2.77', 'ipv4')).toBe(true);
  });
});
