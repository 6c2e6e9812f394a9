/** config/example.yaml stays true to the schema: every key in it is known and well typed. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/schema.js';

const EXAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'config', 'example.yaml');

describe('config/example.yaml', () => {
  it('has only known keys with valid values (files aside)', async () => {
    const raw = parse(await readFile(EXAMPLE, 'utf8')) as Record<string, unknown>;
    const { problems } = validateConfig(raw);
    // The example leaves allowlist.cidrs empty in favour of a file, which only the loader reads.
    expect(problems.filter((p) => !p.path.startsWith('allowlist'))).toEqual([]);
    expect(Object.keys(raw)).toEqual(expect.arrayContaining(['listen', 'tls', 'allowlist', 'organizations', 'routes', 'limits', 'admin', 'workers', 'pidFile']));
  });
});
