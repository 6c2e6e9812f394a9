/**
 * Canonical form of a peer address for allowlist matching. The kernel reports an IPv4 client on a
 * dual-stack socket as IPv4-mapped IPv6 (`::ffff:a.b.c.d`, RFC 4291 section 2.5.5.2); such an
 * address is the IPv4 host and is matched as IPv4, whatever way it is written (dotted, hex,
 * expanded). IPv4-compatible (`::a.b.c.d`, deprecated), NAT64 (`64:ff9b::/96`, RFC 6052) and 6to4
 * (`2002::/16`, RFC 3056) addresses are different hosts on the wire: they stay IPv6 and match only
 * IPv6 entries.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface CanonicalAddress {
  readonly family: 'ipv4' | 'ipv6';
  readonly address: string;
}

/** Expands an IPv6 literal (no zone id) into its eight 16-bit groups, or null. */
export function ipv6Groups(address: string): number[] | null {
  if (!isIPv6(address) || address.includes('%')) return null;
  let text = address;
  const groups: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  let v4: number[] | null = null;
  if (tail.includes('.')) {
    v4 = tail.split('.').map(Number);
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const [head = '', rest] = text.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const restParts = rest === undefined || rest === '' ? [] : rest.split(':');
  const missing = 8 - headParts.length - restParts.length;
  if (rest === undefined && missing !== 0) return null;
  for (const p of headParts) groups.push(parseInt(p, 16));
  for (let i = 0; i < (rest === undefined ? 0 : missing); i++) groups.push(0);
  for (const p of restParts) groups.push(parseInt(p, 16));
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return null;
  if (v4) {
    groups[6] = ((v4[0] ?? 0) << 8) | (v4[1] ?? 0);
    groups[7] = ((v4[2] ?? 0) << 8) | (v4[3] ?? 0);
  }
  return groups;
}

/** `::ffff:a.b.c.d` in any spelling → `a.b.c.d`; any other IPv6 → compressed lower-case form via URL. */
export function canonicalAddress(address: string): CanonicalAddress | null {
  if (isIPv4(address)) return { family: 'ipv4', address };
  const groups = ipv6Groups(address);
  if (!groups) return null;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const hi = groups[6] ?? 0;
    const lo = groups[7] ?? 0;
    return { family: 'ipv4', address: `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}` };
  }
  return { family: 'ipv6', address: groups.map((g) => g.toString(16)).join(':') };
}
