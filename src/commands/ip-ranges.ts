/**
 * `sfom-gateway ip-ranges import FILE --out FILE [--region R]... [--direction D]`: turns
 * Salesforce's ip-ranges.json (or a plain list) into an `allowlist.files` file. The output is
 * replaced atomically (temp file + rename) and only when every entry is valid, so the last good
 * file stays in use until an import succeeds; the gateway picks it up on the next reload.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileReadProblem } from '../tls/cert-store.js';
import {
  diffRanges, filterRanges, parseIpRanges, readAllowlistText, renderAllowlist, validateRanges,
  type RangeFilter,
} from '../net/ip-ranges.js';

export interface IpRangesImportOptions {
  readonly file: string;
  readonly out: string;
  readonly filter: RangeFilter;
  /** For the header; default now. */
  readonly now?: Date;
}

/** config/load.ts reads allowlist files up to 1 MiB; a bigger one would fail the next reload. */
const MAX_ALLOWLIST_FILE_BYTES = 1024 * 1024;
/** Most lines of one list printed (added, removed, problems); the rest are counted. */
const MAX_LISTED = 200;

function list(out: (line: string) => void, items: readonly string[]): void {
  for (const item of items.slice(0, MAX_LISTED)) out(item);
  if (items.length > MAX_LISTED) out(`  … and ${items.length - MAX_LISTED} more`);
}

async function readPrevious(file: string): Promise<string[] | null> {
  try {
    return readAllowlistText(await readFile(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Writes `content` next to `file` and renames it over `file`: readers see the old or the new file, never half of one. */
async function writeAtomically(file: string, content: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, content, { mode: 0o644, flag: 'wx' });
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Resolves with the exit code: 0 written or unchanged, 1 when nothing was written. */
export async function importIpRanges(opts: IpRangesImportOptions, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  if (path.resolve(opts.file) === path.resolve(opts.out)) {
    err(`error: --out ${opts.out} is the input file; write the allowlist to another file`);
    return 1;
  }
  let text: string;
  try {
    text = await readFile(opts.file, 'utf8');
  } catch (e) {
    err(`error: ${opts.file} ${fileReadProblem(e)}`);
    return 1;
  }

  const parsed = parseIpRanges(text);
  const filtered = filterRanges(parsed.entries, opts.filter);
  const checked = validateRanges(filtered.kept);

  out(`read ${parsed.entries.length} range(s) from ${opts.file} (${parsed.format === 'json' ? 'ip-ranges.json format' : 'plain list'})`);
  if (opts.filter.regions.length > 0 || opts.filter.directions.length > 0) {
    out(`filters kept ${filtered.kept.length}: ${filtered.excluded} in another region/direction left out`);
    if (filtered.noRegion > 0) out(`  ${filtered.noRegion} range(s) without a region left out (--region keeps only ranges that name a listed region)`);
    if (filtered.noDirection > 0) out(`  ${filtered.noDirection} range(s) without a direction left out (--direction keeps only ranges that name a listed direction)`);
  }
  for (const o of checked.overlaps) {
    out(o.duplicate
      ? `duplicate: ${o.dropped.position} ${o.dropped.cidr} repeats ${o.coveredBy.position}; kept once`
      : `overlap: ${o.dropped.position} ${o.dropped.cidr} lies inside ${o.coveredBy.position} ${o.coveredBy.cidr}; only the covering range is kept`);
  }

  const problems = [
    ...parsed.problems.map((p) => `  ${p.position}: ${p.message}`),
    ...checked.invalid.map((p) => `  ${p.position}: ${p.message}`),
  ];
  if (problems.length > 0) {
    err(`error: ${opts.file} has ${problems.length} invalid entr${problems.length === 1 ? 'y' : 'ies'}; ${opts.out} was not changed`);
    list(err, problems);
    return 1;
  }
  if (checked.cidrs.length === 0) {
    // An empty allowlist is a configuration error (fail closed), never "allow all".
    err(`error: no range left to write${parsed.entries.length > 0 ? ' after the filters' : ''}; ${opts.out} was not changed`);
    return 1;
  }

  let previous: string[] | null;
  try {
    previous = await readPrevious(opts.out);
  } catch (e) {
    err(`error: ${opts.out} ${fileReadProblem(e)}; not changed`);
    return 1;
  }
  const diff = diffRanges(previous ?? [], checked.cidrs);
  if (previous !== null && diff.added.length === 0 && diff.removed.length === 0 && previous.length === checked.cidrs.length) {
    out(`no change: ${opts.out} already holds these ${checked.cidrs.length} range(s); not rewritten, no reload needed`);
    return 0;
  }

  const content = renderAllowlist(checked.cidrs, {
    source: opts.file, date: opts.now ?? new Date(), filter: opts.filter, createDate: parsed.createDate,
  });
  if (Buffer.byteLength(content) > MAX_ALLOWLIST_FILE_BYTES) {
    err(`error: the allowlist would be larger than ${MAX_ALLOWLIST_FILE_BYTES} bytes, more than allowlist.files reads; narrow it with --region/--direction. ${opts.out} was not changed`);
    return 1;
  }
  try {
    await writeAtomically(opts.out, content);
  } catch (e) {
    err(`error: could not write ${opts.out}: ${(e as NodeJS.ErrnoException).code ?? 'unknown error'}; the previous file is unchanged`);
    return 1;
  }

  out(previous === null
    ? `wrote ${opts.out}: ${checked.cidrs.length} range(s) (new file)`
    : `wrote ${opts.out}: ${checked.cidrs.length} range(s), ${diff.added.length} added, ${diff.removed.length} removed, ${diff.unchanged} unchanged`);
  if (diff.added.length > 0) {
    out('added:');
    list(out, diff.added.map((c) => `  + ${c}`));
  }
  if (diff.removed.length > 0) {
    out('removed:');
    list(out, diff.removed.map((c) => `  - ${c}`));
  }
  out('review the change, then: sfom-gateway reload --config FILE');
  return 0;
}
