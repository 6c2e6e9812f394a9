/**
 * EnterpriseUrl and PartnerUrl policy: an https URL on a configured Salesforce host, nothing
 * else (shared/SALESFORCE.md "The call" lists the shapes). The WHATWG URL parser repairs many
 * tricks silently (backslashes, tabs, percent-encoded or numeric hosts, missing slashes), and a
 * downstream consumer may parse differently, so the raw text is checked as well: printable ASCII
 * only, and an authority that the parser left unchanged.
 */
import { GatewayError } from '../errors.js';

/** Far above any real instance URL; keeps a hostile value out of logs and downstream parsers. */
const MAX_URL_LENGTH = 2_048;

/** Printable ASCII without space (RFC 3986 section 2 allows nothing else raw) and without '\'. */
const RAW_URL = /^[\x21-\x5b\x5d-\x7e]+$/;

/** Scheme and authority as written: everything up to the first '/', '?' or '#' after '//'. */
const RAW_AUTHORITY = /^https:\/\/([^/?#]*)/i;

/** A DNS name of LDH labels (RFC 1123 section 2.1), no empty label, so no trailing dot. */
const DNS_NAME = /^(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/;

/** An all-numeric last label is an IPv4 address to the WHATWG parser; refused even if unchanged. */
const IPV4_LIKE = /(?:^|\.)(?:\d+|0x[0-9a-f]*)$/;

function denied(detail: string): GatewayError {
  return new GatewayError('GW_ERR_URL_DENIED', detail);
}

/**
 * Throws GW_ERR_URL_DENIED unless `value` is `https://<host>[:443]/…` where host equals one of
 * `hostSuffixes` or ends with '.' + one of them, compared case-insensitively. An empty suffix
 * list allows nothing.
 *
 * @example checkSalesforceUrl('https://acme.my.salesforce.com/services/Soap/c/61.0/00D5g000004XyZq', ['salesforce.com'])
 */
export function checkSalesforceUrl(value: string, hostSuffixes: readonly string[]): void {
  let accepted = acceptedUrls.get(hostSuffixes);
  if (accepted?.has(value)) return;
  checkUrl(value, hostSuffixes);
  if (accepted === undefined) {
    accepted = new Set();
    acceptedUrls.set(hostSuffixes, accepted);
  } else if (accepted.size >= MAX_REMEMBERED_URLS) {
    accepted.clear();
  }
  // Copied: the value is a slice of the whole request body, which the set would otherwise keep.
  accepted.add(Buffer.from(value, 'latin1').toString('latin1'));
}

/**
 * URLs already accepted, per host list (one per configuration: a reload brings a new list, so a
 * URL is checked again against it). An organization sends the same two URLs on every message,
 * and the check parses each one: remembering the verdict saves that on nearly every request.
 * Only accepted URLs are kept, and they are printable ASCII (RAW_URL), so latin1 copies them.
 */
const acceptedUrls = new WeakMap<readonly string[], Set<string>>();
/** A few per organization and instance; cleared whole past this, so a flood of new URLs costs only checks. */
const MAX_REMEMBERED_URLS = 1_024;

function checkUrl(value: string, hostSuffixes: readonly string[]): void {
  if (value.length > MAX_URL_LENGTH) throw denied('URL too long');
  if (!RAW_URL.test(value)) throw denied('URL holds characters outside printable ASCII, a space or a backslash');
  const authority = RAW_AUTHORITY.exec(value)?.[1];
  if (authority === undefined) throw denied('URL does not start with https://');

  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw denied('URL does not parse');
  }
  if (url.protocol !== 'https:') throw denied('scheme is not https');
  if (url.username !== '' || url.password !== '') throw denied('URL holds user information');
  if (url.port !== '') throw denied('port is not 443');
  const host = url.hostname;
  const written = authority.toLowerCase();
  if (written !== host && written !== `${host}:443`) throw denied('URL parser changed the authority');
  if (!DNS_NAME.test(host) || IPV4_LIKE.test(host)) throw denied('host is not a DNS name');

  const allowed = hostSuffixes.some((suffix) => {
    const s = suffix.toLowerCase();
    return s !== '' && (host === s || host.endsWith(`.${s}`));
  });
  if (!allowed) throw denied('host is not a Salesforce host');
}
