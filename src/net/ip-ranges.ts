/**
 * Salesforce's published IP ranges → an allowlist file. Pure: parse, filter, validate, diff and
 * render; the command (commands/ip-ranges.ts) does the file work.
 *
 * Input shapes (shared/SALESFORCE.md "Network and certificates", ip-ranges.salesforce.com/ip-ranges.json):
 * a top-level `prefixes` array whose entries carry `ip_prefix` (a string, or an array of
 * strings), `region`, and sometimes `provider` and `direction`; a top-level `ipv6_prefixes`
 * array whose entries carry `ipv6_prefix` the same way; `createDate`. Or a plain text list, one
 * CIDR a line, `#` comments and blank lines allowed.
 *
 * Nothing is guessed: every value goes through `parseCidr` as written (no trimming), an invalid
 * one is a problem named by its position, and nested or duplicate ranges are reported and
 * reduced to the covering one.
 */
import { findOverlaps, parseCidr, type IpFamily } from './cidr.js';

/** One CIDR as found in the source, with where it was found. */
export interface RangeEntry {
  /** As written. */
  readonly value: string;
  /** `prefixes[3].ip_prefix`, `prefixes[3].ip_prefix[1]`, `ipv6_prefixes[0].ipv6_prefix` or `line 7`. */
  readonly position: string;
  readonly region: string | null;
  readonly direction: string | null;
  readonly provider: string | null;
  /** The family the source filed it under (`ipv6_prefixes` → ipv6); null for a text list. */
  readonly expectedFamily: IpFamily | null;
}

export interface RangeProblem {
  readonly position: string;
  readonly message: string;
}

export interface ParsedRanges {
  readonly format: 'json' | 'text';
  readonly entries: readonly RangeEntry[];
  /** Structural problems (wrong types, missing fields); every one makes the import fail. */
  readonly problems: readonly RangeProblem[];
  /** `createDate` of the JSON file, when present. */
  readonly createDate: string | null;
}

/** Longest value shown in a message. */
const SHOW_MAX = 80;

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > SHOW_MAX ? `${text.slice(0, SHOW_MAX)}…` : text;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function optionalString(entry: Record<string, unknown>, key: string, position: string, problems: RangeProblem[]): string | null {
  const v = entry[key];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  problems.push({ position: `${position}.${key}`, message: `must be a string, got ${show(v)}` });
  return null;
}

function parseJson(doc: unknown): ParsedRanges {
  const entries: RangeEntry[] = [];
  const problems: RangeProblem[] = [];
  if (!isRecord(doc)) {
    return { format: 'json', entries, problems: [{ position: '(top level)', message: 'must be an object with "prefixes" and/or "ipv6_prefixes"' }], createDate: null };
  }
  const lists = [
    { list: 'prefixes', field: 'ip_prefix', family: 'ipv4' },
    { list: 'ipv6_prefixes', field: 'ipv6_prefix', family: 'ipv6' },
  ] as const;
  if (doc.prefixes === undefined && doc.ipv6_prefixes === undefined) {
    problems.push({ position: '(top level)', message: 'has neither "prefixes" nor "ipv6_prefixes"' });
  }
  for (const { list, field, family } of lists) {
    const items = doc[list];
    if (items === undefined) continue;
    if (!Array.isArray(items)) {
      problems.push({ position: list, message: `must be an array, got ${show(items)}` });
      continue;
    }
    items.forEach((item: unknown, i) => {
      const at = `${list}[${i}]`;
      if (!isRecord(item)) {
        problems.push({ position: at, message: `must be an object, got ${show(item)}` });
        return;
      }
      const region = optionalString(item, 'region', at, problems);
      const direction = optionalString(item, 'direction', at, problems);
      const provider = optionalString(item, 'provider', at, problems);
      const add = (value: unknown, position: string): void => {
        if (typeof value !== 'string') {
          problems.push({ position, message: `must be a string, got ${show(value)}` });
          return;
        }
        entries.push({ value, position, region, direction, provider, expectedFamily: family });
      };
      const raw = item[field];
      if (raw === undefined) problems.push({ position: at, message: `has no "${field}"` });
      else if (Array.isArray(raw)) {
        if (raw.length === 0) problems.push({ position: `${at}.${field}`, message: 'is an empty array' });
        raw.forEach((v: unknown, j) => add(v, `${at}.${field}[${j}]`));
      } else add(raw, `${at}.${field}`);
    });
  }
  const createDate = typeof doc.createDate === 'string' ? doc.createDate : null;
  return { format: 'json', entries, problems, createDate };
}

