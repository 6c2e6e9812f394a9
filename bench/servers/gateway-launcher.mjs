/**
 * Runs the built gateway (dist/) in its own process, the way the CLI would, but from a raw
 * configuration object passed on argv: loadConfigFromObject → new Gateway → start().
 * Logs go to stdout at the configured level (the bench uses 'warn': nothing is logged for an
 * acknowledged message, so logging does not dominate the figures).
 *
 * IPC: sends { type: 'ready', port }; answers
 *   { type: 'eld' , action: 'start' } → enables a 1 ms event-loop delay histogram (off otherwise:
 *       its 1 ms timer would cost CPU in the throughput cells),
 *   { type: 'eld', action: 'read' }  → { max, p99, mean } in ms, and disables it,
 *   { type: 'stop' } → gateway.close(0), then exit (so --cpu-prof can write its profile).
 *
 * argv[2]: JSON { config, baseDir, overload? } — `overload` overrides some of the overload guard's
 * limits (the memory scenario lifts the event-loop-delay limit, see README).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfigFromObject } from '../../dist/config/load.js';
import { Gateway } from '../../dist/gateway.js';
import { DEFAULT_OVERLOAD_LIMITS } from '../../dist/net/overload.js';

const { config: raw, baseDir, overload } = JSON.parse(process.argv[2]);
const config = await loadConfigFromObject(raw, baseDir, 'bench', { allowPortZero: true });
const gateway = new Gateway(config, overload ? { overload: { ...DEFAULT_OVERLOAD_LIMITS, ...overload } } : {});
const address = await gateway.start();

let histogram = null;
let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  await gateway.close(0).catch(() => {});
  process.exit(code);
}

process.on('message', (m) => {
  if (m?.type === 'eld' && m.action === 'start') {
    histogram?.disable();
    histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    process.send({ type: 'eld:done' });
  } else if (m?.type === 'eld' && m.action === 'read') {
    const h = histogram;
    h?.disable();
    histogram = null;
    process.send({
      type: 'eld:done',
      maxMs: h ? h.max / 1e6 : null,
      p99Ms: h ? h.percentile(99) / 1e6 : null,
      meanMs: h ? h.mean / 1e6 : null,
    });
  } else if (m?.type === 'stop') {
    void stop(0);
  }
});
process.on('disconnect', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));
process.send({ type: 'ready', port: address.port });
