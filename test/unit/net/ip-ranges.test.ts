/** Salesforce's ip-ranges.json in every shape seen, plain lists, filters, strict validation, diff. */
import { describe, expect, it } from 'vitest';
import {
  diffRanges, filterRanges, parseIpRanges, readAllowlistText, renderAllowlist, sortCidrs, splitList, validateRanges,
} from '../../../src/net/ip-ranges.js';
import { parseAllowlistFile } from '../../../src/config/load.js';

/** The shape published at ip-ranges.salesforce.com (trimmed), with both ip_prefix forms. */
const SAMPLE = JSON.stringify({
  syncToken: '1700000000',
  createDate: '2026-01-05-10-00-00',
  prefixes: [
    { ip_prefix: '13.108.0.0/14', region: 'us-east-1', provider: 'aws', direction: 'outbound' },
    { ip_prefix: ['85.222.128.0/19', '101.53.160.0/19'], region: 'eu-central-1', direction: 'outbound' },
    { ip_prefix: '160.8.0.0/16', region: 'us-east-1', direction: 'inbound' },
    { ip_prefix: '96.43.144.0/20', region: 'ap-south-1' },
    { ip_prefix: '182.50.76.0/22' },
  ],
  ipv6_prefixes: [
    { ipv6_prefix: '2a01:111:f400::/48', region: 'us-east-1', direction: 'outbound' },
    { ipv6_prefix: ['2620:171::/40', '2001:db8:100::/40'], region: 'eu-central-1', direction: 'outbound' },
  ],
});

describe('parseIpRanges', () => {
  it('reads prefixes with ip_prefix as a string and as an array, and ipv6_prefixes', () => {
    const parsed = parseIpRanges(SAMPLE);
    expect(parsed.format).toBe('json');
    expect(parsed.problems).toEqual([]);
    expect(parsed.createDate).toBe('2026-01-05-10-00-00');
    expect(parsed.entries.map((e) => [e.position, e.value, e.region, e.direction])).toEqual([
      ['prefixes[0].ip_prefix', '13.108.0.0/14', 'us-east-1', 'outbound'],
      ['prefixes[1].ip_prefix[0]', '85.222.128.0/19', 'eu-central-1', 'outbound'],
      ['prefixes[1].ip_prefix[1]', '101.53.160.0/19', 'eu-central-1', 'outbound'],
      ['prefixes[2].ip_prefix', '160.8.0.0/16', 'us-east-1', 'inbound'],
      ['prefixes[3].ip_prefix', '96.43.144.0/20', 'ap-south-1', null],
      ['prefixes[4].ip_prefix', '182.50.76.0/22', null, null],
      ['ipv6_prefixes[0].ipv6_prefix', '2a01:111:f400::/48', 'us-east-1', 'outbound'],
      ['ipv6_prefixes[1].ipv6_prefix[0]', '2620:171::/40', 'eu-central-1', 'outbound'],
      ['ipv6_prefixes[1].ipv6_prefix[1]', '2001:db8:100::/40', 'eu-central-1', 'outbound'],
    ]);
    expect(parsed.entries[0]?.provider).toBe('aws');
  });

  it('reads a file with only ipv6_prefixes, or only prefixes', () => {
    expect(parseIpRanges('{"ipv6_prefixes":[{"ipv6_prefix":"2620:171::/40"}]}').entries).toHaveLength(1);
    expect(parseIpRanges('{"prefixes":[]}').problems).toEqual([]);
  });

  it('reads a plain list: one CIDR a line, comments, blank lines and CRLF', () => {
    const parsed = parseIpRanges('# Salesforce\r\n13.108.0.0/14\r\n\r\n  # indented comment\n2620:171::/40\n');
    expect(parsed.format).toBe('text');
    expect(parsed.entries.map((e) => [e.position, e.value])).toEqual([['line 2', '13.108.0.0/14'], ['line 5', '2620:171::/40']]);
  });

  it('reports structural problems by position', () => {
    const parsed = parseIpRanges(JSON.stringify({
      prefixes: [{ ip_prefix: 42 }, { region: 'x' }, 'nope', { ip_prefix: ['1.2.3.0/24', null] }, { ip_prefix: [] }, { ip_prefix: '1.1.1.0/24', region: 7 }],
      ipv6_prefixes: {},
    }));
    expect(parsed.problems).toEqual([
      { position: 'prefixes[0].ip_prefix', message: 'must be a string, got 42' },
      { position: 'prefixes[1]', message: 'has no "ip_prefix"' },
      { position: 'prefixes[2]', message: 'must be an object, got "nope"' },
      { position: 'prefixes[3].ip_prefix[1]', message: 'must be a string, got null' },
      { position: 'prefixes[4].ip_prefix', message: 'is an empty array' },
      { position: 'prefixes[5].region', message: 'must be a string, got 7' },
      { position: 'ipv6_prefixes', message: 'must be an array, got {}' },
    ]);
  });

  it('reports broken JSON and a document without prefix lists', () => {
    expect(parseIpRanges('{"prefixes": [').problems[0]?.message).toMatch(/^is not valid JSON/);
    expect(parseIpRanges('{"syncToken":"1"}').problems).toEqual([{ position: '(top level)', message: 'has neither "prefixes" nor "ipv6_prefixes"' }]);
    expect(parseIpRanges('["10.0.0.0/8"]').problems[0]?.position).toBe('(top level)');
  });
});

