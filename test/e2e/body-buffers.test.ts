/**
 * Bodies from 16 KiB up to the worker's threshold are read into reused buffers
 * (http/body-buffers.ts). The risk is one message's bytes showing through in another's: a
 * shorter body in a buffer that held a longer one, a buffer given back while its message is
 * still being forwarded, a refused body's buffer handed on. Every message here carries its own
 * token; each forwarded body must carry its own and no other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTls, exchangeRaw, post } from '../helpers/client.js';
import { fixture, startHarness, WITHOUT_LOOP_GUARD, type Harness } from '../helpers/gateway.js';
import { parseAnswers } from '../security/expect-rejected.js';

let h: Harness;
let contact1: string;
let contact10: string;
beforeAll(async () => {
  [contact1, contact10] = await Promise.all([fixture('contact-1.xml'), fixture('contact-10.xml')]);
  // 20 bodies of up to 250 kB at once from the gateway's own thread (see WITHOUT_LOOP_GUARD).
  h = await startHarness(undefined, undefined, WITHOUT_LOOP_GUARD);
});
afterAll(() => h.close());

const TOKEN = /tok(\d{5})/g;

/** A valid message of about `bytes` whose Title fields are padded with its own token. */
function tokened(n: number, bytes: number): string {
  const base = bytes < 20_000 ? contact1 : contact10;
  const titles = base === contact1 ? 1 : 10;
  const token = `tok${String(n).padStart(5, '0')} `;
  const repeats = Math.max(1, Math.ceil((bytes - base.length) / titles / token.length));
  return base.replace(/<sf:Title>([^<]*)<\/sf:Title>/g, (_m, t: string) => `<sf:Title>${t} ${token.repeat(repeats)}</sf:Title>`);
}

/** Sends the messages at once; checks each was acknowledged and forwarded with its own token only. */
async function sendAll(messages: ReadonlyMap<number, string>): Promise<void> {
  const before = h.upstream.received.length;
  const answers = await Promise.all([...messages.values()].map((body) => post(h.port, h.salesforce, { body })));
  for (const a of answers) {
    expect(a.status, a.body.slice(0, 200)).toBe(200);
    expect(a.body).toContain('<Ack>true</Ack>');
  }
  const forwarded = h.upstream.received.slice(before).map((r) => r.body);
  expect(forwarded).toHaveLength(messages.size);
  const seen = new Set<number>();
  for (const body of forwarded) {
    const tokens = new Set([...body.matchAll(TOKEN)].map((m) => Number(m[1])));
    expect(tokens.size, `tokens in one forwarded body: ${[...tokens].join(', ')}`).toBe(1);
    const [n] = tokens as Set<number> & Iterable<number>;
    const sent = messages.get(n!)!;
    // all of its own token, and the message whole: as many tokens as were sent
    expect(body.match(TOKEN)!.length).toBe(sent.match(TOKEN)!.length);
    expect(body).toContain('</soapenv:Envelope>');
    seen.add(n!);
  }
  expect(seen.size).toBe(messages.size);
}

describe('reused body buffers', () => {
  it('a shorter body in a buffer that held a longer one carries none of the longer one\'s bytes', async () => {
    await sendAll(new Map([[1, tokened(1, 60_000)]]));
    await sendAll(new Map([[2, tokened(2, 34_000)]]));
    await sendAll(new Map([[3, tokened(3, 17_000)]]));
  });

  it('many bodies of every size at once, over and over: each forwarded with its own bytes only', async () => {
    const sizes = [17_000, 30_000, 33_000, 50_000, 64_000, 70_000, 100_000, 130_000, 200_000, 250_000];
    let n = 100;
    for (let round = 0; round < 4; round++) {
      const messages = new Map<number, string>();
      for (const size of sizes) for (let k = 0; k < 2; k++) messages.set(n, tokened(n++, size - round * 500 - k * 3000));
      await sendAll(messages);
    }
    expect(h.logs.requests().slice(-80).every((r) => r.reason === 'OK')).toBe(true);
  });

  it('a body cut short is refused, and its buffer carries none of it into the next message', async () => {
    const whole = Buffer.from(tokened(900, 60_000));
    const socket = await connectTls(h.port, h.salesforce);
    const head = `POST /outbound/contact HTTP/1.1\r\nHost: gw\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: ${whole.length}\r\n\r\n`;
    const answer = exchangeRaw(socket, Buffer.concat([Buffer.from(head), whole.subarray(0, 40_000)]), 1500);
    socket.end();
    const [first] = parseAnswers(await answer);
    socket.destroy();
    expect(first).toMatchObject({ kind: 'answer', status: 400 });
    expect(h.logs.requests().at(-1)?.reason).toBe('GW_ERR_BODY_INCOMPLETE');
    await sendAll(new Map([[901, tokened(901, 45_000)]]));
  });
});
