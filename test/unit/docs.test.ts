/** README stays true to the code: every reason code in the error table is listed with its status. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('README', () => {
  it('lists every reason code with its HTTP status', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    for (const [code, { status }] of Object.entries(ERRORS)) {
      expect(readme, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
    }
  });

  it('shows the two commands on its first screen', async () => {
    const firstScreen = (await readFile(path.join(ROOT, 'README.md'), 'utf8')).split('\n').slice(0, 30).join('\n');
    expect(firstScreen).toContain('npm install && npm start');
    expect(firstScreen).toContain('npm test');
  });
});
