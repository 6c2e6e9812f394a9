import { describe, it, expect } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { checkSalesforceUrl } from '../../../src/policy/urls.js';

const HOSTS = ['salesforce.com', 'force.com'] as const;

function deniedCode(value: string, hosts: readonly string[] = HOSTS): string | undefined {
  try {
    checkSalesforceUrl(value, hosts);
    return undefined;
  } catch (err) {
    if (err instanceof GatewayError) return err.code;
    throw err;
  }
}

describe('checkSalesforceUrl allows Salesforce instance URLs', () => {
  const allowed = [
    'https://acme-corp.my.salesforce.com/services/Soap/c/61.0/00D5g000004XyZq',
    'https://acme-corp.my.salesforce.com/services/Soap/u/61.0/00D5g000004XyZq',
    'https://na1.salesforce.com/services/Soap/c/20.0/00D000000000001',
    'https://cs2-api.salesforce.com/services/Soap/u/20.0',
    'https://salesforce.com/',
    'https://ACME.My.SalesForce.COM/services/Soap/c/61.0',
    'https://acme.my.salesforce.com:443/services/Soap/c/61.0',
    'https://acme--sandbox.sandbox.my.salesforce.com/services/Soap/c/61.0',
    'https://acme.lightning.force.com/x?y=1#z',
    'HTTPS://acme.my.salesforce.com/',
  ];
  for (const url of allowed) {
    it(`allows ${url}`, () => {
      expect(() => checkSalesforceUrl(url, HOSTS)).not.toThrow();
    });
  }

  it('compares configured suffixes case-insensitively', () => {
    expect(() => checkSalesforceUrl('https://acme.my.salesforce.com/', ['SalesForce.COM'])).not.toThrow();
  });
});

describe('checkSalesforceUrl denies everything else', () => {
  // Attack: an EnterpriseUrl or PartnerUrl that an internal service would call back, pointing it
  // at an attacker's host (SSRF) through suffix confusion, user information, percent-encoding or
  // the WHATWG parser's repairs. Defence: the raw text must be printable ASCII, the parser must
  // not have changed the authority, and the host must end at a label boundary of a suffix.
  const denied: readonly (readonly [string, string])[] = [
    ['not a URL', 'not a url'],
    ['an empty string', ''],
    ['http', 'http://acme.my.salesforce.com/'],
    ['another scheme', 'ftp://acme.my.salesforce.com/'],
    ['javascript:', 'javascript:alert(1)//salesforce.com'],
    ['a suffix followed by another domain', 'https://salesforce.com.evil.example/'],
    ['a suffix without a label boundary', 'https://evilsalesforce.com/'],
    ['another host', 'https://evil.example/salesforce.com'],
    ['user information hiding the real host', 'https://x.salesforce.com@evil.example/'],
    ['user information before a Salesforce host', 'https://evil.example@acme.my.salesforce.com/'],
    ['a user and password', 'https://user:pass@acme.my.salesforce.com/'],
    ['an empty user information', 'https://@acme.my.salesforce.com/'],
    ['port 8443', 'https://acme.my.salesforce.com:8443/'],
    ['port 80', 'https://acme.my.salesforce.com:80/'],
    ['a padded port 443', 'https://acme.my.salesforce.com:0443/'],
    ['an empty port', 'https://acme.my.salesforce.com:/'],
    ['an IPv4 literal', 'https://13.110.0.1/'],
    ['an IPv4 literal in hexadecimal', 'https://0x7f.0.0.1/'],
    ['an integer IPv4 literal', 'https://2130706433/'],
    ['an IPv6 literal', 'https://[::1]/'],
    ['an IPv4 literal under a suffix configured as an address', 'https://10.0.0.1/'],
    ['a percent-encoded dot in the host', 'https://evil%2esalesforce.com/'],
    ['a percent-encoded host', 'https://%61cme.my.salesforce.com/'],
    ['a percent-encoded suffix confusion', 'https://evil.example%2f.salesforce.com/'],
    ['a trailing dot', 'https://acme.my.salesforce.com./'],
    ['a backslash', 'https://evil.example\\.salesforce.com/'],
    ['a backslash instead of slashes', 'https:\\\\acme.my.salesforce.com/'],
    ['missing slashes', 'https:acme.my.salesforce.com/'],
    ['one slash', 'https:/acme.my.salesforce.com/'],
    ['three slashes', 'https:///acme.my.salesforce.com/'],
    ['a leading space', ' https://acme.my.salesforce.com/'],
    ['a trailing newline', 'https://acme.my.salesforce.com/\n'],
    ['a tab in the host', 'https://acme.my.sales\tforce.com/'],
    ['a NUL', 'https://acme.my.salesforce.com\u0000.evil.example/'],
    ['a space in the path', 'https://acme.my.salesforce.com/a b'],
    ['a non-ASCII host', 'https://acme.my.salesforce.cοm/'],
    ['a full-width dot', 'https://evil\uff0esalesforce.com/'],
    ['an internationalised lookalike in punycode', 'https://xn--slesforce-51a.com/'],
    ['an underscore in the host', 'https://a_b.salesforce.com/'],
    ['an empty label', 'https://acme..salesforce.com/'],
    ['a very long URL', `https://acme.my.salesforce.com/${'a'.repeat(3_000)}`],
  ];
  for (const [name, url] of denied) {
    it(`denies ${name}`, () => {
      expect(deniedCode(url)).toBe('GW_ERR_URL_DENIED');
    });
  }

  it('denies every URL when no suffix is configured, and ignores an empty suffix', () => {
    expect(deniedCode('https://acme.my.salesforce.com/', [])).toBe('GW_ERR_URL_DENIED');
    expect(deniedCode('https://evil.example/', [''])).toBe('GW_ERR_URL_DENIED');
  });

  it('denies an IP literal even when the configured suffix matches it', () => {
    expect(deniedCode('https://10.0.0.1/', ['0.0.1'])).toBe('GW_ERR_URL_DENIED');
  });
});

describe('checkSalesforceUrl remembers accepted URLs per host list only', () => {
  it('checks a remembered URL again against a new host list (a reload)', () => {
    const url = 'https://remembered.my.salesforce.com/services/Soap/c/61.0';
    const before = ['salesforce.com'];
    expect(deniedCode(url, before)).toBeUndefined();
    expect(deniedCode(url, before)).toBeUndefined();
    expect(deniedCode(url, ['force.com'])).toBe('GW_ERR_URL_DENIED');
  });

  it('never remembers a refusal: a denied URL is denied every time', () => {
    const hosts = ['salesforce.com'];
    const url = 'https://evil.example.com/services/Soap/c/61.0';
    for (let i = 0; i < 3; i++) expect(deniedCode(url, hosts)).toBe('GW_ERR_URL_DENIED');
    expect(deniedCode('https://ok.salesforce.com/', hosts)).toBeUndefined();
    expect(deniedCode(url, hosts)).toBe('GW_ERR_URL_DENIED');
  });

  it('keeps deciding correctly past the size of its memory', () => {
    const hosts = ['salesforce.com'];
    for (let i = 0; i < 2_100; i++) expect(deniedCode(`https://org${i}.my.salesforce.com/`, hosts)).toBeUndefined();
    expect(deniedCode('https://org5.my.salesforce.com/', hosts)).toBeUndefined();
    expect(deniedCode('https://org5.my.salesforce.com.evil.example/', hosts)).toBe('GW_ERR_URL_DENIED');
  });
});
