/**
 * Structural validation of the raw configuration object (parsed YAML or JSON): key names,
 * types, ranges and formats, with every problem collected, none thrown. Files are not touched
 * here; load.ts reads them and checks their contents. Hand-written on purpose: the rules are
 * specific (ids with checksums, strict CIDRs, Salesforce ports) and the messages must name the
 * key path and say what to write instead.
 */
import { isIP } from 'node:net';
import type { ConfigProblem } from '../errors.js';
import { parseCidr } from '../net/cidr.js';
import { ID_PREFIX, toId18 } from '../policy/ids.js';
import { normalizeSubject } from '../tls/cert-store.js';
import { DEFAULTS } from './defaults.js';
import type { GatewayConfig, LimitsConfig, RouteFormat } from './types.js';

export type LogLevel = GatewayConfig['log']['level'];
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
export const ROUTE_FORMATS: readonly RouteFormat[] = ['soap', 'json'];
export const MAX_WORKERS = 64;
/** Salesforce gives up on an attempt after 60 s (shared/SALESFORCE.md "The answer"). */
export const MAX_ROUTE_TIMEOUT_MS = 59_000;
const MIB = 1024 * 1024;
const OBJECT_TYPE = /^[A-Za-z][A-Za-z0-9_]{0,79}$/;
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

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

const KEYS = {
  top: ['listen', 'tls', 'allowlist', 'organizations', 'salesforceHosts', 'upstream', 'routes', 'limits', 'pidFile', 'admin', 'workers', 'log'],
  listen: ['host', 'port'],
  tls: ['cert', 'key', 'clientCa', 'clientCertificates', 'clientSubjects', 'minVersion', 'expiryWarningDays'],
  allowlist: ['cidrs', 'files'],
  upstream: ['allowedPorts'],
  route: ['path', 'target', 'format', 'timeoutMs', 'actionIds', 'objectTypes', 'forwardSessionId'],
  limits: Object.keys(LIMIT_RANGES),
  admin: ['host', 'port', 'allowRemote'],
  log: ['level'],
} as const;

/** Names people reach for, lower-cased, mapped to the key to use instead. */
const ALIASES: Readonly<Record<string, string>> = {
  address: 'host', bind: 'host', hostname: 'host',
  ca: 'clientCa', cafile: 'clientCa', clientcas: 'clientCa', clientcabundle: 'clientCa',
  clientcert: 'clientCertificates', clientcerts: 'clientCertificates', pins: 'clientCertificates',
  pinnedcertificates: 'clientCertificates', clientpins: 'clientCertificates',
  subjects: 'clientSubjects', allowedsubjects: 'clientSubjects',
  certificate: 'cert', certfile: 'cert', key_file: 'key', keyfile: 'key', privatekey: 'key',
  minimumversion: 'minVersion', mintlsversion: 'minVersion',
  allowedips: 'allowlist', ipallowlist: 'allowlist', whitelist: 'allowlist', ips: 'cidrs',
  orgs: 'organizations', organisations: 'organizations', organizationids: 'organizations', orgids: 'organizations',
  hosts: 'salesforceHosts', allowedhosts: 'salesforceHosts',
  route: 'routes', url: 'target', upstream: 'target', timeout: 'timeoutMs',
  actions: 'actionIds', objects: 'objectTypes', sobjects: 'objectTypes',
  maxbodysize: 'maxBodyBytes', bodylimit: 'maxBodyBytes', pidfile: 'pidFile', loglevel: 'level',
};

export interface ValidatedRoute {
  readonly path: string;
  /** Null when the target was invalid (a problem has been recorded). */
  readonly target: URL | null;
  readonly format: RouteFormat;
  readonly timeoutMs: number;
  readonly actionIds: readonly string[];
  readonly objectTypes: readonly string[];
  readonly forwardSessionId: boolean;
}

/**
 * The configuration after structural validation, defaults applied, paths not yet resolved.
 * Invalid values are replaced by null or a default, and a problem is recorded for each; file
 * lists keep their indices (null for an invalid entry) so later problems can name them.
 */
