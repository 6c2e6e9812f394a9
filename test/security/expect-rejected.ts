/**
 * One pattern for every hostile-input case (security, faults, load): send the attack, then
 * check, in this order,
 *   1. the exact answer: HTTP status and the fault's `GW_ERR_…` code, or a connection closed
 *      before TLS / a failed handshake (no HTTP answer at all);
 *   2. how long the answer took, against an upper bound;
 *   3. that nothing reached the internal service (`upstream.received` unchanged);
 *   4. that the reason was logged, read back from the sink: the `request` line's `reason`, or a
 *      `connection_refused` / `tls_failure` line; and that every line written meanwhile is JSON
 *      and holds no secret (no SessionId value, no PEM, no raw body marker);
 *   5. that a valid message is accepted right after (200, Ack true, forwarded).
 */
import net from 'node:net';
import type tls from 'node:tls';
import { expect } from 'vitest';
import type { ErrorCode } from '../../src/errors.js';
import type { ConnectionRefusalReason } from '../../src/observability/events.js';
import { connectTls, exchangeRaw, post, tcpProbe, type ClientIdentity, type PostOptions } from '../helpers/client.js';
import { fixture, startHarness, type ConfigOverride, type Harness } from '../helpers/gateway.js';
import { makePki, type Pki } from '../helpers/pki.js';

/**
 * Overload limits for suites that test something else. A loaded test machine (two cores, two
 * suites at once) can stall the event loop past the guard's 500 ms, and the guard would then shed
 * the next valid message, as it should; the guard has its own suite (test/load/overload.test.ts).
 */
export const RELAXED_OVERLOAD = Object.freeze({ maxEventLoopDelayMs: 10_000, maxHeapFraction: 0.95, maxBufferedBytes: 512 * 1024 * 1024 });

/** startHarness with RELAXED_OVERLOAD. */
export function startGateway(override?: ConfigOverride, shared?: { pki?: Pki }): Promise<Harness> {
  return startHarness(override, shared, { overload: RELAXED_OVERLOAD });
}

/** A SessionId value: a live credential that must never be forwarded (without opt-in) or logged. */
export const SECRET_SESSION = '00D5g000004XyZq!AQ4AQHostileTestSessionValueNeverLogMe';

/** What the attacker saw. */
export type Outcome =
  | { readonly kind: 'answer'; readonly status: number; readonly body: string; readonly headers: Readonly<Record<string, string>>; readonly raw: string }
  | { readonly kind: 'closed'; readonly detail: string };

/** What the gateway must do. */
export type Expected =
  | { readonly status: number; readonly code: ErrorCode }
  | { readonly refused: ConnectionRefusalReason }
  | { readonly tlsFailure: string | RegExp }
  /** No HTTP answer (closed); the log line is a request line with this code (e.g. a CONNECT). */
  | { readonly closedWith: ErrorCode };

export interface CheckOptions {
  /** Upper bound on the time from sending to the answer (or the close), in ms. */
  readonly maxMs: number;
  /** Strings that must not appear in any log line written during the attempt (raw body markers). */
  readonly secrets?: readonly string[];
  /** Options of the follow-up valid message (e.g. `localAddress`), or false to skip it. */
  readonly followUp?: PostOptions | false;
  /** The internal service does receive this one (faults): skip check 3. */
  readonly reachesUpstream?: boolean;
}

export interface Checked {
  readonly outcome: Outcome;
  readonly elapsedMs: number;
  /** Log records written during the attempt. */
  readonly records: ReadonlyArray<Record<string, unknown>>;
}

let validBody = '';
/** Sets the message used for the follow-up check (a Salesforce fixture). */
export function useValidMessage(body: string): void {
  validBody = body;
}
/**
 * The set-up every attack suite starts with: certificates made for it, and Salesforce's
 * 1-notification sample as the message for the follow-up check.
 */
export async function attackSuite(): Promise<{ pki: Pki; body: string }> {
  const pki = await makePki();
  const body = await fixture('contact-1.xml');
  useValidMessage(body);
  return { pki, body };
}

export function validMessage(): string {
  if (validBody === '') throw new Error('expect-rejected: call useValidMessage() in beforeAll');
  return validBody;
}

/** The `GW_ERR_…` code of a SOAP fault's faultstring. */
export function faultCode(body: string): string | undefined {
  return /<faultstring>(GW_ERR_[A-Z_]+):/.exec(body)?.[1];
}

