/**
 * The Salesforce sections of the schema: the organizations allowed to send (`organizations`,
 * 15- or 18-character ids, checksums verified) and the hosts their `EnterpriseUrl` and
 * `PartnerUrl` may name (`salesforceHosts`, DNS suffixes).
 */
import { ID_PREFIX, toId18 } from '../policy/ids.js';
import { DEFAULTS } from './defaults.js';
import { show, type Reader } from './schema-reader.js';

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** `organizations`, required and non-empty: organization ids as 18-character ids, deduplicated. */
export function readOrganizations(r: Reader, raw: unknown): string[] {
  if (raw === undefined) {
    r.add('organizations', 'is required');
    return [];
  }
  const list = r.list(raw, 'organizations');
  if (list === null) return [];
  if (list.length === 0) {
    r.add('organizations', 'must not be empty: list the 15- or 18-character ids of the organizations allowed to send');
    return [];
  }
  const out: string[] = [];
  list.forEach((item, i) => {
    const path = `organizations[${i}]`;
    const id = r.string(item, path);
    if (id === null) return;
    const id18 = toId18(id);
    if (id18 === null) {
      r.add(path, /^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$/.test(id)
        ? `${show(id)} has a wrong checksum (the last 3 characters of an 18-character id encode the case of the first 15)`
        : `${show(id)} is not a 15- or 18-character Salesforce id`);
    } else if (!id18.startsWith(ID_PREFIX.organization)) {
      r.add(path, `${show(id)} is not an organization id (organization ids start with ${ID_PREFIX.organization})`);
    } else {
      out.push(id18);
    }
  });
  return [...new Set(out)];
}

/** `salesforceHosts`, optional: lower-case DNS suffixes, no wildcards, deduplicated. */
export function readSalesforceHosts(r: Reader, raw: unknown): string[] {
  if (raw === undefined) return [...DEFAULTS.salesforceHosts];
  const list = r.list(raw, 'salesforceHosts');
  if (list === null) return [];
  if (list.length === 0) {
    r.add('salesforceHosts', 'must not be empty (leave the key out for the default salesforce.com, force.com)');
    return [];
  }
  const out: string[] = [];
  list.forEach((item, i) => {
    const path = `salesforceHosts[${i}]`;
    const s = r.string(item, path);
    if (s === null) return;
    const host = s.toLowerCase();
    if (host.includes('*')) {
      r.add(path, `${show(s)}: no wildcards; a host suffix such as salesforce.com already matches its subdomains`);
    } else if (host.startsWith('.')) {
      r.add(path, `${show(s)}: no leading dot; write ${host.replace(/^\.+/, '')} (a suffix already matches its subdomains)`);
    } else if (host.length === 0 || host.length > 253 || !host.includes('.') || !host.split('.').every((l) => DNS_LABEL.test(l))) {
      r.add(path, `${show(s)} is not a DNS name with at least one dot, e.g. salesforce.com`);
    } else {
      out.push(host);
    }
  });
  return [...new Set(out)];
}
