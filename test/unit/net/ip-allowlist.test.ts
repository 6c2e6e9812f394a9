/** Peer addresses as Node reports them, against compiled allowlist entries. */
import { describe, expect, it } from 'vitest';
import { IpAllowlist } from '../../../src/net/ip-allowlist.js';

describe('IpAllowlist', () => {
  const list = new IpAllowlist(['127.0.0.1/32', '10.0.0.0/8', '2001:db8::/32']);

  it.each([
    ['127.0.0.1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['0:0:0:0:0:ffff:7f00:1', true],
    ['10.200.3.4', true],
    ['2001:db8::1', true],
    ['127.0.0.2', false],
    ['::127.0.0.1', false],
    ['64:ff9b::7f00:1', false],
    ['2002:7f00:1::', false],
    ['::1', false],
    ['0177.0.0.1', false],
    ['', false],
    ['fe80::1%eth0', false],
  ])('%s → %s', (address, allowed) => {
    expect(list.allows(address)).toBe(allowed);
  });

  it('denies an unknown peer address', () => {
    expect(list.allows(undefined)).toBe(false);
  });

  it('matches IPv4-mapped entries as IPv4', () => {
    expect(new IpAllowlist(['::ffff:192.0.2.0/120']).allows('192.0.2.77')).toBe(true);
  });
});

describe('IpAllowlist remembers verdicts', () => {
  it('gives the same verdict the second time, for allowed and denied addresses alike', () => {
    const list = new IpAllowlist(['10.0.0.0/8']);
    for (let i = 0; i < 2; i++) {
      expect(list.allows('10.1.2.3')).toBe(true);
      expect(list.allows('::ffff:10.1.2.3')).toBe(true);
      expect(list.allows('11.1.2.3')).toBe(false);
      expect(list.allows('010.1.2.3')).toBe(false);
    }
  });

  it('keeps deciding correctly past the size of its memory', () => {
    const list = new IpAllowlist(['10.0.0.0/16']);
    for (let i = 0; i < 5_000; i++) {
      expect(list.allows(`10.0.${i >> 8 & 255}.${i & 255}`)).toBe(true);
      expect(list.allows(`10.1.${i >> 8 & 255}.${i & 255}`)).toBe(false);
    }
  });

  it('is per allowlist: a new list (a reload) decides afresh', () => {
    expect(new IpAllowlist(['10.0.0.0/8']).allows('10.9.9.9')).toBe(true);
    expect(new IpAllowlist(['192.0.2.0/24']).allows('10.9.9.9')).toBe(false);
  });
});