describe('filterRanges', () => {
  const { entries } = parseIpRanges(SAMPLE);

  it('keeps everything without filters', () => {
    expect(filterRanges(entries, { regions: [], directions: [] })).toMatchObject({ excluded: 0, noRegion: 0, noDirection: 0 });
    expect(filterRanges(entries, { regions: [], directions: [] }).kept).toHaveLength(9);
  });

  it('keeps the listed regions (case-insensitive) and counts ranges without a region as left out', () => {
    const r = filterRanges(entries, { regions: ['US-EAST-1', 'eu-central-1'], directions: [] });
    expect(r.kept.map((e) => e.value)).toEqual([
      '13.108.0.0/14', '85.222.128.0/19', '101.53.160.0/19', '160.8.0.0/16', '2a01:111:f400::/48', '2620:171::/40', '2001:db8:100::/40',
    ]);
    expect(r.excluded).toBe(1); // ap-south-1
    expect(r.noRegion).toBe(1);
  });

  it('filters by direction; a range without a direction is left out and counted', () => {
    const r = filterRanges(entries, { regions: ['us-east-1', 'ap-south-1'], directions: ['outbound'] });
    expect(r.kept.map((e) => e.value)).toEqual(['13.108.0.0/14', '2a01:111:f400::/48']);
    expect(r).toMatchObject({ excluded: 5, noRegion: 1, noDirection: 1 }); // 4 in eu-central-1, 1 inbound
  });

  it('splits repeated and comma-separated values', () => {
    expect(splitList(['us-east-1,eu-central-1', ' ap-south-1 ', ''])).toEqual(['us-east-1', 'eu-central-1', 'ap-south-1']);
  });
});

