/**
 * The network sections of the schema: the gateway's listener (`listen`), the admin listener
 * (`admin`, loopback only unless `allowRemote`) and the source-address allowlist (`allowlist`).
 */
import { isIP } from 'node:net';
import { parseCidr } from '../net/cidr.js';
import { DEFAULTS } from './defaults.js';
import { eachString, show, type Reader } from './schema-reader.js';

const LISTEN_KEYS = ['host', 'port'] as const;
const ADMIN_KEYS = ['host', 'port', 'allowRemote'] as const;
const ALLOWLIST_KEYS = ['cidrs', 'files'] as const;

export interface ValidateOptions {
  /** Accept port 0 (an ephemeral port) for listen.port and admin.port: for tests only. */
  readonly allowPortZero?: boolean;
}

export interface ValidatedListen {
  readonly host: string;
  readonly port: number;
}

export interface ValidatedAdmin {
  readonly host: string;
  readonly port: number;
  readonly allowRemote: boolean;
}

/** File lists keep their indices (null for an invalid entry) so later problems can name them. */
export interface ValidatedAllowlist {
  readonly cidrs: readonly string[];
  readonly files: readonly (string | null)[];
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

/** `listen`, required: an IP address or localhost (default 0.0.0.0) and a port Salesforce can call. */
export function readListen(r: Reader, raw: unknown, opts: ValidateOptions): ValidatedListen {
  const o = raw === undefined ? (r.add('listen', 'is required'), null) : r.object(raw, 'listen', LISTEN_KEYS);
  const host = r.optional(o, 'host', 'listen', DEFAULTS.listen.host, (v, p) => readHost(r, v, p));
  const port = r.required(o, 'port', 'listen');
  const checked = port === undefined ? null : readListenPort(r, port, 'listen.port', opts.allowPortZero === true);
  return { host, port: checked ?? 0 };
}

/** `allowlist`, required: CIDRs normalised, file paths kept for load.ts to read. */
export function readAllowlist(r: Reader, raw: unknown): ValidatedAllowlist {
  const o = raw === undefined ? (r.add('allowlist', 'is required'), null) : r.object(raw, 'allowlist', ALLOWLIST_KEYS);
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

/** `admin`, optional (null = off): loopback only unless `allowRemote` is true. */
export function readAdmin(r: Reader, raw: unknown, opts: ValidateOptions): ValidatedAdmin | null {
  if (raw === undefined || raw === null) return null;
  const o = r.object(raw, 'admin', ADMIN_KEYS);
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
