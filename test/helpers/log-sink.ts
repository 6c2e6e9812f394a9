/** A pino destination that keeps every line, parsed, for assertions (pino's own test habit). */
import { Writable } from 'node:stream';

export interface LogSink {
  readonly stream: Writable & { write(chunk: string): boolean };
  readonly lines: string[];
  readonly records: () => Array<Record<string, unknown>>;
  /** Records whose `event` is 'request'. */
  readonly requests: () => Array<Record<string, unknown>>;
  readonly text: () => string;
}

export function logSink(): LogSink {
  const lines: string[] = [];
  let pending = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      pending += chunk.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) !== -1) {
        lines.push(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
      cb();
    },
  });
  const records = (): Array<Record<string, unknown>> => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    stream: stream as LogSink['stream'],
    lines,
    records,
    requests: () => records().filter((r) => r.event === 'request'),
    text: () => lines.join('\n'),
  };
}