function parseText(text: string): ParsedRanges {
  const entries: RangeEntry[] = [];
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    entries.push({ value: line, position: `line ${i + 1}`, region: null, direction: null, provider: null, expectedFamily: null });
  });
  return { format: 'text', entries, problems: [], createDate: null };
}

/**
 * Reads either shape: a document whose first non-blank character is `{` or `[` is JSON, anything
 * else a text list. Never throws; a JSON syntax error is a problem.
 */
export function parseIpRanges(text: string): ParsedRanges {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const first = body.trimStart()[0];
  if (first === '{' || first === '[') {
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch (e) {
      return { format: 'json', entries: [], problems: [{ position: '(file)', message: `is not valid JSON: ${(e as Error).message}` }], createDate: null };
    }
    return parseJson(doc);
  }
  return parseText(body);
}

export interface RangeFilter {
  /** Keep entries whose region is one of these (case-insensitive); empty = any region. */
  readonly regions: readonly string[];
  /** Keep entries whose direction is one of these (case-insensitive); empty = any direction. */
  readonly directions: readonly string[];
}

export interface FilterResult {
  readonly kept: readonly RangeEntry[];
  /** Left out because their region or direction is another one. */
  readonly excluded: number;
  /**
   * Left out because a filter is set on a field they do not carry. An entry is kept only when
   * its own field matches: a range without a region is not known to serve the region asked for
   * (fail closed). Entries missing both fields are counted once, under `noRegion`.
   */
  readonly noRegion: number;
  readonly noDirection: number;
}

