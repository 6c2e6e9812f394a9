/**
 * Loading the configuration: read → validate → resolve paths → read files → freeze (STYLE.md
 * habit 2). Every problem, structural or in a file, is collected and thrown together as one
 * ConfigError, before any port is bound. Nothing reads `process.env`.
 */
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { parseCidr } from '../net/cidr.js';
import {
  CertificateFileError,
  checkServerChain,
  chainsTo,
  fileReadProblem,
  parsePrivateKey,
  readCertificates,
  readFileOrExplain,
} from '../tls/cert-store.js';
import { MAX_WORKERS, validateConfig, type ValidatedConfig, type ValidateOptions } from './schema.js';
import type { GatewayConfig, LoadedCertificate, RouteConfig } from './types.js';

export { isCurrentlyValid } from '../tls/cert-store.js';

export interface LoadOptions extends ValidateOptions {
  /** The clock for validity checks (tests). Default: now. */
  readonly now?: Date;
}

/** The key path used for problems with the file as a whole (unreadable, syntax). */
export const FILE_PATH = '(file)';
const EXTENSIONS = ['.yaml', '.yml', '.json'];
/** Allowlist files are operator-written lists, not data dumps. */
const MAX_ALLOWLIST_FILE_BYTES = 1024 * 1024;

/**
 * Loads and validates a configuration file (.yaml, .yml or .json). Relative paths inside are
 * relative to the file's folder. Throws a ConfigError listing every problem.
 *
 * @example const config = await loadConfig('/etc/sfom-gateway/config.yaml');
 */
export async function loadConfig(file: string, opts: LoadOptions = {}): Promise<GatewayConfig> {
  const source = path.resolve(file);
  const ext = path.extname(source).toLowerCase();
  if (!EXTENSIONS.includes(ext)) {
    throw new ConfigError([{ path: FILE_PATH, message: `${file} must end in .yaml, .yml or .json (got ${ext ? `"${ext}"` : 'no extension'})` }]);
  }
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: FILE_PATH, message: `configuration file ${file} ${fileReadProblem(err)}` }]);
  }
  text = text.replace(/^\uFEFF/, ''); // a byte-order mark from Windows editors
  const raw = ext === '.json' ? parseJson(text) : parseYaml(text);
  return loadConfigFromObject(raw, path.dirname(source), source, opts);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError([{ path: FILE_PATH, message: `is not valid JSON: ${(err as Error).message}` }]);
  }
}

function parseYaml(text: string): unknown {
  // YAML 1.2 core schema: `yes`/`no` stay strings and `0177` is not octal; duplicate keys are errors.
  const doc = YAML.parseDocument(text, { version: '1.2', uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => ({ path: FILE_PATH, message: `YAML error: ${e.message.split('\n')[0] ?? e.code}` })));
  }
  try {
    return doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (err) {
    throw new ConfigError([{ path: FILE_PATH, message: `YAML error: ${(err as Error).message.split('\n')[0] ?? ''}` }]);
  }
}

/**
 * Validates a raw configuration object (already parsed), resolving relative paths against
 * `baseDir`; `source` names where it came from (shown by check-config and in logs).
 * Throws a ConfigError listing every problem.
 */
export async function loadConfigFromObject(
  raw: unknown,
  baseDir: string,
  source: string,
  opts: LoadOptions = {},
): Promise<GatewayConfig> {
  const now = opts.now ?? new Date();
  const { config: v, problems } = validateConfig(raw, opts);
  const resolve = (p: string): string => path.resolve(baseDir, p);
  const files = new FileChecks(problems, resolve);

  const tls = files.tls(v.tls, now);
  const cidrs = await files.allowlist(v.allowlist);
  if (problems.length > 0) throw new ConfigError(problems);

  const routes: RouteConfig[] = v.routes.map((r) => ({
    path: r.path,
    target: r.target as URL, // non-null: a null target recorded a problem
    format: r.format,
    timeoutMs: r.timeoutMs,
    actionIds: new Set(r.actionIds),
    objectTypes: new Set(r.objectTypes),
    forwardSessionId: r.forwardSessionId,
  }));
  const config: GatewayConfig = {
    source,
    listen: { ...v.listen },
    tls: tls!,
    allowlist: { cidrs },
    organizations: new Set(v.organizations),
    salesforceHosts: [...v.salesforceHosts],
    upstream: { allowedPorts: new Set(v.upstream.allowedPorts) },
    routes,
    limits: { ...v.limits },
    pidFile: v.pidFile === null ? null : resolve(v.pidFile),
    admin: v.admin === null ? null : { ...v.admin },
    workers: v.workers === 'auto' ? Math.min(MAX_WORKERS, availableCores()) : v.workers,
    log: { ...v.log },
  };
  return deepFreeze(config);
}

function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** Reads and checks the files named by the configuration, recording problems by key path. */
class FileChecks {
  readonly #problems: ConfigProblem[];
  readonly #resolve: (p: string) => string;

  constructor(problems: ConfigProblem[], resolve: (p: string) => string) {
    this.#problems = problems;
    this.#resolve = resolve;
  }

