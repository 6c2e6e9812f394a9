/**
 * Runs one job in a fresh load-generator process pinned to the load core (see loadgen.mjs).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nextMessage, start, stop } from './children.mjs';

const LOADGEN = join(dirname(fileURLToPath(import.meta.url)), '..', 'loadgen.mjs');

/** Resolves with the job's figures; rejects on error or after `timeoutMs`. */
export async function runLoad(job, { core = 0, timeoutMs = 60_000 } = {}) {
  const child = start(process.execPath, [LOADGEN], { core, ipc: true });
  try {
    const answer = nextMessage(child, (m) => m?.type === 'result', timeoutMs, `load generator (${job.kind})`);
    child.send(job);
    const { result, error } = await answer;
    if (error) throw new Error(`load generator: ${error}`);
    return result;
  } finally {
    await stop(child, 'SIGTERM', 2000);
  }
}
