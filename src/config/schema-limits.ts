/**
 * The `limits` section of the schema: body size, timeouts and connection caps, each within an
 * inclusive range, plus two cross-checks (the per-address cap within the total, the headers
 * timeout within the request timeout).
 */
import { DEFAULTS } from './defaults.js';
import type { Reader } from './schema-reader.js';
import type { LimitsConfig } from './types.js';

const MIB = 1024 * 1024;

/** Inclusive ranges of `limits.*`. */
export const LIMIT_RANGES: Readonly<Record<keyof LimitsConfig, readonly [number, number]>> = {
  maxBodyBytes: [1024, 64 * MIB],
  handshakeTimeoutMs: [100, 600_000],
  headersTimeoutMs: [100, 600_000],
  requestTimeoutMs: [100, 600_000],
  keepAliveTimeoutMs: [100, 600_000],
  maxRequestsPerSocket: [1, 1_000_000],
  maxConnections: [1, 1_000_000],
  maxConnectionsPerIp: [1, 1_000_000],
  shutdownGraceMs: [100, 600_000],
};
const LIMIT_KEYS = Object.keys(LIMIT_RANGES);

/** `limits`, optional: every key defaults to DEFAULTS.limits. */
export function readLimits(r: Reader, raw: unknown): LimitsConfig {
  const o = raw === undefined ? null : r.object(raw, 'limits', LIMIT_KEYS);
  const out = { ...DEFAULTS.limits } as { -readonly [K in keyof LimitsConfig]: number };
  for (const key of Object.keys(LIMIT_RANGES) as (keyof LimitsConfig)[]) {
    const [min, max] = LIMIT_RANGES[key];
    const unit = key.endsWith('Ms') ? ' ms' : key === 'maxBodyBytes' ? ' bytes' : '';
    out[key] = r.optional(o, key, 'limits', DEFAULTS.limits[key], (v, p) => r.integer(v, p, min, max, unit));
  }
  if (o !== null) {
    if (out.maxConnectionsPerIp > out.maxConnections) {
      r.add('limits.maxConnectionsPerIp', `must not exceed limits.maxConnections (${out.maxConnections}), got ${out.maxConnectionsPerIp}`);
    }
    if (out.headersTimeoutMs > out.requestTimeoutMs) {
      // Node's http server refuses headersTimeout > requestTimeout.
      r.add('limits.headersTimeoutMs', `must not exceed limits.requestTimeoutMs (${out.requestTimeoutMs}), got ${out.headersTimeoutMs}`);
    }
  }
  return out;
}
