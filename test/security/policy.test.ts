/**
 * Messages that are well-formed but not ours to deliver.
 *
 * The attacks: another Salesforce customer sending from the shared IP ranges with its own
 * organization id; ids in the other length or case, or with a forged checksum suffix, to slip
 * past a string comparison; ActionIds and sObject types a route does not take; and
 * EnterpriseUrl/PartnerUrl values that point a backend which calls back with the SessionId at
 * another host: plain http, other ports, IP literals, look-alike hosts, user info, percent-encoded
 * dots and at-signs, a trailing dot, backslashes and other forms a URL parser repairs silently.
 *
 * The defence: ids are validated and compared in their 18-character form with the checksum
 * recomputed (policy/ids.ts); organizations, ActionIds and types are looked up in sets compiled
 * from the configuration (policy/message.ts); URLs must be https on 443 at a configured
 * Salesforce host, checked on the raw text and on the parsed URL, which must agree
 * (policy/urls.ts). Refusals are 403 (policy) or 400 (a malformed id or URL), logged, and nothing
 * is forwarded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.js';
import { fixture, FIXTURE_ORG, type Harness } from '../helpers/gateway.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { ACTION_ID, BODY_MARKER, DEFAULT_FIELDS, envelope, notification, notificationId, NS } from './envelopes.js';
import { expectAccepted, expectRejected, SECRET_SESSION, useValidMessage, viaPost, startGateway } from './expect-rejected.js';

let pki: Pki;
let h: Harness;
beforeAll(async () => {
  pki = await makePki();
  useValidMessage(await fixture('contact-1.xml'));
  h = await startGateway((raw, { upstream }) => {
    (raw.routes as Array<Record<string, unknown>>).push(
      // the ActionId in its 15-character form: compared as 18
      { path: '/only-action', target: upstream.url('/a'), format: 'soap', actionIds: [ACTION_ID.slice(0, 15)] },
      { path: '/only-opportunity', target: upstream.url('/o'), format: 'soap', objectTypes: ['Opportunity'] },
      { path: '/only-contact', target: upstream.url('/c'), format: 'soap', objectTypes: ['Contact'] },
    );
  }, { pki });
});
afterAll(async () => {
  await h.close();
  await pki.cleanup();
});

const SECRETS = [BODY_MARKER, SECRET_SESSION];

async function rejects(body: string, status: number, code: ErrorCode, path = '/outbound/contact'): Promise<void> {
  await expectRejected(h, viaPost(h, { body, path }), { status, code }, { maxMs: 1500, secrets: SECRETS });
}

describe('organizations and ids', () => {
  it('refuses an organization that is not configured (another tenant of the shared ranges)', async () => {
    await rejects(envelope({ organizationId: '00D000000000002EAA' }), 403, 'GW_ERR_ORG_DENIED');
  });

  it('accepts a configured organization in its 15-character form, and with a lower-case suffix', async () => {
    await expectAccepted(h, envelope({ organizationId: FIXTURE_ORG.slice(0, 15) }));
    await expectAccepted(h, envelope({ organizationId: FIXTURE_ORG.slice(0, 15) + FIXTURE_ORG.slice(15).toLowerCase() }));
  });

  it('refuses a 15-character id that differs from a configured one only in case: another organization', async () => {
    // 00D5g000004XyZq and 00D5g000004xyzq are two ids; the 18-character forms differ.
    await rejects(envelope({ organizationId: '00D5g000004xyzq' }), 403, 'GW_ERR_ORG_DENIED');
  });

  it.each([
    ['a wrong checksum suffix', `${FIXTURE_ORG.slice(0, 15)}AAA`],
    ['the 18-character form of another id with this suffix', `00D5g000004xyzq${FIXTURE_ORG.slice(15)}`],
    ['16 characters', `${FIXTURE_ORG.slice(0, 15)}E`],
    ['17 characters', `${FIXTURE_ORG.slice(0, 15)}EA`],
    ['a wrong key prefix (an account id)', '0015g0000G2F3zcAQC'],
    ['a lower-case key prefix', `00d${FIXTURE_ORG.slice(3)}`],
    ['characters outside [0-9A-Za-z]', '00D5g000004XyZ-EAK'],
    ['surrounding whitespace', ` ${FIXTURE_ORG} `],
    ['an empty value', ''],
  ])('refuses an OrganizationId with %s', async (_name, id) => {
    await rejects(envelope({ organizationId: id }), 400, 'GW_ERR_ID_INVALID');
  });

  it('refuses a bad checksum in the ActionId and in a notification Id', async () => {
    await rejects(envelope({ actionId: `${ACTION_ID.slice(0, 15)}ZZZ` }), 400, 'GW_ERR_ID_INVALID');
    await rejects(envelope({ notifications: [notification(DEFAULT_FIELDS, { id: `${notificationId(1).slice(0, 15)}ZZZ` })] }), 400, 'GW_ERR_ID_INVALID');
  });
});

describe('routes that restrict ActionIds and object types', () => {
  it("refuses an ActionId the route does not take, and accepts its own in either length", async () => {
    await rejects(envelope({ actionId: '04k000000000001AAA' }), 403, 'GW_ERR_ACTION_DENIED', '/only-action');
    await expectAccepted(h, envelope(), { path: '/only-action' });
    await expectAccepted(h, envelope({ actionId: ACTION_ID.slice(0, 15) }), { path: '/only-action' });
  });

  it('refuses an object type the route does not take', async () => {
    await rejects(envelope(), 403, 'GW_ERR_OBJECT_TYPE_DENIED', '/only-opportunity');
  });

  it('refuses a message mixing an allowed and a refused type: every notification is checked', async () => {
    const opportunity = notification('<sf:Name>Deal</sf:Name>', { sObjectAttributes: `xsi:type="sf:Opportunity" xmlns:sf="${NS.sobject}"` }, 2);
    await rejects(envelope({ notifications: [notification(), opportunity] }), 403, 'GW_ERR_OBJECT_TYPE_DENIED', '/only-contact');
  });

  it('refuses an untyped (deleted-record) sObject where types are restricted', async () => {
    const untyped = notification('', { sObjectAttributes: `xmlns:sf="${NS.sobject}"` });
    await rejects(envelope({ notifications: [untyped] }), 403, 'GW_ERR_OBJECT_TYPE_DENIED', '/only-contact');
  });

  it('refuses a type named in another namespace, whatever its local name', async () => {
    const foreign = notification(DEFAULT_FIELDS, { sObjectAttributes: `xsi:type="p:Contact" xmlns:p="urn:sobject.partner.soap.sforce.com" xmlns:sf="${NS.sobject}"` });
    await rejects(envelope({ notifications: [foreign] }), 400, 'GW_ERR_SOAP_INVALID', '/only-contact');
  });
});

describe('EnterpriseUrl and PartnerUrl', () => {
  const escape = (url: string): string => url.replace(/&/g, '&amp;').replace(/</g, '&lt;');

  it.each([
    ['http', 'http://acme.my.salesforce.com/services/Soap/c/61.0/x'],
    ['another port', 'https://acme.my.salesforce.com:8443/services/Soap/c/61.0/x'],
    ['port 0443', 'https://acme.my.salesforce.com:0443/services/Soap/c/61.0/x'],
    ['an IPv4 literal', 'https://203.0.113.7/services/Soap/c/61.0/x'],
    ['a decimal IPv4 host', 'https://2130706433/services'],
    ['a hex IPv4 host', 'https://0x7f000001/services'],
    ['an IPv6 literal', 'https://[::1]/services'],
    ['a look-alike suffix', 'https://acme.salesforce.com.evil.example/services'],
    ['a look-alike prefix', 'https://evilsalesforce.com/services'],
    ['another top-level domain', 'https://acme.my.salesforce.co/services'],
    ['user info before a Salesforce host', 'https://x.salesforce.com@evil.example/services'],
    ['credentials', 'https://user:pass@acme.my.salesforce.com/services'],
    ['%40 (an encoded at-sign)', 'https://evil.example%40acme.my.salesforce.com/services'],
    ['%2e (an encoded dot)', 'https://acme%2emy.salesforce.com/services'],
    ['an encoded trailing dot', 'https://acme.my.salesforce.com%2e/services'],
    ['a trailing dot', 'https://acme.my.salesforce.com./services'],
    ['a backslash before an at-sign', 'https://evil.example\\@acme.my.salesforce.com/services'],
    ['backslashes for slashes', 'https:\\\\acme.my.salesforce.com\\services'],
    ['one slash', 'https:/acme.my.salesforce.com/services'],
    ['no scheme', '//acme.my.salesforce.com/services'],
    ['another scheme', 'javascript:alert(1)//acme.my.salesforce.com'],
    ['a tab in the host (&#9;)', 'https://acme.my.sales&#9;force.com/services'],
    ['a space', 'https://acme.my.salesforce.com /services'],
    ['a Cyrillic look-alike letter', 'https://acme.my.\u0455alesforce.com/services'],
    ['punycode that is not a Salesforce host', 'https://xn--slesforce-63a.com/services'],
    ['an empty value', ''],
    ['a very long value', `https://acme.my.salesforce.com/${'a'.repeat(5000)}`],
  ])('refuses an EnterpriseUrl with %s', async (_name, url) => {
    await rejects(envelope({ enterpriseUrl: escape(url) }), 400, 'GW_ERR_URL_DENIED');
  });

  it('checks PartnerUrl the same way', async () => {
    await rejects(envelope({ partnerUrl: 'https://x.salesforce.com@evil.example/services/Soap/u/61.0/x' }), 400, 'GW_ERR_URL_DENIED');
    await rejects(envelope({ partnerUrl: 'http://acme.my.salesforce.com/services/Soap/u/61.0/x' }), 400, 'GW_ERR_URL_DENIED');
  });

  it('accepts an explicit :443, upper-case hosts and force.com hosts', async () => {
    await expectAccepted(h, envelope({
      enterpriseUrl: 'https://ACME.My.Salesforce.com:443/services/Soap/c/61.0/x',
      partnerUrl: 'https://acme.my.site.force.com/services/Soap/u/61.0/x',
    }));
  });

  it('refuses a policy failure before forwarding even on a valid-looking message', async () => {
    const answerCount = h.upstream.received.length;
    await rejects(envelope({ organizationId: '00D000000000002EAA', enterpriseUrl: 'https://evil.example/' }), 403, 'GW_ERR_ORG_DENIED');
    expect(h.upstream.received.length).toBe(answerCount + 1); // the follow-up only
  });
});
