/**
 * Graceful stop: stop accepting, let in-flight requests finish within the grace period, answer
 * the rest 503 with a SOAP fault (so Salesforce retries), then close.
 */
import { describe, expect, it } from 'vitest';
import { post, tcpProbe } from '../helpers/client.js';
import { fixture, startHarness } from '../helpers/gateway.js';

describe('graceful stop', () => {
  it('finishes requests within the grace period and answers the rest 503 SHUTTING_DOWN', async () => {
    const h = await startHarness();
    const contact1 = await fixture('contact-1.xml');
    let calls = 0;
    h.upstream.behaviour = {
      kind: 'custom',
      handle: (_req, res) => {
        // the first request is answered quickly, the second never
        if (++calls === 1) setTimeout(() => res.writeHead(200, { 'Content-Type': 'text/xml' }).end(
          '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse></s:Body></s:Envelope>'), 200);
      },
    };
    const quick = post(h.port, h.salesforce, { body: contact1 });
    await new Promise((r) => setTimeout(r, 50));
    const stuck = post(h.port, h.salesforce, { body: contact1 });
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const closing = h.gateway.close(600);
    expect(h.gateway.ready).toBe(false);
    const [a, b] = await Promise.all([quick, stuck]);
    await closing;
    expect(a.status).toBe(200);
    expect(a.body).toContain('<Ack>true</Ack>');
    expect(b.status).toBe(503);
    expect(b.body).toContain('GW_ERR_SHUTTING_DOWN:');
    expect(b.body).toContain('<faultcode>soap:Server</faultcode>');
    expect(Date.now() - started).toBeLessThan(1500);
    expect(h.logs.requests().map((r) => r.reason)).toEqual(['OK', 'GW_ERR_SHUTTING_DOWN']);
    // no longer accepting
    expect((await tcpProbe(h.port)).bytes).toBe(0);
    await h.upstream.close();
    await h.pki.cleanup();
  });
});