/** Splits raw HTTP/1.1 answers (Content-Length framed, as the gateway writes them). */
export function parseAnswers(raw: string): Array<Extract<Outcome, { kind: 'answer' }>> {
  const answers: Array<Extract<Outcome, { kind: 'answer' }>> = [];
  let rest = raw;
  while (rest.startsWith('HTTP/1.')) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd === -1) break;
    const [statusLine = '', ...lines] = rest.slice(0, headEnd).split('\r\n');
    const status = Number(statusLine.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const bodyStart = headEnd + 4;
    // Content-Length counts bytes; the answers are ASCII.
    const body = rest.slice(bodyStart, bodyStart + length);
    answers.push({ kind: 'answer', status, body, headers, raw: rest.slice(0, bodyStart + length) });
    rest = rest.slice(bodyStart + length);
  }
  return answers;
}

// ---- attempts -------------------------------------------------------------------------------

/** A request through node:https; a failed connection or handshake is `closed`. */
export function viaPost(h: Harness, opts: PostOptions = {}, identity: ClientIdentity = h.salesforce): () => Promise<Outcome> {
  return async () => {
    try {
      const a = await post(h.port, identity, opts);
      const headers = Object.fromEntries(Object.entries(a.headers).map(([k, v]) => [k, String(v)]));
      return { kind: 'answer', status: a.status, body: a.body, headers, raw: a.body };
    } catch (err) {
      return { kind: 'closed', detail: (err as Error).message };
    }
  };
}

/** Raw bytes over an mTLS connection (what node:https would refuse to send). */
export function viaRaw(h: Harness, bytes: string | Buffer, opts: { idleMs?: number; identity?: ClientIdentity; tls?: tls.ConnectionOptions } = {}): () => Promise<Outcome> {
  return async () => {
    let socket: tls.TLSSocket;
    try {
      socket = await connectTls(h.port, opts.identity ?? h.salesforce, opts.tls ?? {});
    } catch (err) {
      return { kind: 'closed', detail: (err as Error).message };
    }
    try {
      const raw = await exchangeRaw(socket, bytes, opts.idleMs ?? 500);
      const [first] = parseAnswers(raw);
      return first ?? { kind: 'closed', detail: raw === '' ? 'no bytes' : `unparsable answer ${JSON.stringify(raw.slice(0, 80))}` };
    } finally {
      socket.destroy();
    }
  };
}

/** A plain TCP connection (optionally from another local address): closed without a byte, or not. */
export function viaTcp(h: Harness, localAddress?: string): () => Promise<Outcome> {
  return async () => {
    const probe = await tcpProbe(h.port, localAddress);
    if (probe.closed && probe.bytes === 0) return { kind: 'closed', detail: 'closed before TLS' };
    return { kind: 'answer', status: 0, body: '', headers: {}, raw: `${probe.bytes} bytes, closed=${probe.closed}` };
  };
}

/** Resolves when `socket` closes, with the time it took from now. */
export function closedAfter(socket: net.Socket): Promise<number> {
  const started = performance.now();
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(0);
    socket.once('close', () => resolve(performance.now() - started));
  });
}

// ---- checks ---------------------------------------------------------------------------------

const PEM = /-----BEGIN [A-Z ]+-----|PRIVATE KEY/;

function matches(value: unknown, want: string | RegExp): boolean {
  return typeof value === 'string' && (typeof want === 'string' ? value === want : want.test(value));
}

function logged(records: ReadonlyArray<Record<string, unknown>>, expected: Expected): boolean {
  if ('code' in expected) return records.some((r) => r.event === 'request' && r.reason === expected.code && r.status === expected.status);
  if ('closedWith' in expected) return records.some((r) => r.event === 'request' && r.reason === expected.closedWith);
  if ('refused' in expected) return records.some((r) => r.event === 'connection_refused' && r.reason === expected.refused);
  return records.some((r) => r.event === 'tls_failure' && matches(r.reason, expected.tlsFailure));
}

/** Every line parses as JSON (a line that does not is a broken or forged line). */
export function parsedLines(lines: readonly string[]): Array<Record<string, unknown>> {
  return lines.map((line) => {
    let record: unknown;
    expect(() => { record = JSON.parse(line); }, `log line is not JSON: ${line.slice(0, 200)}`).not.toThrow();
    return record as Record<string, unknown>;
  });
}

