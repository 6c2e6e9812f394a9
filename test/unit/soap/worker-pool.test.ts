/** The worker thread prepares exactly what the inline path prepares, and fails closed. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isGatewayError } from '../../../src/errors.js';
import { DEFAULT_XML_LIMITS } from '../../../src/soap/parser.js';
import { prepareMessage } from '../../../src/soap/prepare.js';
import { PreparePool } from '../../../src/soap/worker-pool.js';
import { joinBody } from '../../../src/forward/upstream.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'salesforce');
const pool = new PreparePool();
afterAll(() => pool.close());

describe('PreparePool', () => {
  it.each(['soap', 'json'] as const)('returns the same %s body and summary as the inline path', async (format) => {
    const body = await readFile(path.join(FIXTURES, 'contact-100.xml'));
    const opts = { format, forwardSessionId: false, limits: DEFAULT_XML_LIMITS };
    // The inline body may be parts of the buffer the pool takes over (and detaches): it is joined first.
    const inline = prepareMessage(body, opts);
    const inlineBody = joinBody(inline.forwardBody);
    const off = await pool.prepare(body, opts);
    expect(joinBody(off.forwardBody).equals(inlineBody)).toBe(true);
    expect(off.message).toEqual(inline.message);
    expect(off.message.notifications).toHaveLength(100);
  });

  it('rejects with the same GatewayError code as the inline path', async () => {
    const body = Buffer.from('<?xml version="1.0"?><!DOCTYPE x><x/>');
    const err = await pool.prepare(body, { format: 'soap', forwardSessionId: false, limits: DEFAULT_XML_LIMITS }).catch((e: unknown) => e);
    expect(isGatewayError(err) && err.code).toBe('GW_ERR_XML_DOCTYPE');
  });

  it('refuses work once closed', async () => {
    const closed = new PreparePool();
    await closed.close();
    const err = await closed.prepare(Buffer.from('<x/>'), { format: 'soap', forwardSessionId: false, limits: DEFAULT_XML_LIMITS }).catch((e: unknown) => e);
    expect(isGatewayError(err) && err.code).toBe('GW_ERR_SHUTTING_DOWN');
  });
});
