/**
 * Logging policy, in one place (pino's redaction docs). Log lines are JSON, one per decision.
 * The pipeline never hands a secret to the logger: SessionId, private keys, PEM and raw bodies
 * are not in the objects it logs. The redact paths below are the second line of defence, for
 * any object that carries one of these names by mistake.
 */
import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';

export const REDACT_PATHS = Object.freeze([
  'sessionId', 'SessionId', '*.sessionId', '*.SessionId',
  'key', 'keyPem', '*.key', '*.keyPem', 'privateKey', '*.privateKey',
  'body', '*.body', 'rawBody', '*.rawBody',
  'headers.authorization', '*.headers.authorization', 'headers.cookie', '*.headers.cookie',
]);

/** Longest string a log field may carry; longer values are cut (a hostile value cannot flood logs). */
export const MAX_LOG_STRING = 256;

export type { Logger };

export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'sfom-gateway', pid: process.pid },
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Makes a peer-supplied value safe for a log field: bounded length. JSON encoding (pino) already
 * escapes CR, LF and every other control character, so a value can neither end a line nor forge
 * one; ANSI escape sequences arrive in the file as `\u001b`, inert in a terminal.
 */
export function logSafe(value: string | undefined | null): string | undefined {
  if (value === undefined || value === null) return undefined;
  return value.length > MAX_LOG_STRING ? `${value.slice(0, MAX_LOG_STRING)}…(${value.length} chars)` : value;
}