export interface ValidatedConfig {
  readonly listen: { readonly host: string; readonly port: number };
  readonly tls: {
    readonly cert: string | null;
    readonly key: string | null;
    readonly clientCa: string | null;
    readonly clientCertificates: readonly (string | null)[];
    readonly clientSubjects: readonly string[];
    readonly minVersion: (typeof TLS_VERSIONS)[number];
    readonly expiryWarningDays: number;
  };
  readonly allowlist: { readonly cidrs: readonly string[]; readonly files: readonly (string | null)[] };
  readonly organizations: readonly string[];
  readonly salesforceHosts: readonly string[];
  readonly upstream: { readonly allowedPorts: readonly number[] };
  readonly routes: readonly ValidatedRoute[];
  readonly limits: LimitsConfig;
  readonly pidFile: string | null;
  readonly admin: { readonly host: string; readonly port: number; readonly allowRemote: boolean } | null;
  readonly workers: number | 'auto';
  readonly log: { readonly level: LogLevel };
}

export interface ValidateOptions {
  /** Accept port 0 (an ephemeral port) for listen.port and admin.port: for tests only. */
  readonly allowPortZero?: boolean;
}

type Obj = Record<string, unknown>;

/** Optimal string alignment distance (Levenshtein with adjacent transpositions). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known key a mistyped or renamed key most likely meant, or null. */
export function suggestKey(key: string, known: readonly string[]): string | null {
  const lower = key.toLowerCase();
  const sameCase = known.find((k) => k.toLowerCase() === lower);
  if (sameCase) return sameCase;
  const alias = ALIASES[lower];
  if (alias && known.includes(alias)) return alias;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of known) {
    const distance = editDistance(lower, k.toLowerCase());
    const allowed = k.length >= 10 ? 3 : k.length >= 5 ? 2 : 1;
    if (distance <= allowed && distance < bestDistance) {
      best = k;
      bestDistance = distance;
    }
  }
  if (best) return best;
  // A key that is a prefix of a known one, e.g. `clientCert` for `clientCertificates`.
  const prefixed = known.filter((k) => lower.length >= 4 && k.toLowerCase().startsWith(lower));
  return prefixed.length === 1 ? prefixed[0]! : null;
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string': return 'a string';
    case 'number': return Number.isInteger(v) ? 'an integer' : 'a number';
    case 'boolean': return 'a boolean';
    case 'object': return 'an object';
    default: return typeof v;
  }
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return kind(v);
}

function isPlainObject(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const at = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);
const own = (o: Obj, key: string): unknown => (Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined);

/** Collects problems while reading the raw object. */
class Reader {
  readonly problems: ConfigProblem[] = [];

  add(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  /** An object with only `keys`; unknown keys are problems (with a suggestion). */
  object(v: unknown, path: string, keys: readonly string[]): Obj | null {
    if (!isPlainObject(v)) {
      this.add(path || '(root)', `must be an object (a mapping of keys), got ${kind(v)}`);
      return null;
    }
    for (const key of Object.keys(v)) {
      if (keys.includes(key)) continue;
      const suggestion = suggestKey(key, keys);
      this.add(at(path, key), suggestion ? `unknown key, did you mean ${suggestion}?` : 'unknown key');
    }
    return v;
  }

  required(o: Obj | null, key: string, path: string): unknown {
    if (o === null) return undefined;
    const v = own(o, key);
    if (v === undefined) this.add(at(path, key), 'is required');
    return v;
  }

  string(v: unknown, path: string): string | null {
    if (typeof v !== 'string') {
      this.add(path, `must be a string, got ${kind(v)}`);
      return null;
    }
    return v;
  }

  /** A file path: a non-empty string without NUL. */
  filePath(v: unknown, path: string): string | null {
    const s = this.string(v, path);
    if (s === null) return null;
    if (s.trim() === '' || s.includes('\0')) {
      this.add(path, 'must be a file path (a non-empty string)');
      return null;
    }
    return s;
  }

  integer(v: unknown, path: string, min: number, max: number, why = ''): number | null {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.add(path, `must be an integer from ${min} to ${max}${why}, got ${show(v)}`);
      return null;
    }
    return v;
  }

