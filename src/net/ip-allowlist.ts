/**
 * The source-address allowlist, compiled once into a `net.BlockList` (STYLE habit 4) and checked
 * on the raw TCP socket before a byte of TLS. Entries are validated strictly at load (net/cidr.ts);
 * ip-range-check is not used on this path because it turns malformed input into a silent no-match
 * and accepts octal forms, while BlockList matches exactly what the validated entries say.
 *
 * The peer address goes through the same parser as the entries, so an IPv4 client reported as
 * IPv4-mapped IPv6 on a dual-stack socket (`::ffff:a.b.c.d`, RFC 4291 section 2.5.5.2) is matched
 * as IPv4, while IPv4-compatible, NAT64 and 6to4 addresses stay IPv6 and match only IPv6 entries.
 */
import type { BlockList } from 'node:net';
import { parseCidr, toBlockList } from './cidr.js';

/** Verdicts remembered per allowlist; past this many addresses the memory starts over. */
const MAX_REMEMBERED = 4_096;

export class IpAllowlist {
  readonly #list: BlockList;
  readonly size: number;
  /**
   * Verdicts by address as Node reports it. Salesforce connects from a few addresses, and the
   * strict parse of the peer's address cost more than the match itself; a reload builds a new
   * allowlist, so a verdict never outlives the entries it came from.
   */
  readonly #verdicts = new Map<string, boolean>();

  /** @param cidrs validated entries (`a.b.c.d/n`, `x::/n`); an invalid one throws. */
  constructor(cidrs: readonly string[]) {
    this.#list = toBlockList(cidrs);
    this.size = cidrs.length;
  }

  /** True when the peer address (as Node reports it) is inside an entry. Unknown forms are denied. */
  allows(remoteAddress: string | undefined): boolean {
    if (remoteAddress === undefined) return false;
    const known = this.#verdicts.get(remoteAddress);
    if (known !== undefined) return known;
    const verdict = this.#decide(remoteAddress);
    if (this.#verdicts.size >= MAX_REMEMBERED) this.#verdicts.clear();
    this.#verdicts.set(remoteAddress, verdict);
    return verdict;
  }

  #decide(remoteAddress: string): boolean {
    try {
      const peer = parseCidr(remoteAddress);
      return this.#list.check(peer.address, peer.family);
    } catch {
      return false;
    }
  }
}
