/**
 * `workers: N` (node:cluster): the primary loads and validates the configuration, forks N
 * workers that each run the whole pipeline on the shared listening port, and supervises them.
 * SIGHUP and SIGTERM/SIGINT reach the primary, which passes them on; a worker that dies is
 * replaced (with back-off, so a crash loop cannot spin); TLS session-ticket keys are made in the
 * primary and shared, so a client resumes its session whichever worker it reaches.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from 'pino';
import { startAdmin, type AdminServer } from './admin/server.js';
import { loadConfig } from './config/load.js';
import type { GatewayConfig } from './config/types.js';
import { ConfigError } from './errors.js';
import type { Gateway } from './gateway.js';

/** Session-ticket keys are replaced this often, as in a single process (gateway.ts). */
const TICKET_KEY_ROTATION_MS = 60 * 60 * 1000;
const RESPAWN_MIN_MS = 100;
const RESPAWN_MAX_MS = 30_000;

export type PrimaryMessage =
  | { readonly type: 'sfom:reload' }
  | { readonly type: 'sfom:shutdown' }
  | { readonly type: 'sfom:ticketKeys'; readonly keys: string };
export type WorkerMessage = { readonly type: 'sfom:listening' } | { readonly type: 'sfom:draining' };

function isPrimaryMessage(m: unknown): m is PrimaryMessage {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string'
    && (m as { type: string }).type.startsWith('sfom:');
}

/** Runs the primary until every worker has stopped; resolves with the exit code. */
export async function runPrimary(config: GatewayConfig, configFile: string, logger: Logger): Promise<number> {
  const count = config.workers;
  const ready = new Set<number>();
  let stopping = false;
  let respawnDelay = RESPAWN_MIN_MS;
  let ticketKeys = randomBytes(48);

  const send = (worker: Worker, message: PrimaryMessage): void => {
    if (worker.isConnected()) worker.send(message);
  };
  const fork = (): void => {
    const worker = cluster.fork();
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'sfom:listening') {
        ready.add(worker.id);
        respawnDelay = RESPAWN_MIN_MS;
        send(worker, { type: 'sfom:ticketKeys', keys: ticketKeys.toString('base64') });
      }
      if (m.type === 'sfom:draining') ready.delete(worker.id);
    });
  };
  cluster.on('exit', (worker, code, signal) => {
    ready.delete(worker.id);
    // Exit code 0 is a worker that was told to stop (a signal to the whole process group, as
    // systemd sends): not a crash, and the primary is about to stop too.
    if (stopping || code === 0) return;
    logger.error({ event: 'worker_exit', worker: worker.id, code, signal, respawnInMs: respawnDelay }, 'worker died; replacing it');
    setTimeout(fork, respawnDelay).unref();
    respawnDelay = Math.min(respawnDelay * 2, RESPAWN_MAX_MS);
  });
  for (let i = 0; i < count; i++) fork();

  const rotation = setInterval(() => {
    ticketKeys = randomBytes(48);
    for (const w of Object.values(cluster.workers ?? {})) if (w) send(w, { type: 'sfom:ticketKeys', keys: ticketKeys.toString('base64') });
  }, TICKET_KEY_ROTATION_MS);
  rotation.unref();

  let admin: AdminServer | null = null;
  if (config.admin) {
    // Metrics are kept per worker and summed here (prom-client's cluster aggregation).
    const aggregator = new AggregatorRegistry();
    admin = await startAdmin({
      host: config.admin.host, port: config.admin.port, allowRemote: config.admin.allowRemote,
      ready: () => !stopping && ready.size === count,
      metrics: { contentType: aggregator.contentType, metrics: () => aggregator.clusterMetrics() },
    });
  }
  logger.info({ event: 'primary_started', workers: count }, `started ${count} workers`);

  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ event: 'signal', signal }, 'stopping every worker');
      for (const w of Object.values(cluster.workers ?? {})) if (w) send(w, { type: 'sfom:shutdown' });
      const hardStop = setTimeout(() => {
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      }, config.limits.shutdownGraceMs + 5000);
      hardStop.unref();
      const check = setInterval(() => {
        if (Object.keys(cluster.workers ?? {}).length === 0) {
          clearInterval(check);
          clearInterval(rotation);
          void (admin?.close() ?? Promise.resolve()).then(() => resolve(0));
        }
      }, 50);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      // Validated here first, so a broken file is reported once and reaches no worker.
      loadConfig(configFile).then(() => {
        for (const w of Object.values(cluster.workers ?? {})) if (w) send(w, { type: 'sfom:reload' });
        logger.info({ event: 'reload', scope: 'primary' }, 'configuration valid; workers reloading');
      }, (err: unknown) => {
        const problems = err instanceof ConfigError ? err.problems : [{ path: '(file)', message: 'could not be loaded' }];
        logger.error({ event: 'reload', result: 'failure', problems }, 'reload refused: the previous configuration stays in force');
      });
    });
  });
}

/**
 * In a worker: answers the primary's messages. Resolves when the gateway has stopped.
 * Signals sent to the whole process group are handled as the primary's would be.
 */
export function serveAsWorker(gateway: Gateway, configFile: string): Promise<number> {
  // Constructing one registers prom-client's listener for the primary's metric requests
  // (setRegistries alone does not); then report this gateway's own registry.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([gateway.metrics.registry]);
  process.send?.({ type: 'sfom:listening' } satisfies WorkerMessage);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      process.send?.({ type: 'sfom:draining' } satisfies WorkerMessage);
      void gateway.close().then(() => resolve(0));
    };
    process.on('message', (m: unknown) => {
      if (!isPrimaryMessage(m)) return;
      if (m.type === 'sfom:shutdown') stop();
      else if (m.type === 'sfom:reload') void gateway.reload(() => loadConfig(configFile));
      else if (m.type === 'sfom:ticketKeys') gateway.setTicketKeys(Buffer.from(m.keys, 'base64'));
    });
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGHUP', () => undefined); // the primary reloads every worker
    process.on('disconnect', stop);
  });
}