  boolean(v: unknown, path: string): boolean | null {
    if (typeof v !== 'boolean') {
      this.add(path, `must be true or false, got ${show(v)}`);
      return null;
    }
    return v;
  }

  oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[]): T | null {
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.add(path, `must be one of ${allowed.join(', ')}, got ${show(v)}`);
      return null;
    }
    return v as T;
  }

  list(v: unknown, path: string): unknown[] | null {
    if (!Array.isArray(v)) {
      this.add(path, `must be a list, got ${kind(v)}`);
      return null;
    }
    return v;
  }

  /** The value of an optional key, or `fallback` when absent. */
  optional<T>(o: Obj | null, key: string, path: string, fallback: T, read: (v: unknown, p: string) => T | null): T {
    if (o === null) return fallback;
    const v = own(o, key);
    if (v === undefined) return fallback;
    return read(v, at(path, key)) ?? fallback;
  }
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  return mapped !== null && mapped[1]!.startsWith('127.');
}

function readHost(r: Reader, v: unknown, path: string): string | null {
  const host = r.string(v, path);
  if (host === null) return null;
  if (host !== 'localhost' && isIP(host) === 0) {
    r.add(path, `must be an IP address (e.g. 0.0.0.0, ::, 127.0.0.1) or localhost, got ${show(host)}`);
    return null;
  }
  return host;
}

function readListenPort(r: Reader, v: unknown, path: string, allowZero: boolean): number | null {
  const ok = typeof v === 'number' && Number.isInteger(v) && (v === 443 || (v >= 1024 && v <= 65535) || (allowZero && v === 0));
  if (!ok) {
    // shared/SALESFORCE.md "Network and certificates": Salesforce calls HTTPS endpoints on 443 or 1024-65535.
    const hint = v === 0 ? ' (port 0, an ephemeral port, is accepted only with the loader option allowPortZero, for tests)' : '';
    r.add(path, `must be 443 or an integer from 1024 to 65535 (the ports Salesforce calls over HTTPS), got ${show(v)}${hint}`);
    return null;
  }
  return v;
}

function readListen(r: Reader, raw: unknown, opts: ValidateOptions): ValidatedConfig['listen'] {
  const o = raw === undefined ? (r.add('listen', 'is required'), null) : r.object(raw, 'listen', KEYS.listen);
  const host = r.optional(o, 'host', 'listen', DEFAULTS.listen.host, (v, p) => readHost(r, v, p));
  const port = r.required(o, 'port', 'listen');
  const checked = port === undefined ? null : readListenPort(r, port, 'listen.port', opts.allowPortZero === true);
  return { host, port: checked ?? 0 };
}

/** Calls `each` for every string of a list, in order; non-strings are problems at their index. */
function eachString(r: Reader, v: unknown, path: string, each: (s: string, itemPath: string) => void): void {
  const list = r.list(v, path);
  list?.forEach((item, i) => {
    const s = r.string(item, `${path}[${i}]`);
    if (s !== null) each(s, `${path}[${i}]`);
  });
}

