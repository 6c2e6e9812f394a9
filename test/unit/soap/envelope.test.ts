import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { NS_OUTBOUND, NS_SOAP11, NS_SOAP12, NS_SOBJECT, NS_XSI } from '../../../src/constants.js';
import { GatewayError, type ErrorCode } from '../../../src/errors.js';
import { readOutboundMessage } from '../../../src/soap/envelope.js';
import { DEFAULT_XML_LIMITS, parseXml } from '../../../src/soap/parser.js';
import type { OutboundMessage } from '../../../src/soap/types.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/salesforce/${name}`, import.meta.url));

const ORG = '00D5g000004XyZqEAK';
const ACTION = '04k5g000000Gm3QAAS';
const NOTE = '04l5g0000bnWgrYAAS';
const URL_C = 'https://acme-corp.my.salesforce.com/services/Soap/c/61.0/00D5g000004XyZq';
const URL_U = 'https://acme-corp.my.salesforce.com/services/Soap/u/61.0/00D5g000004XyZq';
const SOBJECT = `<sObject xsi:type="sf:Contact" xmlns:sf="${NS_SOBJECT}"><sf:Email>a@example.com</sf:Email></sObject>`;

interface Parts {
  readonly org?: string;
  readonly action?: string;
  readonly session?: string;
  readonly urls?: string;
  readonly notifications?: string;
}

const notification = (sObject = SOBJECT, id = NOTE): string => `<Notification><Id>${id}</Id>${sObject}</Notification>`;

function call(parts: Parts = {}): string {
  return `<notifications xmlns="${NS_OUTBOUND}">`
    + `<OrganizationId>${parts.org ?? ORG}</OrganizationId>`
    + `<ActionId>${parts.action ?? ACTION}</ActionId>`
    + (parts.session ?? '<SessionId xsi:nil="true"/>')
    + (parts.urls ?? `<EnterpriseUrl>${URL_C}</EnterpriseUrl><PartnerUrl>${URL_U}</PartnerUrl>`)
    + (parts.notifications ?? notification())
    + '</notifications>';
}

