/**
 * Structural validation of the raw configuration object (parsed YAML or JSON): key names,
 * types, ranges and formats, with every problem collected, none thrown. Files are not touched
 * here; load.ts reads them and checks their contents. Hand-written on purpose: the rules are
 * specific (ids with checksums, strict CIDRs, Salesforce ports) and the messages must name the
 * key path and say what to write instead.
 */
import type { ConfigProblem } from '../errors.js';
import { DEFAULTS } from './defaults.js';
import { readLimits } from './schema-limits.js';
import {
  readAdmin,
  readAllowlist,
  readListen,
  type ValidateOptions,
  type ValidatedAdmin,
  type ValidatedAllowlist,
  type ValidatedListen,
} from './schema-network.js';
import { own, Reader, show } from './schema-reader.js';
import { readRoutes, readUpstream, type ValidatedRoute } from './schema-routes.js';
import { readOrganizations, readSalesforceHosts } from './schema-salesforce.js';
import { readTls, type ValidatedTls } from './schema-tls.js';
import type { GatewayConfig, LimitsConfig } from './types.js';

export { LIMIT_RANGES } from './schema-limits.js';
export type { ValidateOptions } from './schema-network.js';
export { MAX_ROUTE_TIMEOUT_MS, ROUTE_FORMATS, type ValidatedRoute } from './schema-routes.js';
export { suggestKey } from './schema-suggest.js';
export { TLS_VERSIONS } from './schema-tls.js';

export type LogLevel = GatewayConfig['log']['level'];
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const MAX_WORKERS = 64;

const TOP_KEYS = ['listen', 'tls', 'allowlist', 'organizations', 'salesforceHosts', 'upstream', 'routes', 'limits', 'pidFile', 'admin', 'workers', 'log'] as const;
const LOG_KEYS = ['level'] as const;

/**
 * The configuration after structural validation, defaults applied, paths not yet resolved.
 * Invalid values are replaced by null or a default, and a problem is recorded for each; file
 * lists keep their indices (null for an invalid entry) so later problems can name them.
 */
export interface ValidatedConfig {
  readonly listen: ValidatedListen;
  readonly tls: ValidatedTls;
  readonly allowlist: ValidatedAllowlist;
  readonly organizations: readonly string[];
  readonly salesforceHosts: readonly string[];
  readonly upstream: { readonly allowedPorts: readonly number[] };
  readonly routes: readonly ValidatedRoute[];
  readonly limits: LimitsConfig;
  readonly pidFile: string | null;
  readonly admin: ValidatedAdmin | null;
  readonly workers: number | 'auto';
  readonly log: { readonly level: LogLevel };
}

function readWorkers(r: Reader, raw: unknown): number | 'auto' {
  if (raw === undefined) return DEFAULTS.workers;
  if (raw === 'auto') return 'auto';
  const n = typeof raw === 'number' && Number.isInteger(raw) && raw >= 1 && raw <= MAX_WORKERS ? raw : null;
  if (n === null) r.add('workers', `must be auto or an integer from 1 to ${MAX_WORKERS}, got ${show(raw)}`);
  return n ?? DEFAULTS.workers;
}

/**
 * Validates the raw configuration object: every problem is collected, in file order. The
 * result is usable even when there are problems (invalid parts replaced by null or defaults),
 * so that the loader can go on to check the files and report everything at once.
 */
export function validateConfig(raw: unknown, opts: ValidateOptions = {}): { config: ValidatedConfig; problems: ConfigProblem[] } {
  const r = new Reader();
  const o = r.object(raw, '', TOP_KEYS) ?? {};
  const listen = readListen(r, own(o, 'listen'), opts);
  const tls = readTls(r, own(o, 'tls'));
  const allowlist = readAllowlist(r, own(o, 'allowlist'));
  const organizations = readOrganizations(r, own(o, 'organizations'));
  const salesforceHosts = readSalesforceHosts(r, own(o, 'salesforceHosts'));
  const problemsBeforeUpstream = r.problems.length;
  const allowedPorts = readUpstream(r, own(o, 'upstream'));
  // Check route ports only against a valid allowedPorts list, or every route would repeat its problem.
  const upstreamOk = r.problems.length === problemsBeforeUpstream;
  const routes = readRoutes(r, own(o, 'routes'), upstreamOk ? allowedPorts : null);
  const limits = readLimits(r, own(o, 'limits'));
  const pidFile = own(o, 'pidFile') == null ? DEFAULTS.pidFile : r.filePath(own(o, 'pidFile'), 'pidFile');
  const admin = readAdmin(r, own(o, 'admin'), opts);
  const workers = readWorkers(r, own(o, 'workers'));
  const logObj = own(o, 'log') === undefined ? null : r.object(own(o, 'log'), 'log', LOG_KEYS);
  const level = r.optional(logObj, 'level', 'log', DEFAULTS.log.level as LogLevel, (v, p) => r.oneOf(v, p, LOG_LEVELS));
  return {
    config: {
      listen, tls, allowlist, organizations, salesforceHosts, upstream: { allowedPorts }, routes, limits,
      pidFile, admin, workers, log: { level },
    },
    problems: r.problems,
  };
}