function readTls(r: Reader, raw: unknown): ValidatedConfig['tls'] {
  const o = raw === undefined ? (r.add('tls', 'is required'), null) : r.object(raw, 'tls', KEYS.tls);
  const file = (key: string): string | null => {
    const v = r.required(o, key, 'tls');
    return v === undefined ? null : r.filePath(v, `tls.${key}`);
  };
  const cert = file('cert');
  const key = file('key');
  const clientCa = file('clientCa');
  const clientCertificates = r.optional(o, 'clientCertificates', 'tls', [] as (string | null)[], (v, p) => {
    const list = r.list(v, p);
    return list === null ? null : list.map((item, i) => r.filePath(item, `${p}[${i}]`));
  });
  const clientSubjects = r.optional(o, 'clientSubjects', 'tls', [] as string[], (v, p) => {
    const out: string[] = [];
    eachString(r, v, p, (s, itemPath) => {
      try {
        out.push(normalizeSubject(s));
      } catch (err) {
        r.add(itemPath, (err as Error).message);
      }
    });
    return [...new Set(out)];
  });
  const clientCertsGiven = o !== null && own(o, 'clientCertificates') !== undefined;
  const subjectsGiven = o !== null && own(o, 'clientSubjects') !== undefined;
  if (o !== null && clientCertificates.length === 0 && clientSubjects.length === 0) {
    // Fail closed (STYLE.md habit 3): a CA alone would let any certificate it ever issued in.
    const path = clientCertsGiven || !subjectsGiven ? 'tls.clientCertificates' : 'tls.clientSubjects';
    if (!r.problems.some((p) => p.path.startsWith('tls.clientCertificates') || p.path.startsWith('tls.clientSubjects'))) {
      r.add(path, 'at least one of tls.clientCertificates or tls.clientSubjects must be non-empty: pin the downloaded Salesforce client certificate');
    }
  }
  const minVersion = r.optional(o, 'minVersion', 'tls', DEFAULTS.tls.minVersion as ValidatedConfig['tls']['minVersion'],
    (v, p) => r.oneOf(v, p, TLS_VERSIONS));
  const expiryWarningDays = r.optional(o, 'expiryWarningDays', 'tls', DEFAULTS.tls.expiryWarningDays,
    (v, p) => r.integer(v, p, 0, 365));
  return { cert, key, clientCa, clientCertificates, clientSubjects, minVersion, expiryWarningDays };
}

function readAllowlist(r: Reader, raw: unknown): ValidatedConfig['allowlist'] {
  const o = raw === undefined ? (r.add('allowlist', 'is required'), null) : r.object(raw, 'allowlist', KEYS.allowlist);
  const cidrs = r.optional(o, 'cidrs', 'allowlist', [] as string[], (v, p) => {
    const out: string[] = [];
    eachString(r, v, p, (entry, itemPath) => {
      try {
        out.push(parseCidr(entry).normalized);
      } catch (err) {
        r.add(itemPath, (err as Error).message);
      }
    });
    return out;
  });
  const files = r.optional(o, 'files', 'allowlist', [] as (string | null)[], (v, p) => {
    const list = r.list(v, p);
    return list === null ? null : list.map((item, i) => r.filePath(item, `${p}[${i}]`));
  });
  // Whether the allowlist ends up empty is decided in load.ts, once the files are read.
  return { cidrs, files };
}

function readOrganizations(r: Reader, raw: unknown): string[] {
  if (raw === undefined) {
    r.add('organizations', 'is required');
    return [];
  }
  const list = r.list(raw, 'organizations');
  if (list === null) return [];
  if (list.length === 0) {
    r.add('organizations', 'must not be empty: list the 15- or 18-character ids of the organizations allowed to send');
    return [];
  }
  const out: string[] = [];
  list.forEach((item, i) => {
    const path = `organizations[${i}]`;
    const id = r.string(item, path);
    if (id === null) return;
    const id18 = toId18(id);
    if (id18 === null) {
      r.add(path, /^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$/.test(id)
        ? `${show(id)} has a wrong checksum (the last 3 characters of an 18-character id encode the case of the first 15)`
        : `${show(id)} is not a 15- or 18-character Salesforce id`);
    } else if (!id18.startsWith(ID_PREFIX.organization)) {
      r.add(path, `${show(id)} is not an organization id (organization ids start with ${ID_PREFIX.organization})`);
    } else {
      out.push(id18);
    }
  });
  return [...new Set(out)];
}

