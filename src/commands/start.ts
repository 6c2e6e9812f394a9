/**
 * `sfom-gateway start`: with --config, the operator's gateway; without, the development default
 * (`npm start`): certificates generated into certs/dev/, loopback only, and a demo internal
 * service that prints what it receives. Resolves with the exit code once the gateway has stopped.
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, loadConfigFromObject } from '../config/load.js';
import { devConfigObject } from '../config/dev.js';
import type { GatewayConfig } from '../config/types.js';
import { startDemoUpstream, type DemoUpstream } from '../demo/upstream.js';
import { ConfigError } from '../errors.js';
import { Gateway } from '../gateway.js';
import { ensureDevCertificates } from '../tls/dev-certs.js';
import cluster from 'node:cluster';
import { runPrimary, serveAsWorker } from '../cluster.js';
import { createLogger } from '../observability/logger.js';

/** certs/dev/ at the package root (dist/commands/start.js → ../../certs/dev). */
const DEV_CERT_DIR = fileURLToPath(new URL('../../certs/dev/', import.meta.url));

export async function start(configFile: string | undefined, out: (line: string) => void): Promise<number> {
  let config: GatewayConfig;
  let demo: DemoUpstream | null = null;
  try {
    if (configFile) {
      config = await loadConfig(configFile);
    } else {
      const certs = await ensureDevCertificates(DEV_CERT_DIR);
      demo = await startDemoUpstream(out);
      config = await loadConfigFromObject(devConfigObject(certs, demo.port), DEV_CERT_DIR, '<embedded development default>');
    }
  } catch (err) {
    await demo?.close();
    if (err instanceof ConfigError) {
      out(`cannot start: configuration has ${err.problems.length} problem(s)`);
      for (const p of err.problems) out(`  ${p.path}: ${p.message}`);
      return 1;
    }
    throw err;
  }

  if (configFile && config.workers > 1) {
    if (cluster.isPrimary) {
      const logger = createLogger(config.log.level);
      if (config.pidFile) await writeFile(config.pidFile, `${process.pid}\n`, { mode: 0o644 });
      const code = await runPrimary(config, configFile, logger);
      if (config.pidFile) await rm(config.pidFile, { force: true });
      return code;
    }
    const worker = new Gateway(config, { serveAdmin: false, rotateTicketKeys: false });
    await worker.start();
    return serveAsWorker(worker, configFile);
  }

  const gateway = new Gateway(config);
  const address = await gateway.start();
  if (config.pidFile) await writeFile(config.pidFile, `${process.pid}\n`, { mode: 0o644 });
  if (!configFile) printDevHelp(out, address.port);

  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      gateway.logger.info({ event: 'signal', signal }, 'stopping');
      void gateway.close().then(async () => {
        await demo?.close();
        if (config.pidFile) await rm(config.pidFile, { force: true });
        resolve(0);
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      if (!configFile) {
        gateway.logger.warn({ event: 'reload', result: 'skipped' }, 'the development default has no file to reload');
        return;
      }
      void gateway.reload(() => loadConfig(configFile));
    });
  });
}

function printDevHelp(out: (line: string) => void, port: number): void {
  const rel = path.relative(process.cwd(), DEV_CERT_DIR) || '.';
  out('');
  out(`sfom-gateway (development default) listening on https://127.0.0.1:${port}`);
  out(`  certificates: ${rel}/ (a test CA, a server certificate, a stand-in Salesforce client certificate)`);
  out('  routes: /outbound/contact (soap) and /outbound/json (json) → the demo internal service, which prints what it gets');
  out('');
  out('Send a sample outbound message from another terminal:');
  out(`  npx sfom-gateway send --url https://127.0.0.1:${port}/outbound/contact \\`);
  out(`    --cert ${rel}/client.crt --key ${rel}/client.key --ca ${rel}/ca.crt`);
  out('');
}