  #add(path: string, message: string): void {
    this.#problems.push({ path, message });
  }

  /** Runs `read`, turning a CertificateFileError into a problem at `path`. */
  #attempt<T>(path: string, read: () => T): T | null {
    try {
      return read();
    } catch (err) {
      if (err instanceof CertificateFileError) {
        this.#add(path, err.message);
        return null;
      }
      throw err;
    }
  }

  #certificates(path: string, file: string): LoadedCertificate[] | null {
    return this.#attempt(path, () => readCertificates(this.#resolve(file), file));
  }

  tls(t: ValidatedConfig['tls'], now: Date): GatewayConfig['tls'] | null {
    const chain = t.cert === null ? null : this.#certificates('tls.cert', t.cert);
    const key: KeyObject | null = t.key === null
      ? null
      : this.#attempt('tls.key', () => parsePrivateKey(readFileOrExplain(this.#resolve(t.key!), t.key!), t.key!));
    if (chain && key) for (const message of checkServerChain(chain, key, now)) this.#add('tls.cert', message);

    const clientCas = t.clientCa === null ? null : this.#certificates('tls.clientCa', t.clientCa);
    const pins: LoadedCertificate[] = [];
    const seen = new Set<string>();
    t.clientCertificates.forEach((file, i) => {
      if (file === null) return;
      const path = `tls.clientCertificates[${i}]`;
      const certs = this.#certificates(path, file);
      if (certs === null) return;
      if (certs.length !== 1) {
        this.#add(path, `file ${file} holds ${certs.length} certificates; a pin file must hold exactly the one client certificate`);
        return;
      }
      const pin = certs[0]!;
      if (pin.x509.ca) {
        this.#add(path, `certificate ${file} is a CA certificate; pin the client (leaf) certificate Salesforce presents`);
        return;
      }
      // An expired pin is not an error: it stays listed (check-config marks it) and never matches.
      if (clientCas && !chainsTo(pin.x509, clientCas)) {
        this.#add(path, `certificate ${file} is not issued by any CA in tls.clientCa (${t.clientCa}), so the handshake would reject it`);
        return;
      }
      if (!seen.has(pin.fingerprint256)) {
        seen.add(pin.fingerprint256);
        pins.push(pin);
      }
    });

    if (!chain || !key || !clientCas) return null;
    return {
      certPem: chain.map((c) => c.x509.toString()).join(''),
      keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
      serverChain: chain,
      clientCaPem: clientCas.map((c) => c.x509.toString()).join(''),
      clientCas,
      clientPins: pins,
      clientSubjects: t.clientSubjects,
      minVersion: t.minVersion,
      expiryWarningDays: t.expiryWarningDays,
    };
  }

  /** The inline CIDRs plus those of each file, normalised and de-duplicated; empty is a problem. */
  async allowlist(a: ValidatedConfig['allowlist']): Promise<string[]> {
    const entries = [...a.cidrs];
    let filesOk = true;
    for (const [i, file] of a.files.entries()) {
      if (file === null) {
        filesOk = false;
        continue;
      }
      const base = `allowlist.files[${i}]`;
      let text: string;
      try {
        const data = await readFile(this.#resolve(file));
        if (data.length > MAX_ALLOWLIST_FILE_BYTES) {
          this.#add(base, `file ${file} is larger than ${MAX_ALLOWLIST_FILE_BYTES} bytes`);
          filesOk = false;
          continue;
        }
        text = data.toString('utf8');
      } catch (err) {
        this.#add(base, `file ${file} ${fileReadProblem(err)}`);
        filesOk = false;
        continue;
      }
      const parsed = parseAllowlistFile(text);
      if ('error' in parsed) {
        this.#add(base, `file ${file}: ${parsed.error}`);
        filesOk = false;
        continue;
      }
      for (const { where, entry } of parsed.entries) {
        try {
          entries.push(parseCidr(entry).normalized);
        } catch (err) {
          this.#add(`${base} ${where}`, (err as Error).message);
          filesOk = false;
        }
      }
    }
    const unique = [...new Set(entries)];
    const hasAllowlistProblem = this.#problems.some((p) => p.path === 'allowlist' || p.path.startsWith('allowlist.'));
    if (unique.length === 0 && filesOk && !hasAllowlistProblem) {
      this.#add('allowlist', 'is empty: list at least one CIDR in allowlist.cidrs or allowlist.files (an empty allowlist refuses everyone; it never means allow-all)');
    }
    return unique;
  }
}

/**
 * An allowlist file: a JSON array of strings, or one entry per line with `#` comments and
 * blank lines. Entries keep where they came from (`line 3`, `[2]`) for messages.
 */
export function parseAllowlistFile(text: string): { entries: { where: string; entry: string }[] } | { error: string } {
  const body = text.replace(/^\uFEFF/, '');
  if (body.trimStart().startsWith('[')) {
    let data: unknown;
    try {
      data = JSON.parse(body);
    } catch (err) {
      return { error: `is not a valid JSON array: ${(err as Error).message}` };
    }
    if (!Array.isArray(data)) return { error: 'must be a JSON array of strings' };
    const entries: { where: string; entry: string }[] = [];
    for (const [i, item] of data.entries()) {
      if (typeof item !== 'string') return { error: `item [${i}] must be a string` };
      entries.push({ where: `[${i}]`, entry: item });
    }
    return { entries };
  }
  const entries: { where: string; entry: string }[] = [];
  body.split(/\r?\n/).forEach((line, i) => {
    const hash = line.indexOf('#');
    const entry = (hash < 0 ? line : line.slice(0, hash)).trim();
    if (entry !== '') entries.push({ where: `line ${i + 1}`, entry });
  });
  return { entries };
}

/** Object.freeze through plain objects and arrays (Sets, Maps, URLs and certificates are typed readonly). */
function deepFreeze<T>(value: T): T {
  if (Array.isArray(value)) {
    for (const item of value) deepFreeze(item);
    return Object.freeze(value);
  }
  if (value instanceof Set || value instanceof Map) return Object.freeze(value);
  if (typeof value === 'object' && value !== null) {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      for (const v of Object.values(value)) deepFreeze(v);
      return Object.freeze(value);
    }
  }
  return value;
}