describe('validateRanges', () => {
  it('names each invalid entry with its position and why', () => {
    const parsed = parseIpRanges(JSON.stringify({
      prefixes: [
        { ip_prefix: '0177.0.0.1' },
        { ip_prefix: ['10.0.0.1/33', '1.2.3.4 '] },
        { ip_prefix: '10.0.0.1/8' },
        { ip_prefix: '192.0.2.0/24' },
        { ip_prefix: '2620:171::/40' },
      ],
      ipv6_prefixes: [{ ipv6_prefix: '198.51.100.0/24' }],
    }));
    const v = validateRanges(parsed.entries);
    expect(v.invalid.map((p) => p.position)).toEqual([
      'prefixes[0].ip_prefix', 'prefixes[1].ip_prefix[0]', 'prefixes[1].ip_prefix[1]', 'prefixes[2].ip_prefix',
      'prefixes[4].ip_prefix', 'ipv6_prefixes[0].ipv6_prefix',
    ]);
    expect(v.invalid[0]?.message).toMatch(/0177\.0\.0\.1 is not a valid IPv4 address/);
    expect(v.invalid[1]?.message).toMatch(/prefix length must be at most 32/);
    expect(v.invalid[2]?.message).toBe('"1.2.3.4 " contains whitespace');
    expect(v.invalid[3]?.message).toMatch(/host bits set; did you mean 10\.0\.0\.0\/8\?/);
    expect(v.invalid[4]?.message).toBe('"2620:171::/40" is an ipv6 range in the ipv4 list');
    expect(v.invalid[5]?.message).toBe('"198.51.100.0/24" is an ipv4 range in the ipv6 list');
    expect(v.cidrs).toEqual(['192.0.2.0/24']);
  });

  it('names invalid lines of a plain list by line number', () => {
    const v = validateRanges(parseIpRanges('10.0.0.0/8\n1.2.3.4 \n010.0.0.1\n').entries);
    expect(v.invalid.map((p) => p.position)).toEqual(['line 2', 'line 3']);
  });

  it('reports nested and duplicate ranges and keeps only the covering one', () => {
    const v = validateRanges(parseIpRanges([
      '10.1.0.0/16', // inside line 3
      '192.0.2.0/24',
      '10.0.0.0/8',
      '10.1.2.0/24', // inside line 3 (and line 1)
      '192.0.2.0/24', // duplicate of line 2
      '::ffff:192.0.2.0/120', // the same range, written as IPv4-mapped
      '2001:db8::/32',
      '2001:db8:1::/48',
    ].join('\n')).entries);
    expect(v.invalid).toEqual([]);
    expect(v.cidrs).toEqual(['10.0.0.0/8', '192.0.2.0/24', '2001:db8::/32']);
    expect(v.overlaps).toEqual([
      { dropped: { cidr: '192.0.2.0/24', position: 'line 5' }, coveredBy: { cidr: '192.0.2.0/24', position: 'line 2' }, duplicate: true },
      { dropped: { cidr: '192.0.2.0/24', position: 'line 6' }, coveredBy: { cidr: '192.0.2.0/24', position: 'line 2' }, duplicate: true },
      { dropped: { cidr: '10.1.0.0/16', position: 'line 1' }, coveredBy: { cidr: '10.0.0.0/8', position: 'line 3' }, duplicate: false },
      { dropped: { cidr: '10.1.2.0/24', position: 'line 4' }, coveredBy: { cidr: '10.0.0.0/8', position: 'line 3' }, duplicate: false },
      { dropped: { cidr: '2001:db8:1::/48', position: 'line 8' }, coveredBy: { cidr: '2001:db8::/32', position: 'line 7' }, duplicate: false },
    ]);
  });

  it('sorts IPv4 before IPv6, then by address, numerically', () => {
    expect(sortCidrs(['2001:db8::/32', '10.0.0.0/8', '9.0.0.0/8', '::1/128', '100.0.0.0/8', 'fe80::/10'])).toEqual([
      '9.0.0.0/8', '10.0.0.0/8', '100.0.0.0/8', '::1/128', '2001:db8::/32', 'fe80::/10',
    ]);
  });
});

describe('diffRanges and the allowlist file', () => {
  it('lists added and removed ranges', () => {
    expect(diffRanges(['10.0.0.0/8', '192.0.2.0/24'], ['192.0.2.0/24', '198.51.100.0/24'])).toEqual({
      added: ['198.51.100.0/24'], removed: ['10.0.0.0/8'], unchanged: 1,
    });
    expect(diffRanges(['10.0.0.0/8'], ['10.0.0.0/8'])).toEqual({ added: [], removed: [], unchanged: 1 });
  });

  it('writes a header naming source, date and filters, in a form allowlist.files reads back', () => {
    const text = renderAllowlist(['10.0.0.0/8', '2001:db8::/32'], {
      source: 'downloads/ip-ranges.json',
      date: new Date('2026-03-15T12:00:00Z'),
      filter: { regions: ['us-east-1'], directions: [] },
      createDate: '2026-01-05-10-00-00',
    });
    expect(text).toBe([
      '# Salesforce IP ranges for sfom-gateway (allowlist.files).',
      '# Written by: sfom-gateway ip-ranges import. Do not edit: re-run the import instead.',
      '# Source: downloads/ip-ranges.json (createDate 2026-01-05-10-00-00)',
      '# Date: 2026-03-15T12:00:00.000Z',
      '# Filters: region=us-east-1 direction=(any)',
      '# Ranges: 2',
      '10.0.0.0/8',
      '2001:db8::/32',
      '',
    ].join('\n'));
    expect(readAllowlistText(text)).toEqual(['10.0.0.0/8', '2001:db8::/32']);
    const loaded = parseAllowlistFile(text);
    expect('entries' in loaded && loaded.entries.map((e) => e.entry)).toEqual(['10.0.0.0/8', '2001:db8::/32']);
  });

  it('keeps a file name with a newline inside its comment line', () => {
    const text = renderAllowlist(['10.0.0.0/8'], { source: 'a\n10.9.9.9/32', date: new Date(0), filter: { regions: [], directions: [] }, createDate: null });
    expect(readAllowlistText(text)).toEqual(['10.0.0.0/8']);
  });
});
