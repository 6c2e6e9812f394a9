/**
 * `sfom-gateway reload --config FILE`: finds the running gateway through the config's `pidFile`
 * and sends it SIGHUP; the gateway re-reads the configuration and applies it whole or keeps the
 * old one (commands/start.ts `reload`). The outcome is in the gateway's log (event `reload`) and
 * in `sfom_config_reloads_total{result}`; this command only delivers the signal.
 *
 * The config file is read here only to find `pidFile`, not validated: run `check-config` first.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { fileReadProblem } from '../tls/cert-store.js';

export interface ReloadOptions {
  readonly config: string;
  /** Signal even when the process does not look like sfom-gateway (a pid file we trust anyway). */
  readonly force?: boolean;
  /** Injected by tests; default `process.kill`. */
  readonly kill?: (pid: number, signal: NodeJS.Signals | 0) => void;
}

/** A pid as `start` writes it: decimal, no sign; 0 and negatives would signal a process group. */
const PID = /^[1-9][0-9]{0,9}$/;

/**
 * On Linux, the process's command line, to catch a stale pid file whose pid now belongs to an
 * unrelated process (SIGHUP's default action ends a process). Null when it cannot be read.
 */
async function commandLine(pid: number): Promise<string[] | null> {
  if (process.platform !== 'linux') return null;
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((a) => a !== '');
  } catch {
    return null;
  }
}

const looksLikeGateway = (argv: readonly string[]): boolean =>
  argv.some((a) => a.includes('sfom-gateway') || path.basename(a) === 'cli.js');

/** Resolves with the exit code: 0 once the signal is sent, 1 otherwise, with the reason on `err`. */
export async function reloadCommand(opts: ReloadOptions, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const kill = opts.kill ?? ((pid: number, signal: NodeJS.Signals | 0) => { process.kill(pid, signal); });
  let raw: string;
  try {
    raw = await readFile(opts.config, 'utf8');
  } catch (e) {
    err(`error: configuration ${opts.config} ${fileReadProblem(e)}`);
    return 1;
  }
  let doc: unknown;
  try {
    doc = parseYaml(raw);
  } catch {
    err(`error: configuration ${opts.config} is not valid YAML or JSON (run: sfom-gateway check-config --config ${opts.config})`);
    return 1;
  }
  const pidSetting = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>).pidFile : undefined;
  if (pidSetting === undefined || pidSetting === null) {
    err(`error: ${opts.config} sets no pidFile, so the running gateway cannot be found; add e.g. "pidFile: /run/sfom-gateway.pid", restart, then reload`);
    return 1;
  }
  if (typeof pidSetting !== 'string' || pidSetting.trim() === '') {
    err(`error: pidFile in ${opts.config} must be a file path`);
    return 1;
  }
  // Relative paths are relative to the configuration file's folder (config/example.yaml).
  const pidFile = path.resolve(path.dirname(path.resolve(opts.config)), pidSetting);

  let pidText: string;
  try {
    pidText = await readFile(pidFile, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      err(`error: no pid file at ${pidFile}: the gateway is not running with this configuration (start writes the file, a clean stop removes it)`);
    } else {
      err(`error: pid file ${pidFile} ${fileReadProblem(e)}`);
    }
    return 1;
  }
  const pidLine = pidText.trim();
  if (!PID.test(pidLine)) {
    err(`error: pid file ${pidFile} does not hold a process id`);
    return 1;
  }
  const pid = Number(pidLine);

  try {
    kill(pid, 0);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') {
      err(`error: process ${pid} (from ${pidFile}) is not running; the pid file is stale. Start the gateway again`);
    } else if (code === 'EPERM') {
      err(`error: process ${pid} is running but this user may not signal it; run as the gateway's user`);
    } else {
      err(`error: cannot check process ${pid}: ${code ?? 'unknown error'}`);
    }
    return 1;
  }
  const argv = await commandLine(pid);
  if (!opts.force && argv !== null && !looksLikeGateway(argv)) {
    err(`error: process ${pid} (from ${pidFile}) is ${path.basename(argv[0] ?? '?')}, which does not look like sfom-gateway; the pid file may be stale. Not signalled (--force to signal it anyway)`);
    return 1;
  }

  try {
    kill(pid, 'SIGHUP');
  } catch (e) {
    err(`error: could not send SIGHUP to process ${pid}: ${(e as NodeJS.ErrnoException).code ?? 'unknown error'}`);
    return 1;
  }
  out(`sent SIGHUP to sfom-gateway (pid ${pid}, from ${pidFile}): it re-reads the configuration file it was started with.`);
  out('The gateway applies the new configuration whole or keeps the old one: check its log for event "reload" (result success or failure)');
  out('or the metric sfom_config_reloads_total{result="failure"}.');
  return 0;
}