/** Splits `--region a,b --region c` into `['a', 'b', 'c']`. */
export function splitList(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

export function filterRanges(entries: readonly RangeEntry[], filter: RangeFilter): FilterResult {
  const regions = new Set(filter.regions.map((r) => r.toLowerCase()));
  const directions = new Set(filter.directions.map((d) => d.toLowerCase()));
  const kept: RangeEntry[] = [];
  let excluded = 0;
  let noRegion = 0;
  let noDirection = 0;
  for (const e of entries) {
    if (regions.size > 0) {
      if (e.region === null) { noRegion++; continue; }
      if (!regions.has(e.region.toLowerCase())) { excluded++; continue; }
    }
    if (directions.size > 0) {
      if (e.direction === null) { noDirection++; continue; }
      if (!directions.has(e.direction.toLowerCase())) { excluded++; continue; }
    }
    kept.push(e);
  }
  return { kept, excluded, noRegion, noDirection };
}

export interface Overlap {
  /** The entry dropped, and the one that covers it (kept, or itself covered by a kept one). */
  readonly dropped: { readonly cidr: string; readonly position: string };
  readonly coveredBy: { readonly cidr: string; readonly position: string };
  readonly duplicate: boolean;
}

export interface ValidationResult {
  /** Normalised CIDRs, each covering entry once, sorted (IPv4 first, then by address). */
  readonly cidrs: readonly string[];
  readonly invalid: readonly RangeProblem[];
  readonly overlaps: readonly Overlap[];
}

/**
 * Validates every entry with `parseCidr` (strict), then keeps only covering entries: a range
 * inside another, or a second copy of one, is reported and left out.
 */
export function validateRanges(entries: readonly RangeEntry[]): ValidationResult {
  const invalid: RangeProblem[] = [];
  /** Normalised CIDR → where it was first seen. */
  const firstSeen = new Map<string, string>();
  const overlaps: Overlap[] = [];
  for (const e of entries) {
    let normalized: string;
    try {
      const parsed = parseCidr(e.value);
      if (e.expectedFamily !== null && parsed.family !== e.expectedFamily) {
        invalid.push({ position: e.position, message: `${show(e.value)} is an ${parsed.family} range in the ${e.expectedFamily} list` });
        continue;
      }
      normalized = parsed.normalized;
    } catch (err) {
      invalid.push({ position: e.position, message: (err as Error).message });
      continue;
    }
    const earlier = firstSeen.get(normalized);
    if (earlier !== undefined) {
      overlaps.push({ dropped: { cidr: normalized, position: e.position }, coveredBy: { cidr: normalized, position: earlier }, duplicate: true });
      continue;
    }
    firstSeen.set(normalized, e.position);
  }
  const unique = [...firstSeen.keys()];
  const containers = new Map<string, string>();
  for (const [outer, inner] of findOverlaps(unique)) {
    // findOverlaps lists every container of `inner`, widest first: report the widest.
    if (!containers.has(inner)) containers.set(inner, outer);
  }
  for (const [inner, outer] of containers) {
    overlaps.push({
      dropped: { cidr: inner, position: firstSeen.get(inner) ?? '' },
      coveredBy: { cidr: outer, position: firstSeen.get(outer) ?? '' },
      duplicate: false,
    });
  }
  const cidrs = sortCidrs(unique.filter((c) => !containers.has(c)));
  return { cidrs, invalid, overlaps };
}

/** 128-bit value of a canonical address as `parseCidr` prints it (IPv4 dotted or IPv6 hex groups). */
function addressValue(address: string): bigint {
  if (!address.includes(':')) return address.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
  const [head = '', tail] = address.split('::');
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** IPv4 before IPv6, then by network address, then wider first. Input must be normalised. */
export function sortCidrs(cidrs: readonly string[]): string[] {
  const key = (c: string): { v6: boolean; value: bigint; prefix: number } => {
    const slash = c.lastIndexOf('/');
    const address = c.slice(0, slash);
    return { v6: address.includes(':'), value: addressValue(address), prefix: Number(c.slice(slash + 1)) };
  };
  return [...cidrs]
    .map((c) => ({ c, k: key(c) }))
    .sort((a, b) =>
      a.k.v6 !== b.k.v6 ? (a.k.v6 ? 1 : -1)
      : a.k.value !== b.k.value ? (a.k.value < b.k.value ? -1 : 1)
      : a.k.prefix - b.k.prefix)
    .map(({ c }) => c);
}

/**
 * The entries of an allowlist file in its line form, read the way `allowlist.files` reads them
 * (config/load.ts `parseAllowlistFile`): `#` starts a comment, entries are trimmed, blank lines
 * skipped.
 */
export function readAllowlistText(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split(/\r?\n/).map((line) => {
    const hash = line.indexOf('#');
    return (hash < 0 ? line : line.slice(0, hash)).trim();
  }).filter((l) => l !== '');
}

export interface RangeDiff {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly unchanged: number;
}

/** What `next` adds to and removes from `previous`, each in `next`'s / `previous`'s order. */
export function diffRanges(previous: readonly string[], next: readonly string[]): RangeDiff {
  const before = new Set(previous);
  const after = new Set(next);
  return {
    added: next.filter((c) => !before.has(c)),
    removed: previous.filter((c) => !after.has(c)),
    unchanged: next.filter((c) => before.has(c)).length,
  };
}

export interface AllowlistHeader {
  readonly source: string;
  readonly date: Date;
  readonly filter: RangeFilter;
  readonly createDate: string | null;
}

/** A comment line cannot be ended early by a newline in a file name. */
const commentSafe = (text: string): string => text.replace(/[\r\n]/g, ' ');

/**
 * The allowlist file: a header comment (source, date, filters) and one CIDR a line, the format
 * `allowlist.files` reads.
 */
export function renderAllowlist(cidrs: readonly string[], header: AllowlistHeader): string {
  const filters = [
    header.filter.regions.length > 0 ? `region=${header.filter.regions.join(',')}` : 'region=(any)',
    header.filter.directions.length > 0 ? `direction=${header.filter.directions.join(',')}` : 'direction=(any)',
  ].join(' ');
  const lines = [
    '# Salesforce IP ranges for sfom-gateway (allowlist.files).',
    '# Written by: sfom-gateway ip-ranges import. Do not edit: re-run the import instead.',
    `# Source: ${commentSafe(header.source)}${header.createDate ? ` (createDate ${commentSafe(header.createDate)})` : ''}`,
    `# Date: ${header.date.toISOString()}`,
    `# Filters: ${commentSafe(filters)}`,
    `# Ranges: ${cidrs.length}`,
    ...cidrs,
  ];
  return `${lines.join('\n')}\n`;
}
