/**
 * Strict CIDR parsing for the IP allowlist. Matching itself is done by `net.BlockList`; this
 * module only decides what is a valid entry. Everything ambiguous is an error rather than a
 * guess: octal-looking octets (`010.0.0.1` means 8.0.0.1 to inet_aton, 10.0.0.1 to a human),
 * hex and short forms, zone ids, prefixes with leading zeros, and host bits beyond the prefix
 * (usually a typo that silently widens or narrows the range).
 */
import { BlockList, isIPv6 } from 'node:net';

export type IpFamily = 'ipv4' | 'ipv6';

export interface ParsedCidr {
  readonly family: IpFamily;
  /** The network address, canonical (IPv6 per RFC 5952). */
  readonly address: string;
  readonly prefix: number;
  /** `address/prefix`. */
  readonly normalized: string;
}

const MAX_ENTRY_LENGTH = 100;
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const PREFIX = /^(?:0|[1-9][0-9]*)$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

/** The entry as written, quoted when it holds anything invisible (e.g. a trailing space). */
function show(entry: string): string {
  return /^[\x21-\x7e]+$/.test(entry) ? entry : JSON.stringify(entry);
}

function ipv4ToBigInt(address: string): bigint {
  return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function bigIntToIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

/** Parses an address already accepted by `net.isIPv6` into its 128-bit value, or null. */
function ipv6ToBigInt(address: string): bigint | null {
  const halves = address.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] ?? '';
      if (i === pieces.length - 1 && piece.includes('.')) {
        if (!IPV4.test(piece)) return null;
        const v4 = Number(ipv4ToBigInt(piece));
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (HEX_GROUP.test(piece)) {
        out.push(parseInt(piece, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groupsOf(halves[0] ?? '');
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** RFC 5952 §4: lower case, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
function bigIntToIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The top 96 bits of an IPv4-mapped address, ::ffff:0:0/96 (RFC 4291 §2.5.5.2). */
const MAPPED_HIGH_BITS = 0xffffn;

/**
 * Parses one allowlist entry: an IPv4 or IPv6 address, optionally `/prefix`. A single address
 * is a /32 or /128; IPv4-mapped IPv6 entries become their IPv4 form. Throws an Error whose
 * message names the entry for anything not strictly valid.
 *
 * @example parseCidr('10.0.0.0/8') // { family: 'ipv4', address: '10.0.0.0', prefix: 8, normalized: '10.0.0.0/8' }
 * @example parseCidr('::ffff:192.0.2.0/120').normalized // '192.0.2.0/24'
 */
export function parseCidr(entry: string): ParsedCidr {
  if (typeof entry !== 'string') throw new Error(`CIDR entry must be a string, got ${typeof entry}`);
  if (entry.length === 0) throw new Error('CIDR entry is empty');
  if (entry.length > MAX_ENTRY_LENGTH) throw new Error(`CIDR entry is longer than ${MAX_ENTRY_LENGTH} characters`);
  if (/\s/.test(entry)) throw new Error(`${show(entry)} contains whitespace`);

  const slash = entry.indexOf('/');
  const addressPart = slash < 0 ? entry : entry.slice(0, slash);
  const prefixPart = slash < 0 ? null : entry.slice(slash + 1);

  let family: IpFamily;
  let value: bigint;
  if (IPV4.test(addressPart)) {
    family = 'ipv4';
    value = ipv4ToBigInt(addressPart);
  } else if (addressPart.includes(':')) {
    if (addressPart.includes('%')) throw new Error(`${show(entry)}: IPv6 zone ids are not allowed`);
    const parsed = isIPv6(addressPart) ? ipv6ToBigInt(addressPart) : null;
    if (parsed === null) throw new Error(`${show(entry)} is not a valid IPv6 address`);
    family = 'ipv6';
    value = parsed;
  } else {
    throw new Error(
      `${show(entry)} is not a valid IPv4 address (four decimal octets 0-255 without leading zeros) or IPv6 address`,
    );
  }

  const bits = family === 'ipv4' ? 32 : 128;
  let prefix = bits;
  if (prefixPart !== null) {
    if (!PREFIX.test(prefixPart)) {
      throw new Error(`${show(entry)}: the prefix length must be a decimal number without leading zeros`);
    }
    prefix = Number(prefixPart);
    if (prefix > bits) throw new Error(`${show(entry)}: the prefix length must be at most ${bits} for ${family}`);
  }

  if (family === 'ipv6' && value >> 32n === MAPPED_HIGH_BITS) {
    if (prefix < 96) throw new Error(`${show(entry)}: an IPv4-mapped range needs a prefix of at least 96`);
    family = 'ipv4';
    value &= 0xffffffffn;
    prefix -= 96;
  }

  const width = family === 'ipv4' ? 32 : 128;
  const hostMask = (1n << BigInt(width - prefix)) - 1n;
  const network = value & ~hostMask;
  const address = family === 'ipv4' ? bigIntToIpv4(network) : bigIntToIpv6(network);
  const normalized = `${address}/${prefix}`;
  if (network !== value) throw new Error(`${entry} has host bits set; did you mean ${normalized}?`);
  return { family, address, prefix, normalized };
}

interface Range {
  readonly entry: string;
  readonly family: IpFamily;
  readonly start: bigint;
  readonly end: bigint;
}

function toRange(entry: string): Range {
  const { family, address, prefix } = parseCidr(entry);
  const width = family === 'ipv4' ? 32 : 128;
  const start = family === 'ipv4' ? ipv4ToBigInt(address) : (ipv6ToBigInt(address) ?? 0n);
  return { entry, family, start, end: start + (1n << BigInt(width - prefix)) - 1n };
}

/**
 * Pairs of entries where the first contains the second, or both are the same range
 * (duplicates are reported once per later copy, as `[first, later]`). CIDR blocks either nest
 * or are disjoint, so a sort and one sweep find every pair.
 *
 * @example findOverlaps(['10.0.0.0/8', '10.1.0.0/16', '192.0.2.0/24']) // [['10.0.0.0/8', '10.1.0.0/16']]
 */
export function findOverlaps(entries: readonly string[]): Array<[string, string]> {
  const ranges = entries
    .map((entry, index) => ({ ...toRange(entry), index }))
    .sort((a, b) =>
      a.family !== b.family
        ? a.family < b.family ? -1 : 1
        : a.start !== b.start
          ? a.start < b.start ? -1 : 1
          : a.end !== b.end
            ? a.end > b.end ? -1 : 1 // wider first, so the container comes before what it holds
            : a.index - b.index,
    );
  const pairs: Array<[string, string]> = [];
  const open: Range[] = [];
  for (const range of ranges) {
    while (open.length > 0) {
      const top = open[open.length - 1]!;
      if (top.family === range.family && top.end >= range.start) break;
      open.pop();
    }
    for (const container of open) pairs.push([container.entry, range.entry]);
    open.push(range);
  }
  return pairs;
}

/**
 * Compiles validated entries into a `net.BlockList` (STYLE.md habit 4: compile at start-up).
 * Throws like `parseCidr` for an invalid entry.
 */
export function toBlockList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const { family, address, prefix } = parseCidr(entry);
    list.addSubnet(address, prefix, family);
  }
  return list;
}
