#!/usr/bin/env node
/**
 * argv → commands. The only place that calls process.exit. Every command has --help.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { checkConfig } from './commands/check-config.js';
import { send } from './commands/send.js';
import { start } from './commands/start.js';

const out = (line: string): void => { process.stdout.write(`${line}\n`); };
const err = (line: string): void => { process.stderr.write(`${line}\n`); };

interface Command {
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  readonly allowPositionals?: boolean;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
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
};

const MAIN_USAGE = `sfom-gateway: a mutual-TLS gateway for Salesforce Outbound Messaging

Commands:
  start [--config FILE]          run the gateway (no config: development default)
  check-config --config FILE     validate a configuration and print what it sets up
  send --url URL --cert F --key F [--ca F] [--payload F]
                                 post an outbound message as Salesforce would

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
  return command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    // Unexpected: print the class and message, never a stack with paths of secrets.
    err(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
