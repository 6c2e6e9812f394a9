/**
 * The source-address allowlist, compiled once into a `net.BlockList` (STYLE habit 4) and checked
 * on the raw TCP socket before a byte of TLS. Entries are validated strictly at load (net/cidr.ts);
 * ip-range-check is not used on this path because it turns malformed input into a silent no-match
 * and accepts octal forms, while BlockList matches exactly what the validated entries say.
 */
import { BlockList } from 'node:net';
import { canonicalAddress } from './ip-address.js';
import { parseCidr } from './cidr.js';

export class IpAllowlist {
  readonly #list = new BlockList();
  readonly size: number;

  /** @param cidrs validated entries (`a.b.c.d/n`, `x::/n`); an invalid one throws. */
  constructor(cidrs: readonly string[]) {
    for (const entry of cidrs) {
      const c = parseCidr(entry);
      this.#list.addSubnet(c.address, c.prefix, c.family);
    }
    this.size = cidrs.length;
  }

  /** True when the peer address (as Node reports it) is inside an entry. Unknown forms are denied. */
  allows(remoteAddress: string | undefined): boolean {
    if (remoteAddress === undefined) return false;
    const canonical = canonicalAddress(remoteAddress);
    if (!canonical) return false;
    return this.#list.check(canonical.address, canonical.family);
  }
}
