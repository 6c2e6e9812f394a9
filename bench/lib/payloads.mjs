/**
 * Bench payloads: the Salesforce-shaped fixtures with 1, 10 and 100 notifications (read as data
 * files, nothing is imported from test/), and two maximum-size messages built from the
 * 100-notification fixture, so they keep its valid ids and organization:
 *   - `max-text`: each notification gets one long text field (about 49,000 characters);
 *   - `max-fields`: each notification gets ~480 short custom fields, close to the parser's
 *     50,000-element limit, with a few character references to decode.
 * Both stay under limits.maxBodyBytes (5 MiB = 5,242,880 bytes) and every XML limit, so the
 * gateway acknowledges them: they measure the accepted worst case, not a rejection.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'salesforce');
/** The organization of the fixtures (must be in the gateway's `organizations`). */
export const FIXTURE_ORG = '00D5g000004XyZqEAK';
/** Target size of the maximum-size messages (bytes): near, and under, maxBodyBytes. */
export const MAX_MESSAGE_BYTES = 5_000_000;
/** The parser's element cap (src/soap/parser.ts DEFAULT_XML_LIMITS.maxElements). */
const MAX_ELEMENTS = 50_000;

export function fixture(name) {
  return readFileSync(join(FIXTURES, name));
}

/** `{ 1: Buffer, 10: Buffer, 100: Buffer }` */
export function notificationPayloads() {
  return { 1: fixture('contact-1.xml'), 10: fixture('contact-10.xml'), 100: fixture('contact-100.xml') };
}

function inject(template, perNotification) {
  let i = 0;
  return template.replace(/\n(\s*)<\/sObject>/g, (_m, indent) => `\n${perNotification(i++, `${indent} `)}${indent}</sObject>`);
}

/** The `max-text` message: one ~49 kB Description per notification. */
export function maxTextMessage(targetBytes = MAX_MESSAGE_BYTES) {
  const base = fixture('contact-100.xml').toString('utf8');
  const count = (base.match(/<\/sObject>/g) ?? []).length;
  const overhead = '     <sf:Description></sf:Description>\n'.length;
  const textLength = Math.floor((targetBytes - Buffer.byteLength(base)) / count) - overhead;
  const words = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit &amp; sed do eiusmod tempor. ';
  const text = words.repeat(Math.ceil(textLength / words.length)).slice(0, textLength).replace(/&[a-z]*$/, '');
  return Buffer.from(inject(base, (_i, indent) => `${indent}<sf:Description>${text}</sf:Description>\n`));
}

/** The `max-fields` message: as many short fields as the element limit allows, filling the size. */
export function maxFieldsMessage(targetBytes = MAX_MESSAGE_BYTES) {
  const base = fixture('contact-100.xml').toString('utf8');
  const count = (base.match(/<\/sObject>/g) ?? []).length;
  const baseElements = (base.match(/<[A-Za-z]/g) ?? []).length;
  // Leave 1% of the element limit unused.
  const fieldsPer = Math.floor((MAX_ELEMENTS * 0.99 - baseElements) / count);
  const perNotificationBytes = Math.floor((targetBytes - Buffer.byteLength(base)) / count);
  const tagBytes = '      <sf:Custom_000__c></sf:Custom_000__c>\n'.length;
  const valueLength = Math.max(8, Math.floor(perNotificationBytes / fieldsPer) - tagBytes);
  const value = (n) => {
    const s = `value ${n} &lt;${'x'.repeat(valueLength)}`;
    return s.slice(0, valueLength).replace(/&[a-z]*$/, '');
  };
  return Buffer.from(inject(base, (i, indent) => {
    let out = '';
    for (let f = 0; f < fieldsPer; f++) {
      const name = `Custom_${String(f).padStart(3, '0')}__c`;
      out += `${indent}<sf:${name}>${value(i * fieldsPer + f)}</sf:${name}>\n`;
    }
    return out;
  }));
}

/** The SOAP Ack the internal service answers (and every positive answer relayed to the client). */
export const SOAP_ACK = Buffer.from(
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">' +
  '<soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack>' +
  '</notificationsResponse></soapenv:Body></soapenv:Envelope>');