/** Checks that no line holds a secret: the SessionId value, PEM, or one of `extra`. */
export function expectNoSecrets(lines: readonly string[], extra: readonly string[] = []): void {
  for (const line of lines) {
    expect(line).not.toContain(SECRET_SESSION);
    expect(line).not.toMatch(PEM);
    for (const secret of extra) expect(line, 'a raw body marker reached the log').not.toContain(secret);
  }
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/** A valid message right after: 200, Ack true, forwarded once. */
export async function expectValidAccepted(h: Harness, opts: PostOptions = {}): Promise<void> {
  const before = h.upstream.received.length;
  const answer = await post(h.port, h.salesforce, { body: validMessage(), ...opts });
  expect(answer.status, `valid message after the attack: ${answer.body.slice(0, 300)}`).toBe(200);
  expect(answer.body).toContain('<Ack>true</Ack>');
  expect(h.upstream.received.length).toBe(before + 1);
}

/**
 * Runs `attempt` and checks the five points above.
 *
 * @example await expectRejected(h, viaPost(h, { body: doctype }), { status: 400, code: 'GW_ERR_XML_DOCTYPE' }, { maxMs: 1000 });
 */
export async function expectRejected(h: Harness, attempt: () => Promise<Outcome>, expected: Expected, opts: CheckOptions): Promise<Checked> {
  const received = h.upstream.received.length;
  const firstLine = h.logs.lines.length;
  const started = performance.now();
  const outcome = await attempt();
  const elapsedMs = performance.now() - started;

  // 1. the answer
  if ('code' in expected) {
    expect(outcome.kind, `expected an HTTP ${expected.status}, got ${JSON.stringify(outcome).slice(0, 300)}`).toBe('answer');
    if (outcome.kind === 'answer') {
      expect(outcome.status, outcome.body.slice(0, 300)).toBe(expected.status);
      expect(faultCode(outcome.body)).toBe(expected.code);
      expect(outcome.body).toContain(expected.status >= 500 ? '<faultcode>soap:Server</faultcode>' : '<faultcode>soap:Client</faultcode>');
      expect(outcome.body).not.toContain('<Ack>true</Ack>');
    }
  } else {
    expect(outcome.kind, `expected no HTTP answer, got ${JSON.stringify(outcome).slice(0, 300)}`).toBe('closed');
  }
  // 2. how long
  expect(elapsedMs, 'answer time (ms)').toBeLessThan(opts.maxMs);
  // 3. nothing forwarded
  if (!opts.reachesUpstream) expect(h.upstream.received.length, 'the internal service received something').toBe(received);
  // 4. the reason is logged, without secrets
  await waitFor(() => logged(parsedLines(h.logs.lines.slice(firstLine)), expected), 2000);
  const lines = h.logs.lines.slice(firstLine);
  const records = parsedLines(lines);
  expect(logged(records, expected), `no log line for ${JSON.stringify(expected)} in:\n${lines.join('\n').slice(0, 2000)}`).toBe(true);
  if ('tlsFailure' in expected || 'refused' in expected) {
    // A connection that never got to HTTP is not a request: no request line, no request metric.
    expect(records.filter((r) => r.event === 'request'), 'a request line for a connection that never got to HTTP').toEqual([]);
  }
  expectNoSecrets(lines, opts.secrets);
  // 5. still serving
  if (opts.followUp !== false) await expectValidAccepted(h, opts.followUp ?? {});
  return { outcome, elapsedMs, records };
}

/**
 * A message the gateway must accept: 200 with Ack true, forwarded exactly once. Returns the
 * forwarded request's body.
 */
export async function expectAccepted(h: Harness, body: string | Buffer, opts: PostOptions & { maxMs?: number } = {}): Promise<string> {
  const before = h.upstream.received.length;
  const started = performance.now();
  const answer = await post(h.port, h.salesforce, { body, ...opts });
  expect(answer.status, answer.body.slice(0, 300)).toBe(200);
  expect(answer.body).toContain('<Ack>true</Ack>');
  expect(performance.now() - started).toBeLessThan(opts.maxMs ?? 5000);
  expect(h.upstream.received.length).toBe(before + 1);
  const log = h.logs.requests().at(-1);
  expect(log).toMatchObject({ reason: 'OK', outcome: 'acked' });
  return h.upstream.received.at(-1)!.body;
}
