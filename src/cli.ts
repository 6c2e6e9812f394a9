#!/usr/bin/env node
/**
 * argv → commands. The only place that calls process.exit. Every command has --help.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { certsInspect } from './commands/certs-inspect.js';
import { checkConfig } from './commands/check-config.js';
import { importIpRanges } from './commands/ip-ranges.js';
import { reloadCommand } from './commands/reload.js';
import { send } from './commands/send.js';
import { start } from './commands/start.js';
import { splitList } from './net/ip-ranges.js';

const out = (line: string): void => { process.stdout.write(`${line}\n`); };
const err = (line: string): void => { process.stderr.write(`${line}\n`); };

interface Command {
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  readonly allowPositionals?: boolean;
  run(values: Record<string, string | boolean | string[] | undefined>, positionals: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  start: {
    usage: `sfom-gateway start [--config FILE]

Starts the gateway. Without --config: the development default on https://127.0.0.1:8443, with
certificates generated into certs/dev/ and a demo internal service that prints what it gets.
Signals: SIGHUP reloads the configuration; SIGTERM/SIGINT stop gracefully.`,
    options: { config: { type: 'string', short: 'c' } },
    run: (v) => start(v.config as string | undefined, out),
  },
  'check-config': {
    usage: `sfom-gateway check-config --config FILE

Validates the configuration and every file it names; prints the listener, routes, certificates
(subject, expiry, days left), allowlist size and organizations. Exit 0 when valid, 1 with every
problem listed (by key path) otherwise.`,
    options: { config: { type: 'string', short: 'c' } },
    run: (v) => {
      if (typeof v.config !== 'string') return usageError('check-config', '--config FILE is required');
      return checkConfig(v.config, out);
    },
  },
  send: {
    usage: `sfom-gateway send --url URL --cert FILE --key FILE [--ca FILE] [--payload FILE]

Acts as Salesforce for smoke tests: posts the payload (default: a built-in one-Contact sample)
with the client certificate, prints the HTTP status and the Ack. Exit 0 only for Ack true.`,
    options: {
      url: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' },
      ca: { type: 'string' }, payload: { type: 'string' },
    },
    run: (v) => {
      for (const k of ['url', 'cert', 'key'] as const) {
        if (typeof v[k] !== 'string') return usageError('send', `--${k} is required`);
      }
      return send({
        url: v.url as string, cert: v.cert as string, key: v.key as string,
        ca: v.ca as string | undefined, payload: v.payload as string | undefined,
      }, out);
    },
  },
  certs: {
    usage: `sfom-gateway certs inspect [--json] FILE...

Prints each certificate in each FILE (PEM, a PEM bundle, or DER; e.g. the .crt downloaded from
Salesforce Setup → API → Manage API Client Certificate): subject, issuer, SANs, serial, key type
and size, validity and days left, SHA-256 fingerprint (the form the logs use for
clientCertFingerprint) and whether it is a CA. --json prints one JSON array instead.
Exit 1 when a file cannot be read or holds no certificate.`,
    options: { json: { type: 'boolean' } },
    allowPositionals: true,
    run: (v, p) => {
      const [sub, ...files] = p;
      if (sub !== 'inspect') return usageError('certs', sub === undefined ? 'a subcommand is required' : `unknown subcommand '${sub}'`);
      if (files.length === 0) return usageError('certs', 'at least one FILE is required');
      return certsInspect({ files, json: v.json === true }, out, err);
    },
  },
  'ip-ranges': {
    usage: `sfom-gateway ip-ranges import FILE --out FILE [--region R]... [--direction D]...

Turns Salesforce's ip-ranges.json (https://ip-ranges.salesforce.com/ip-ranges.json, as
downloaded) or a plain list (one CIDR a line, # comments) into an allowlist file for
allowlist.files. --region and --direction may repeat or list values with commas; a range that
does not name its region (or direction) is left out when that filter is set, and counted.
Every entry is checked strictly: any invalid one is listed by position, nothing is written and
the exit code is 1. Nested and duplicate ranges are listed; only the covering range is kept.
The file is replaced atomically; the ranges added and removed since the last import are printed.
Apply with: sfom-gateway reload --config FILE`,
    options: {
      out: { type: 'string', short: 'o' },
      region: { type: 'string', multiple: true },
      direction: { type: 'string', multiple: true },
    },
    allowPositionals: true,
    run: (v, p) => {
      const [sub, file, ...extra] = p;
      if (sub !== 'import') return usageError('ip-ranges', sub === undefined ? 'a subcommand is required' : `unknown subcommand '${sub}'`);
      if (file === undefined) return usageError('ip-ranges', 'the input FILE is required');
      if (extra.length > 0) return usageError('ip-ranges', `unexpected argument '${extra[0] ?? ''}'`);
      if (typeof v.out !== 'string') return usageError('ip-ranges', '--out FILE is required');
      const many = (x: unknown): string[] => (Array.isArray(x) ? splitList(x as string[]) : []);
      return importIpRanges({ file, out: v.out, filter: { regions: many(v.region), directions: many(v.direction) } }, out, err);
    },
  },
  reload: {
    usage: `sfom-gateway reload --config FILE [--force]

Sends SIGHUP to the gateway whose pid is in the configuration's pidFile; the gateway re-reads
its configuration and applies it whole, or keeps the old one and logs every problem (event
"reload"). Run check-config first. Exit 1 when there is no pid file or the process is gone.
--force signals the pid even when its process does not look like sfom-gateway.`,
    options: { config: { type: 'string', short: 'c' }, force: { type: 'boolean' } },
    run: (v) => {
      if (typeof v.config !== 'string') return usageError('reload', '--config FILE is required');
      return reloadCommand({ config: v.config, force: v.force === true }, out, err);
    },
  },
};

const MAIN_USAGE = `sfom-gateway: a mutual-TLS gateway for Salesforce Outbound Messaging

Commands:
  start [--config FILE]          run the gateway (no config: development default)
  check-config --config FILE     validate a configuration and print what it sets up
  send --url URL --cert F --key F [--ca F] [--payload F]
                                 post an outbound message as Salesforce would
  certs inspect [--json] FILE... show certificates: subject, expiry, SHA-256 fingerprint
  ip-ranges import FILE --out F [--region R]... [--direction D]...
                                 write Salesforce's IP ranges as an allowlist file
  reload --config FILE           make the running gateway re-read its configuration

Run 'sfom-gateway <command> --help' for a command's options.`;

function usageError(name: string, message: string): Promise<number> {
  err(`error: ${message}\n\n${COMMANDS[name]?.usage ?? MAIN_USAGE}`);
  return Promise.resolve(2);
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(MAIN_USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    err(`error: unknown command '${name}'\n\n${MAIN_USAGE}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out(command.usage);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: command.options, allowPositionals: command.allowPositionals ?? false, strict: true });
  } catch (e) {
    return usageError(name, (e as Error).message);
  }
  return command.run(parsed.values as Record<string, string | boolean | string[] | undefined>, parsed.positionals);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    // Unexpected: print the class and message, never a stack with paths of secrets.
    err(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
