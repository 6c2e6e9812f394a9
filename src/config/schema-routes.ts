/**
 * The forwarding sections of the schema: the ports internal services may listen on
 * (`upstream.allowedPorts`) and the route table (`routes`): path, target URL, body format,
 * timeout, and the ActionIds and object types a route takes.
 */
import { ID_PREFIX, toId18 } from '../policy/ids.js';
import { DEFAULTS } from './defaults.js';
import { eachString, show, type Reader } from './schema-reader.js';
import type { RouteFormat } from './types.js';

export const ROUTE_FORMATS: readonly RouteFormat[] = ['soap', 'json'];
/** Salesforce gives up on an attempt after 60 s (shared/SALESFORCE.md "The answer"). */
export const MAX_ROUTE_TIMEOUT_MS = 59_000;
const OBJECT_TYPE = /^[A-Za-z][A-Za-z0-9_]{0,79}$/;
const UPSTREAM_KEYS = ['allowedPorts'] as const;
const ROUTE_KEYS = ['path', 'target', 'format', 'timeoutMs', 'actionIds', 'objectTypes', 'forwardSessionId'] as const;

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

/** `upstream.allowedPorts`, required and non-empty: deduplicated. */
export function readUpstream(r: Reader, raw: unknown): number[] {
  const o = raw === undefined ? (r.add('upstream', 'is required'), null) : r.object(raw, 'upstream', UPSTREAM_KEYS);
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

/**
 * `routes`, required and non-empty, paths unique. Targets are checked against `allowedPorts`
 * unless it is null (upstream had problems of its own).
 */
export function readRoutes(r: Reader, raw: unknown, allowedPorts: readonly number[] | null): ValidatedRoute[] {
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
    const o = r.object(item, base, ROUTE_KEYS);
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