function readSalesforceHosts(r: Reader, raw: unknown): string[] {
  if (raw === undefined) return [...DEFAULTS.salesforceHosts];
  const list = r.list(raw, 'salesforceHosts');
  if (list === null) return [];
  if (list.length === 0) {
    r.add('salesforceHosts', 'must not be empty (leave the key out for the default salesforce.com, force.com)');
    return [];
  }
  const out: string[] = [];
  list.forEach((item, i) => {
    const path = `salesforceHosts[${i}]`;
    const s = r.string(item, path);
    if (s === null) return;
    const host = s.toLowerCase();
    if (host.includes('*')) {
      r.add(path, `${show(s)}: no wildcards; a host suffix such as salesforce.com already matches its subdomains`);
    } else if (host.startsWith('.')) {
      r.add(path, `${show(s)}: no leading dot; write ${host.replace(/^\.+/, '')} (a suffix already matches its subdomains)`);
    } else if (host.length === 0 || host.length > 253 || !host.includes('.') || !host.split('.').every((l) => DNS_LABEL.test(l))) {
      r.add(path, `${show(s)} is not a DNS name with at least one dot, e.g. salesforce.com`);
    } else {
      out.push(host);
    }
  });
  return [...new Set(out)];
}

function readUpstream(r: Reader, raw: unknown): number[] {
  const o = raw === undefined ? (r.add('upstream', 'is required'), null) : r.object(raw, 'upstream', KEYS.upstream);
  const v = r.required(o, 'allowedPorts', 'upstream');
  if (v === undefined) return [];
  const list = r.list(v, 'upstream.allowedPorts');
  if (list === null) return [];
  if (list.length === 0) r.add('upstream.allowedPorts', 'must not be empty: list the ports of the internal services');
  const out: number[] = [];
  list.forEach((item, i) => {
    const port = r.integer(item, `upstream.allowedPorts[${i}]`, 1, 65535);
    if (port !== null) out.push(port);
  });
  return [...new Set(out)];
}

