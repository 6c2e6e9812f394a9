/** `sfom-gateway check-config`: validates everything and prints what would run. */
import { loadConfig } from '../config/load.js';
import { describeConfig } from '../config/describe.js';
import { ConfigError } from '../errors.js';

export async function checkConfig(file: string, out: (line: string) => void): Promise<number> {
  try {
    const config = await loadConfig(file);
    out(`configuration OK: ${config.source}`);
    for (const line of describeConfig(config)) out(line);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      out(`configuration has ${err.problems.length} problem(s): ${file}`);
      for (const p of err.problems) out(`  ${p.path}: ${p.message}`);
      return 1;
    }
    throw err;
  }
}