function envelope(body: string = call(), header = ''): string {
  return `<soapenv:Envelope xmlns:soapenv="${NS_SOAP11}" xmlns:xsi="${NS_XSI}">${header}<soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
}

const read = (xml: string | Buffer): OutboundMessage =>
  readOutboundMessage(parseXml(typeof xml === 'string' ? Buffer.from(xml) : xml, DEFAULT_XML_LIMITS));

function errorOf(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError, nothing was thrown');
}

function rejects(xml: string, code: ErrorCode): GatewayError {
  const err = errorOf(() => read(xml));
  expect(err.code).toBe(code);
  return err;
}

const withSObject = (sObject: string): string => envelope(call({ notifications: notification(sObject) }));
const withFields = (fields: string, type = 'sf:Contact'): string =>
  withSObject(`<sObject xsi:type="${type}" xmlns:sf="${NS_SOBJECT}">${fields}</sObject>`);

describe('readOutboundMessage reads Salesforce notifications', () => {
  it('reads contact-1.xml into the model', () => {
    expect(read(fixture('contact-1.xml'))).toEqual({
      organizationId: ORG,
      actionId: ACTION,
      sessionId: null,
      enterpriseUrl: URL_C,
      partnerUrl: URL_U,
      notifications: [{
        id: NOTE,
        type: 'Contact',
        fields: [
          { name: 'Id', value: '0035g0000IqDoXoAQK' },
          { name: 'AccountId', value: '0015g0000G2F3zcAQC' },
          { name: 'Email', value: 'hiroshi.obrien@example.com' },
          { name: 'FirstName', value: 'Hiroshi' },
          { name: 'LastModifiedDate', value: '2024-05-15T16:52:06.000Z' },
          { name: 'LastName', value: "O'Brien" },
          { name: 'MailingCity', value: 'Tokyo' },
          { name: 'MailingCountry', value: 'Japan' },
          { name: 'Name', value: "Hiroshi O'Brien" },
          { name: 'OwnerId', value: '0055g0000gyT4TNAA0' },
          { name: 'Phone', value: '+1 (415) 555-4198' },
          { name: 'Title', value: 'Account Manager' },
        ],
      }],
    });
  });

  it('reads a SessionId when Salesforce sends one', () => {
    const msg = read(fixture('opportunity-1.xml'));
    expect(msg.sessionId).toMatch(/^00D5g000004XyZq!AQ0AQ/);
    expect(msg.notifications[0]?.type).toBe('Opportunity');
    expect(msg.notifications[0]?.fields.find((f) => f.name === 'Name')?.value).toBe('Wayne Enterprises – Service Expansion');
  });

  it('reads 10 and 100 notifications', () => {
    expect(read(fixture('contact-10.xml')).notifications).toHaveLength(10);
    const msg = read(fixture('contact-100.xml'));
    expect(msg.notifications).toHaveLength(100);
    expect(msg.notifications.some((n) => n.fields.some((f) => f.value === 'R&D Engineer'))).toBe(true);
  });

  it('converts 15-character ids to 18 characters', () => {
    const msg = read(envelope(call({ org: '00D5g000004XyZq', action: '04k5g000000Gm3Q', notifications: notification(SOBJECT, '04l5g0000bnWgrY') })));
    expect([msg.organizationId, msg.actionId, msg.notifications[0]?.id]).toEqual([ORG, ACTION, NOTE]);
  });

  it('accepts any prefixes, since only namespaces count', () => {
    const xml = `<S:Envelope xmlns:S="${NS_SOAP11}" xmlns:i="${NS_XSI}"><S:Header/><S:Body>`
      + `<o:notifications xmlns:o="${NS_OUTBOUND}"><o:OrganizationId>${ORG}</o:OrganizationId><o:ActionId>${ACTION}</o:ActionId>`
      + `<o:SessionId i:nil="1"/><o:EnterpriseUrl>${URL_C}</o:EnterpriseUrl><o:PartnerUrl>${URL_U}</o:PartnerUrl>`
      + `<o:Notification><o:Id>${NOTE}</o:Id><o:sObject i:type="ns1:Contact" xmlns:ns1="${NS_SOBJECT}">`
      + `<ns1:Email>a@example.com</ns1:Email><Phone xmlns="${NS_SOBJECT}">1</Phone></o:sObject></o:Notification>`
      + '</o:notifications></S:Body></S:Envelope>';
    const msg = read(xml);
    expect(msg.sessionId).toBeNull();
    expect(msg.notifications[0]).toEqual({ id: NOTE, type: 'Contact', fields: [{ name: 'Email', value: 'a@example.com' }, { name: 'Phone', value: '1' }] });
  });

  it('resolves an unprefixed xsi:type with the default namespace in scope', () => {
    const sObject = `<o:sObject xmlns:o="${NS_OUTBOUND}" xmlns="${NS_SOBJECT}" xsi:type="Contact"><Email>a@example.com</Email></o:sObject>`;
    expect(read(withSObject(sObject)).notifications[0]?.type).toBe('Contact');
  });

  it('reads custom objects and custom fields', () => {
    const msg = read(withFields('<sf:Amount__c>10.50</sf:Amount__c><sf:ns__Field_2__c>x</sf:ns__Field_2__c>', 'sf:Invoice__c'));
    expect(msg.notifications[0]).toEqual({ id: NOTE, type: 'Invoice__c', fields: [{ name: 'Amount__c', value: '10.50' }, { name: 'ns__Field_2__c', value: 'x' }] });
  });

  it('reads xsi:nil="true" and xsi:nil="1" fields as null, and empty fields as empty strings', () => {
    const msg = read(withFields('<sf:A xsi:nil="true"/><sf:B xsi:nil="1"></sf:B><sf:E/><sf:F></sf:F>'));
    expect(msg.notifications[0]?.fields).toEqual([
      { name: 'A', value: null }, { name: 'B', value: null }, { name: 'E', value: '' }, { name: 'F', value: '' },
    ]);
  });

  it('keeps field values exactly as sent: whitespace, leading zeros, CDATA and references', () => {
    const msg = read(withFields('<sf:A>  007 \n</sf:A><sf:B><![CDATA[<b>&amp;</b>]]></sf:B><sf:C>R&amp;D &#x1F600;&#13;</sf:C><sf:D>true</sf:D>'));
    expect(msg.notifications[0]?.fields.map((f) => f.value)).toEqual(['  007 \n', '<b>&amp;</b>', 'R&D \u{1F600}\r', 'true']);
  });

  it('reads an empty sObject as a record deleted before delivery, with or without a type', () => {
    expect(read(withSObject(`<sObject xmlns:sf="${NS_SOBJECT}"/>`)).notifications[0]).toEqual({ id: NOTE, type: null, fields: [] });
    expect(read(withSObject(`<sObject xsi:type="sf:Contact" xmlns:sf="${NS_SOBJECT}">\n</sObject>`)).notifications[0]).toEqual({ id: NOTE, type: 'Contact', fields: [] });
  });

  it('accepts an empty Header and whitespace between elements', () => {
    const msg = read(envelope(`\n ${call()}\n`, '<soapenv:Header>\n</soapenv:Header>\n'));
    expect(msg.organizationId).toBe(ORG);
  });

  it('accepts a field named constructor or prototype as an ordinary field', () => {
    const msg = read(withFields('<sf:constructor>1</sf:constructor><sf:prototype>2</sf:prototype>'));
    expect(msg.notifications[0]?.fields).toEqual([{ name: 'constructor', value: '1' }, { name: 'prototype', value: '2' }]);
  });
});

describe('readOutboundMessage refuses the wrong SOAP version or shape', () => {
  it('refuses a SOAP 1.2 envelope with GW_ERR_SOAP_VERSION', () => {
    rejects(`<env:Envelope xmlns:env="${NS_SOAP12}" xmlns:xsi="${NS_XSI}"><env:Body>${call()}</env:Body></env:Envelope>`, 'GW_ERR_SOAP_VERSION');
  });

  it('refuses a root that is not a SOAP 1.1 Envelope', () => {
    rejects(call().replace('<notifications ', `<notifications xmlns:xsi="${NS_XSI}" `), 'GW_ERR_SOAP_INVALID');
    rejects(envelope().replaceAll(NS_SOAP11, 'urn:not-soap'), 'GW_ERR_SOAP_INVALID');
    rejects(`<soapenv:Body xmlns:soapenv="${NS_SOAP11}" xmlns:xsi="${NS_XSI}">${call()}</soapenv:Body>`, 'GW_ERR_SOAP_INVALID');
  });

  it('refuses two Bodies, a missing Body, a Header after the Body and extra elements', () => {
    rejects(`<soapenv:Envelope xmlns:soapenv="${NS_SOAP11}" xmlns:xsi="${NS_XSI}"><soapenv:Body>${call()}</soapenv:Body><soapenv:Body>${call()}</soapenv:Body></soapenv:Envelope>`, 'GW_ERR_SOAP_INVALID');
    rejects(`<soapenv:Envelope xmlns:soapenv="${NS_SOAP11}"><soapenv:Header/></soapenv:Envelope>`, 'GW_ERR_SOAP_INVALID');
    rejects(`<soapenv:Envelope xmlns:soapenv="${NS_SOAP11}" xmlns:xsi="${NS_XSI}"><soapenv:Body>${call()}</soapenv:Body><soapenv:Header/></soapenv:Envelope>`, 'GW_ERR_SOAP_INVALID');
    rejects(`<soapenv:Envelope xmlns:soapenv="${NS_SOAP11}" xmlns:xsi="${NS_XSI}"><soapenv:Body>${call()}</soapenv:Body><x/></soapenv:Envelope>`, 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call(), '<soapenv:Header/><soapenv:Header/>'), 'GW_ERR_SOAP_INVALID');
  });

  it('refuses header blocks, which cannot be understood', () => {
    rejects(envelope(call(), `<soapenv:Header><h:Auth xmlns:h="urn:h" soapenv:mustUnderstand="1"/></soapenv:Header>`), 'GW_ERR_SOAP_INVALID');
  });

  it('refuses a Body with anything but one notifications element', () => {
    rejects(envelope(''), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call() + call()), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(`text${call()}`), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(`<notificationsResponse xmlns="${NS_OUTBOUND}"/>`), 'GW_ERR_SOAP_INVALID');
  });

  it('refuses the right local names in the wrong namespace', () => {
    rejects(envelope(call().replace(NS_OUTBOUND, 'http://soap.sforce.com/2005/09/outbound/')), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call({ org: '' }).replace('<OrganizationId></OrganizationId>', `<OrganizationId xmlns="urn:x">${ORG}</OrganizationId>`)), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<Email xmlns="urn:sobject.partner.soap.sforce.com">a</Email>'), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<sf:Email>a</sf:Email>', 'sf:Contact').replace(`xmlns:sf="${NS_SOBJECT}"`, 'xmlns:sf="urn:sobject.partner.soap.sforce.com"'), 'GW_ERR_SOAP_INVALID');
  });

  it('refuses duplicated, missing or reordered header fields', () => {
    rejects(envelope(call({ action: `${ACTION}</ActionId><ActionId>${ACTION}` })), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call({ org: `${ORG}</OrganizationId><OrganizationId>${ORG}` })), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call({ session: '' })), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call({ urls: `<PartnerUrl>${URL_U}</PartnerUrl><EnterpriseUrl>${URL_C}</EnterpriseUrl>` })), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call({ notifications: `${notification()}<OrganizationId>${ORG}</OrganizationId>` })), 'GW_ERR_SOAP_INVALID');
  });

  it('refuses child elements inside simple values', () => {
    rejects(envelope(call({ urls: `<EnterpriseUrl><b>${URL_C}</b></EnterpriseUrl><PartnerUrl>${URL_U}</PartnerUrl>` })), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call({ session: '<SessionId><x/></SessionId>' })), 'GW_ERR_SOAP_INVALID');
  });

  it('refuses xsi:nil values other than exactly true or 1, and nil elements with content', () => {
    rejects(envelope(call({ session: '<SessionId xsi:nil="yes"/>' })), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call({ session: '<SessionId xsi:nil="false">abc</SessionId>' })), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<sf:A xsi:nil="0">a</sf:A>'), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<sf:A xsi:nil="true" xsi:nil2="true"/>'), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call({ session: '<SessionId xsi:nil=" true"/>' })), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call({ session: '<SessionId xsi:nil="true">abc</SessionId>' })), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<sf:A xsi:nil="TRUE"/>'), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<sf:A xsi:nil="true">x</sf:A>'), 'GW_ERR_SOAP_INVALID');
  });

  it('refuses attributes other than namespace declarations, xsi:type on sObject and xsi:nil on values', () => {
    rejects(envelope(call()).replace('<soapenv:Body>', '<soapenv:Body soapenv:encodingStyle="urn:x">'), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call().replace('<notifications ', '<notifications id="1" ')), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call({ org: ORG }).replace('<OrganizationId>', '<OrganizationId xsi:nil="false">')), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call({ notifications: notification(SOBJECT).replace('<Notification>', '<Notification xsi:type="x">') })), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<sf:A xsi:type="xsd:string">a</sf:A>'), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<sf:A foo="1">a</sf:A>'), 'GW_ERR_SOAP_INVALID');
    rejects(withSObject(`<sObject xsi:type="sf:Contact" xsi:nil="true" xmlns:sf="${NS_SOBJECT}"/>`), 'GW_ERR_SOAP_INVALID');
  });

  it('refuses non-whitespace text in element-only content', () => {
    rejects(envelope(call().replace('<ActionId>', 'x<ActionId>')), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call({ notifications: notification(SOBJECT).replace('<Id>', '<![CDATA[x]]><Id>') })), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<sf:A>a</sf:A>&#160;'), 'GW_ERR_SOAP_INVALID');
  });

  it('refuses an xi:include element, which is just an unexpected element', () => {
    const include = '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>';
    rejects(envelope(call({ notifications: notification() + include })), 'GW_ERR_SOAP_INVALID');
    rejects(withFields(include), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call(), `<soapenv:Header>${include}</soapenv:Header>`), 'GW_ERR_SOAP_INVALID');
  });

  it('refuses __proto__ elements anywhere', () => {
    rejects(withFields('<sf:__proto__>1</sf:__proto__>'), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call({ notifications: `${notification()}<__proto__/>` })), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call({ notifications: notification(`${SOBJECT}<constructor/>`) })), 'GW_ERR_SOAP_INVALID');
  });
});

describe('readOutboundMessage checks notifications', () => {
  it('refuses 0 notifications with GW_ERR_NOTIFICATION_COUNT', () => {
    rejects(envelope(call({ notifications: '' })), 'GW_ERR_NOTIFICATION_COUNT');
  });

  it('accepts 100 notifications and refuses 101 with GW_ERR_NOTIFICATION_COUNT', () => {
    expect(read(envelope(call({ notifications: notification().repeat(100) }))).notifications).toHaveLength(100);
    rejects(envelope(call({ notifications: notification().repeat(101) })), 'GW_ERR_NOTIFICATION_COUNT');
  });

  it('refuses a Notification without exactly Id then sObject', () => {
    rejects(envelope(call({ notifications: `<Notification><Id>${NOTE}</Id></Notification>` })), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call({ notifications: `<Notification>${SOBJECT}<Id>${NOTE}</Id></Notification>` })), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call({ notifications: `<Notification><Id>${NOTE}</Id>${SOBJECT}${SOBJECT}</Notification>` })), 'GW_ERR_SOAP_INVALID');
    rejects(envelope(call({ notifications: `<Notifications><Id>${NOTE}</Id>${SOBJECT}</Notifications>` })), 'GW_ERR_SOAP_INVALID');
  });

  it('refuses malformed ids with GW_ERR_ID_INVALID', () => {
    rejects(envelope(call({ org: '00D5g000004XyZqAAA' })), 'GW_ERR_ID_INVALID');
    rejects(envelope(call({ org: ACTION })), 'GW_ERR_ID_INVALID');
    rejects(envelope(call({ org: ` ${ORG}` })), 'GW_ERR_ID_INVALID');
    rejects(envelope(call({ org: '' })), 'GW_ERR_ID_INVALID');
    rejects(envelope(call({ action: ORG })), 'GW_ERR_ID_INVALID');
    rejects(envelope(call({ notifications: notification(SOBJECT, '04l5g0000bnWgrYAAA') })), 'GW_ERR_ID_INVALID');
    rejects(envelope(call({ notifications: notification(SOBJECT, '0035g0000IqDoXoAQK') })), 'GW_ERR_ID_INVALID');
  });

  it('refuses an xsi:type that does not resolve to an sObject type', () => {
    rejects(withFields('<sf:A>a</sf:A>', 'x:Contact'), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<sf:A>a</sf:A>', 'xsi:Contact'), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<sf:A>a</sf:A>', 'Contact'), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<sf:A>a</sf:A>', 'sf:1Contact'), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<sf:A>a</sf:A>', 'sf:Con-tact'), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<sf:A>a</sf:A>', 'sf:a:b'), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<sf:A>a</sf:A>', ''), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<sf:A>a</sf:A>', `sf:${'A'.repeat(81)}`), 'GW_ERR_SOAP_INVALID');
    rejects(withSObject(`<sObject xmlns:sf="${NS_SOBJECT}"><sf:A>a</sf:A></sObject>`), 'GW_ERR_SOAP_INVALID');
  });

  it('refuses fields that are not simple, unique sObject fields', () => {
    rejects(withFields('<sf:A>a</sf:A><sf:A>b</sf:A>'), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<sf:Account><sf:Name>a</sf:Name></sf:Account>'), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<sf:_A>a</sf:_A>'), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<sf:A-B>a</sf:A-B>'), 'GW_ERR_SOAP_INVALID');
    rejects(withFields(`<sf:${'A'.repeat(81)}>a</sf:${'A'.repeat(81)}>`), 'GW_ERR_SOAP_INVALID');
    rejects(withFields('<Email>a</Email>'), 'GW_ERR_SOAP_INVALID');
  });
});

describe('readOutboundMessage keeps secrets out of rejection details', () => {
  // The SessionId is a live credential and field values are customer data: a detail is logged,
  // so it may name element paths only.
  it('never puts the SessionId or a field value in a detail', () => {
    const session = '<SessionId>SECRET-SESSION</SessionId>';
    const bad = [
      envelope(call({ session, notifications: notification(`<sObject xsi:type="sf:C" xmlns:sf="${NS_SOBJECT}"><sf:A>SECRET-VALUE</sf:A><sf:A>SECRET-VALUE</sf:A></sObject>`) })),
      envelope(call({ session, notifications: notification(`<sObject xsi:type="sf:C" xmlns:sf="${NS_SOBJECT}"><sf:A>SECRET-VALUE<sf:B/></sf:A></sObject>`) })),
      envelope(call({ session: '<SessionId xsi:nil="true">SECRET-SESSION</SessionId>' })),
      envelope(call({ session: '<SessionId>SECRET-SESSION<b/></SessionId>' })),
      envelope(call({ session, org: 'SECRET-VALUE' })),
      envelope(call({ session, notifications: notification(`<sObject xsi:type="SECRET-VALUE" xmlns:sf="${NS_SOBJECT}"/>`) })),
      envelope(call({ session, notifications: '' })),
    ];
    for (const xml of bad) {
      const err = errorOf(() => read(xml));
      expect(err.detail ?? '').not.toContain('SECRET');
      expect(err.message).not.toContain('SECRET');
    }
  });
});
