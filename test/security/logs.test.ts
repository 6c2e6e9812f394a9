/**
 * Log injection and log flooding.
 *
 * The attacks: values that try to end a log line and write a forged one after it (CR, LF, a
 * JSON fragment with "level":"fatal"), ANSI and C1 escape sequences that repaint an operator's
 * terminal, and very long values meant to flood the log or hide the real cause, sent wherever a
 * peer controls text: field values, element and attribute names (which rejection details
 * quote), header values, the request target.
 *
 * The defence: the log is JSON lines written by pino, which escapes control characters in every
 * string; field values, headers and bodies are never logged at all (observability/
 * log-subscriber.ts logs a fixed set of fields); the one free-text field, `detail`, holds element
 * paths and names only and is cut to MAX_LOG_STRING characters (observability/logger.ts). Names
 * themselves cannot hold control characters: the XML parser refuses them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LOG_STRING } from '../../src/observability/logger.js';
import { connectTls, exchangeRaw } from '../helpers/client.js';
import { fixture, type Harness } from '../helpers/gateway.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { DEFAULT_FIELDS, envelope, notification } from './envelopes.js';
import { expectAccepted, expectRejected, parseAnswers, parsedLines, SECRET_SESSION, useValidMessage, viaPost, viaRaw, startGateway } from './expect-rejected.js';

let pki: Pki;
let h: Harness;
beforeAll(async () => {
  pki = await makePki();
  useValidMessage(await fixture('contact-1.xml'));
  h = await startGateway(undefined, { pki });
});
afterAll(async () => {
  await h.close();
  await pki.cleanup();
});

const FORGED = '{"level":"fatal","msg":"forged","event":"request","reason":"OK"}';
const FORGED_MARK = 'forged';
/** The levels the gateway writes (formatters.level gives labels). */
const LEVELS = new Set(['debug', 'info', 'warn', 'error']);
/** The longest string a peer can make appear: MAX_LOG_STRING plus the "…(N chars)" suffix. */
const MAX_FIELD = MAX_LOG_STRING + 24;

const withFields = (fields: string): string => envelope({ notifications: [notification(`${DEFAULT_FIELDS}${fields}`)] });

describe('values that try to forge or break a line', () => {
  it('forwards CR, LF, a forged JSON line and C1 controls in field values as data, and logs none of them', async () => {
    const value = `x&#13;&#10;${FORGED.replace(/"/g, '&quot;')}&#10;\u009b31mred\u009b0m`;
    const forwarded = await expectAccepted(h, withFields(`<sf:Description>${value}</sf:Description>`));
    expect(forwarded).toContain('forged');
    expect(h.logs.text()).not.toContain(FORGED_MARK);
  });

  it('refuses an ANSI escape in a field value (not an XML character) without echoing it', async () => {
    await expectRejected(h, viaPost(h, { body: withFields('<sf:Description>\u001b[2J\u001b[31mforged</sf:Description>') }),
      { status: 400, code: 'GW_ERR_XML_MALFORMED' }, { maxMs: 1500, secrets: [FORGED_MARK, SECRET_SESSION] });
    await expectRejected(h, viaPost(h, { body: withFields('<sf:Description>&#27;[2J</sf:Description>') }),
      { status: 400, code: 'GW_ERR_XML_MALFORMED' }, { maxMs: 1500, secrets: ['[2J'] });
  });

  it('refuses control characters in header values, and logs no header', async () => {
    for (const value of ['\u001b[2Jforged', `a\r\n${FORGED}`, 'a\nb']) {
      const request = `POST /outbound/contact HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nX-Evil: ${value}\r\nContent-Length: 0\r\n\r\n`;
      await expectRejected(h, viaRaw(h, request), { status: 400, code: 'GW_ERR_BAD_REQUEST' }, { maxMs: 1500, secrets: [FORGED_MARK] });
    }
  });

  it('accepts long, JSON-like header values and a hostile SOAPAction, and logs none of them', async () => {
    await expectAccepted(h, envelope(), {
      headers: { SOAPAction: `"${FORGED.replace(/"/g, "'")}"`, 'X-Long': 'v'.repeat(8000), 'User-Agent': `${FORGED_MARK} ${'u'.repeat(4000)}` },
    });
    expect(h.logs.text()).not.toContain(FORGED_MARK);
    expect(h.logs.text()).not.toContain('v'.repeat(300));
  });

  it('does not echo a hostile request target', async () => {
    const target = `/outbound/%0d%0a${encodeURIComponent(FORGED)}%1b%5b2J${'p'.repeat(3000)}`;
    const request = `POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 0\r\n\r\n`;
    await expectRejected(h, viaRaw(h, request), { status: 404, code: 'GW_ERR_NOT_FOUND' }, { maxMs: 1500, secrets: [FORGED_MARK, 'ppppp'] });
  });
});

describe('names that rejection details quote', () => {
  it.each([
    ['a long unexpected field name', withFields(`<sf:F${'n'.repeat(240)}_${'\u00e9'.repeat(5)}>1</sf:F${'n'.repeat(240)}_${'\u00e9'.repeat(5)}>`)],
    ['a long element where a header field belongs', envelope({ headerFields: `<X${'y'.repeat(255)}/>` })],
    ['a long unexpected attribute', envelope({ notifications: [notification(DEFAULT_FIELDS, { sObjectAttributes: `xsi:type="sf:Contact" xmlns:sf="urn:sobject.enterprise.soap.sforce.com" z${'a'.repeat(255)}="1"` })] })],
  ])('cuts %s in the log detail', async (_name, body) => {
    const { records } = await expectRejected(h, viaPost(h, { body }), { status: 400, code: 'GW_ERR_SOAP_INVALID' }, { maxMs: 1500 });
    const detail = records.find((r) => r.event === 'request' && r.reason === 'GW_ERR_SOAP_INVALID')?.detail;
    expect(typeof detail).toBe('string');
    expect((detail as string).length).toBeLessThanOrEqual(MAX_FIELD);
  });
});

describe('the whole log of this suite', () => {
  it('is one JSON object per line, with no forged level, no forged line and no long value', async () => {
    // and one more exchange on a raw socket, so the last answer is in
    const socket = await connectTls(h.port, h.salesforce);
    const body = envelope();
    const [answer] = parseAnswers(await exchangeRaw(socket, `POST /outbound/contact HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, 300));
    socket.destroy();
    expect(answer?.status).toBe(200);

    const lines = h.logs.lines;
    expect(lines.length).toBeGreaterThan(20);
    const records = parsedLines(lines);
    for (const [i, record] of records.entries()) {
      const line = lines[i] as string;
      expect(LEVELS.has(record.level as string), `level ${String(record.level)}`).toBe(true);
      expect(record.service).toBe('sfom-gateway');
      expect(record.msg).not.toBe(FORGED_MARK);
      expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      for (const [key, value] of Object.entries(record)) {
        if (typeof value === 'string') expect(value.length, `${key} of line ${i}`).toBeLessThanOrEqual(MAX_FIELD);
      }
    }
    expect(h.logs.text()).not.toContain(FORGED_MARK);
    expect(h.logs.text()).not.toContain(SECRET_SESSION);
  });
});