function readRoutePath(r: Reader, v: unknown, path: string): string | null {
  const s = r.string(v, path);
  if (s === null) return null;
  if (!s.startsWith('/')) r.add(path, `${show(s)} must start with /`);
  else if (/[?#]/.test(s)) r.add(path, `${show(s)} must not contain ? or #: give the path only`);
  else if (/[\s\x00-\x1f\x7f]/.test(s)) r.add(path, `${show(s)} must not contain whitespace or control characters`);
  else if (s.length > 2048) r.add(path, 'must be at most 2048 characters');
  else return s;
  return null;
}

function readTarget(r: Reader, v: unknown, path: string, allowedPorts: readonly number[] | null): URL | null {
  const s = r.string(v, path);
  if (s === null) return null;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    r.add(path, `${show(s)} is not an absolute URL, e.g. http://127.0.0.1:8080/contact`);
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    r.add(path, `${show(s)} must use http: or https:, not ${url.protocol}`);
    return null;
  }
  if (url.username !== '' || url.password !== '') {
    r.add(path, 'must not contain user info (user:password@); credentials do not belong in a URL');
    return null;
  }
  if (url.hostname === '') {
    r.add(path, `${show(s)} has no host`);
    return null;
  }
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (allowedPorts !== null && !allowedPorts.includes(port)) {
    r.add(path, `port ${port} is not in upstream.allowedPorts`);
    return null;
  }
  return url;
}

function readRoutes(r: Reader, raw: unknown, allowedPorts: readonly number[] | null): ValidatedRoute[] {
  if (raw === undefined) {
    r.add('routes', 'is required');
    return [];
  }
  const list = r.list(raw, 'routes');
  if (list === null) return [];
  if (list.length === 0) {
    r.add('routes', 'must not be empty: an empty route table would accept nothing');
    return [];
  }
  const seen = new Map<string, number>();
  const routes: ValidatedRoute[] = [];
  list.forEach((item, i) => {
    const base = `routes[${i}]`;
    const o = r.object(item, base, KEYS.route);
    if (o === null) return;
    const pathValue = r.required(o, 'path', base);
    const routePath = pathValue === undefined ? null : readRoutePath(r, pathValue, `${base}.path`);
    if (routePath !== null) {
      const first = seen.get(routePath);
      if (first !== undefined) r.add(`${base}.path`, `duplicate path ${routePath} (also routes[${first}].path)`);
      else seen.set(routePath, i);
    }
    const targetValue = r.required(o, 'target', base);
    const target = targetValue === undefined ? null : readTarget(r, targetValue, `${base}.target`, allowedPorts);
    const d = DEFAULTS.route;
    const format = r.optional(o, 'format', base, d.format as RouteFormat, (v, p) => r.oneOf(v, p, ROUTE_FORMATS));
    const timeoutMs = r.optional(o, 'timeoutMs', base, d.timeoutMs,
      (v, p) => r.integer(v, p, 1, MAX_ROUTE_TIMEOUT_MS, " ms (it must stay under Salesforce's 60 s)"));
    const actionIds = r.optional(o, 'actionIds', base, [] as string[], (v, p) => {
      const out: string[] = [];
      eachString(r, v, p, (id, itemPath) => {
        const id18 = toId18(id);
        if (id18 === null) r.add(itemPath, `${show(id)} is not a valid 15- or 18-character id (wrong length, characters or checksum)`);
        else if (!id18.startsWith(ID_PREFIX.action)) r.add(itemPath, `${show(id)} is not an outbound-message action id (they start with ${ID_PREFIX.action})`);
        else out.push(id18);
      });
      return [...new Set(out)];
    });
    const objectTypes = r.optional(o, 'objectTypes', base, [] as string[], (v, p) => {
      const out: string[] = [];
      eachString(r, v, p, (t, itemPath) => {
        if (OBJECT_TYPE.test(t)) out.push(t);
        else r.add(itemPath, `${show(t)} is not an sObject API name (a letter, then letters, digits or _; e.g. Contact, Invoice__c)`);
      });
      return [...new Set(out)];
    });
    const forwardSessionId = r.optional(o, 'forwardSessionId', base, d.forwardSessionId as boolean, (v, p) => r.boolean(v, p));
    if (routePath !== null) routes.push({ path: routePath, target, format, timeoutMs, actionIds, objectTypes, forwardSessionId });
  });
  return routes;
}

function readLimits(r: Reader, raw: unknown): LimitsConfig {
  const o = raw === undefined ? null : r.object(raw, 'limits', KEYS.limits);
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

function readAdmin(r: Reader, raw: unknown, opts: ValidateOptions): ValidatedConfig['admin'] {
  if (raw === undefined || raw === null) return null;
  const o = r.object(raw, 'admin', KEYS.admin);
  if (o === null) return null;
  const d = DEFAULTS.adminListener;
  const host = r.optional(o, 'host', 'admin', d.host as string, (v, p) => readHost(r, v, p));
  const port = r.optional(o, 'port', 'admin', d.port as number, (v, p) =>
    opts.allowPortZero && v === 0 ? 0 : r.integer(v, p, 1024, 65535, v === 0 ? ' (0 only with the loader option allowPortZero)' : ''));
  const allowRemote = r.optional(o, 'allowRemote', 'admin', d.allowRemote as boolean, (v, p) => r.boolean(v, p));
  if (!isLoopback(host) && !allowRemote) {
    r.add('admin.host', `${show(host)} is not a loopback address; the admin listener is local only unless admin.allowRemote is true`);
  }
  return { host, port, allowRemote };
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
  const o = r.object(raw, '', KEYS.top) ?? {};
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
  const logObj = own(o, 'log') === undefined ? null : r.object(own(o, 'log'), 'log', KEYS.log);
  const level = r.optional(logObj, 'level', 'log', DEFAULTS.log.level as LogLevel, (v, p) => r.oneOf(v, p, LOG_LEVELS));
  return {
    config: {
      listen, tls, allowlist, organizations, salesforceHosts, upstream: { allowedPorts }, routes, limits,
      pidFile, admin, workers, log: { level },
    },
    problems: r.problems,
  };
}
