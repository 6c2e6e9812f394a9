/**
 * A configuration compiled for the hot path (STYLE habit 4): the allowlist as a BlockList, routes
 * in a Map, pins by fingerprint. A reload builds a new Runtime and swaps one reference; a request
 * keeps the Runtime it started with until it ends.
 */
import type { GatewayConfig } from './config/types.js';
import { IpAllowlist } from './net/ip-allowlist.js';
import { ClientIdentity } from './tls/client-identity.js';
import { RouteTable } from './forward/routes.js';

export interface Runtime {
  readonly config: GatewayConfig;
  readonly allowlist: IpAllowlist;
  readonly identity: ClientIdentity;
  readonly routes: RouteTable;
  /** When this runtime was swapped in; in-flight requests may still hold an older one. */
  readonly generation: number;
}

export function compileRuntime(config: GatewayConfig, generation: number): Runtime {
  return Object.freeze({
    config,
    allowlist: new IpAllowlist(config.allowlist.cidrs),
    identity: new ClientIdentity(config.tls.clientPins, config.tls.clientSubjects),
    routes: new RouteTable(config.routes),
    generation,
  });
}
