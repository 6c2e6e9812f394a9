/**
 * Configuration loading: every rule of the contract, each asserted on its key path and message,
 * with real certificates from the test PKI. Paths in the base config are relative to the PKI
 * dir, which is the base dir, so relative resolution is exercised everywhere.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, loadConfigFromObject, type LoadOptions } from '../../../src/config/load.js';
import { DEFAULTS } from '../../../src/config/defaults.js';
import type { GatewayConfig } from '../../../src/config/types.js';
import { ConfigError, type ConfigProblem } from '../../../src/errors.js';
import { isCurrentlyValid } from '../../../src/tls/cert-store.js';
import { makePki, type Pki } from '../../helpers/pki.js';

const DAY = 86_400_000;
let pki: Pki;
beforeAll(async () => {
  pki = await makePki();
});
afterAll(() => pki.cleanup());

type Raw = Record<string, any>;

/** A valid configuration; file names are relative to pki.dir. */
function base(): Raw {
  return {
    listen: { host: '127.0.0.1', port: 8443 },
    tls: { cert: 'server.crt', key: 'server.key', clientCa: 'ca.crt', clientCertificates: ['client.crt'] },
    allowlist: { cidrs: ['127.0.0.1/32'] },
    organizations: ['00D000000000001EAA'],
    upstream: { allowedPorts: [8080] },
    routes: [{ path: '/outbound/contact', target: 'http://127.0.0.1:8080/contact' }],
  };
}

function load(raw: unknown, opts?: LoadOptions): Promise<GatewayConfig> {
  return loadConfigFromObject(raw, pki.dir, 'test', opts);
}

async function problemsOf(raw: unknown, opts?: LoadOptions): Promise<ConfigProblem[]> {
  try {
    await load(raw, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

/** Problems of `base()` changed by `edit`. */
async function problemsWith(edit: (raw: Raw) => void, opts?: LoadOptions): Promise<ConfigProblem[]> {
  const raw = base();
  edit(raw);
  return problemsOf(raw, opts);
}

async function fileProblems(file: string): Promise<ConfigProblem[]> {
  try {
    await loadConfig(file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('a valid configuration', () => {
  it('loads with every default applied', async () => {
    const cfg = await load(base());
    expect(cfg.source).toBe('test');
    expect(cfg.listen).toEqual({ host: '127.0.0.1', port: 8443 });
    expect(cfg.tls.minVersion).toBe('TLSv1.2');
    expect(cfg.tls.expiryWarningDays).toBe(30);
    expect(cfg.tls.clientSubjects).toEqual([]);
    expect(cfg.salesforceHosts).toEqual(['salesforce.com', 'force.com']);
    expect(cfg.limits).toEqual(DEFAULTS.limits);
    expect(cfg.pidFile).toBeNull();
    expect(cfg.admin).toBeNull();
    expect(cfg.workers).toBe(1);
    expect(cfg.log).toEqual({ level: 'info' });
    const [route] = cfg.routes;
    expect(route?.target.href).toBe('http://127.0.0.1:8080/contact');
    expect(route?.format).toBe('soap');
    expect(route?.timeoutMs).toBe(20_000);
    expect(route?.actionIds.size).toBe(0);
    expect(route?.objectTypes.size).toBe(0);
    expect(route?.forwardSessionId).toBe(false);
    expect(cfg.upstream.allowedPorts).toEqual(new Set([8080]));
  });

  it('reads the certificate material', async () => {
    const cfg = await load(base());
    expect(cfg.tls.serverChain.map((c) => c.fingerprint256)).toEqual([pki.server.x509.fingerprint256]);
    expect(cfg.tls.serverChain[0]?.name).toBe('server.crt');
    expect(cfg.tls.certPem).toBe(pki.server.certPem);
    expect(cfg.tls.keyPem).toContain('-----BEGIN PRIVATE KEY-----');
    expect(cfg.tls.clientCaPem).toBe(pki.ca.certPem);
    expect(cfg.tls.clientCas.map((c) => c.fingerprint256)).toEqual([pki.ca.x509.fingerprint256]);
    expect(cfg.tls.clientPins.map((c) => c.fingerprint256)).toEqual([pki.client.x509.fingerprint256]);
  });

  it('stores organizations and action ids as 18-character ids, CIDRs normalised', async () => {
    const cfg = await load({
      ...base(),
      organizations: ['00D000000000001', '00D5g000004XyZqEAK', '00D000000000001EAA', '00D000000000001eaa'],
      allowlist: { cidrs: ['10.0.0.0/8', '::1', '::ffff:192.0.2.0/120', '10.0.0.0/8'] },
      routes: [{
        path: '/a', target: 'http://127.0.0.1:8080/a', format: 'json', timeoutMs: 59_000,
        actionIds: ['04k000000000001', '04k000000000002AAA'], objectTypes: ['Contact', 'Invoice__c'], forwardSessionId: true,
      }],
    });
    expect([...cfg.organizations]).toEqual(['00D000000000001EAA', '00D5g000004XyZqEAK']);
    expect(cfg.allowlist.cidrs).toEqual(['10.0.0.0/8', '::1/128', '192.0.2.0/24']);
    const route = cfg.routes[0]!;
    expect([...route.actionIds]).toEqual(['04k000000000001AAA', '04k000000000002AAA']);
    expect([...route.objectTypes]).toEqual(['Contact', 'Invoice__c']);
    expect(route.format).toBe('json');
    expect(route.forwardSessionId).toBe(true);
  });

  it('accepts the server chain leaf + intermediate, ECDSA material and subject-only clients', async () => {
    const cfg = await load({
      ...base(),
      tls: {
        cert: pki.serverChain.chainPath, key: pki.serverChain.keyPath, clientCa: 'ca.crt',
        clientSubjects: ['CN=proxy.salesforce.com, O=Salesforce.com Inc'], minVersion: 'TLSv1.3', expiryWarningDays: 60,
      },
    });
    expect(cfg.tls.serverChain).toHaveLength(2);
    expect(cfg.tls.certPem).toBe(pki.serverChain.chainPem);
    expect(cfg.tls.clientPins).toEqual([]);
    expect(cfg.tls.clientSubjects).toEqual(['CN=proxy.salesforce.com,O=Salesforce.com Inc']);
    expect(cfg.tls.minVersion).toBe('TLSv1.3');
    const ec = await load({ ...base(), tls: { ...base().tls, cert: 'ecdsa-server.crt', key: 'ecdsa-server.key', clientCertificates: ['ecdsa-client.crt'] } });
    expect(ec.tls.clientPins[0]?.x509.publicKey.asymmetricKeyType).toBe('ec');
  });

  it('accepts two pins (rotation) and removes a duplicate', async () => {
    const cfg = await load({ ...base(), tls: { ...base().tls, clientCertificates: ['client.crt', 'client2.crt', pki.client.certPath] } });
    expect(cfg.tls.clientPins.map((p) => p.fingerprint256)).toEqual([pki.client.x509.fingerprint256, pki.client2.x509.fingerprint256]);
  });

  it('accepts a pin issued by an intermediate in the clientCa bundle', async () => {
    const viaIntermediate = await pki.makeCert({ subject: 'CN=via-intermediate', issuer: pki.serverChain.intermediate, eku: ['clientAuth'] }, 'via-int');
    const bundle = await pki.write('ca-bundle.pem', pki.ca.certPem + pki.serverChain.intermediate.certPem);
    const cfg = await load({ ...base(), tls: { ...base().tls, clientCa: path.basename(bundle), clientCertificates: [path.basename(viaIntermediate.certPath)] } });
    expect(cfg.tls.clientCas.map((c) => c.name)).toEqual(['ca-bundle.pem#0', 'ca-bundle.pem#1']);
    expect(cfg.tls.clientPins).toHaveLength(1);
  });

  it('keeps an expired pin (the runtime never matches it) and exposes isCurrentlyValid', async () => {
    const cfg = await load({ ...base(), tls: { ...base().tls, clientCertificates: ['client.crt', 'expired-client.crt', 'not-yet-valid-client.crt'] } });
    expect(cfg.tls.clientPins).toHaveLength(3);
    expect(cfg.tls.clientPins.map((p) => isCurrentlyValid(p.x509))).toEqual([true, false, false]);
    expect(isCurrentlyValid(cfg.tls.clientPins[2]!.x509, new Date(Date.now() + 20 * DAY))).toBe(true);
  });

  it('resolves the pid file against the base dir and takes admin defaults', async () => {
    const cfg = await load({ ...base(), pidFile: 'run/gw.pid', admin: {}, workers: 'auto', log: { level: 'warn' } });
    expect(cfg.pidFile).toBe(path.join(pki.dir, 'run/gw.pid'));
    expect(cfg.admin).toEqual({ host: '127.0.0.1', port: 9090, allowRemote: false });
    expect(cfg.workers).toBeGreaterThanOrEqual(1);
    expect(cfg.workers).toBeLessThanOrEqual(64);
    expect(cfg.log.level).toBe('warn');
    const remote = await load({ ...base(), admin: { host: '0.0.0.0', port: 9191, allowRemote: true }, pidFile: null });
    expect(remote.admin).toEqual({ host: '0.0.0.0', port: 9191, allowRemote: true });
  });

  it('is deeply frozen', async () => {
    const cfg = await load({ ...base(), admin: { port: 9090 } });
    for (const part of [cfg, cfg.listen, cfg.tls, cfg.tls.serverChain, cfg.tls.serverChain[0], cfg.tls.clientPins, cfg.allowlist,
      cfg.allowlist.cidrs, cfg.routes, cfg.routes[0], cfg.limits, cfg.admin, cfg.log, cfg.salesforceHosts, cfg.upstream]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
    expect(() => {
      (cfg.limits as { maxBodyBytes: number }).maxBodyBytes = 1;
    }).toThrow(TypeError);
    expect(() => (cfg.allowlist.cidrs as string[]).push('0.0.0.0/0')).toThrow(TypeError);
  });

  it('accepts port 0 for listen and admin only when asked (tests)', async () => {
    const raw = { ...base(), listen: { port: 0 }, admin: { port: 0 } };
    expect(await problemsOf(raw)).toEqual([
      { path: 'listen.port', message: 'must be 443 or an integer from 1024 to 65535 (the ports Salesforce calls over HTTPS), got 0 (port 0, an ephemeral port, is accepted only with the loader option allowPortZero, for tests)' },
      { path: 'admin.port', message: 'must be an integer from 1024 to 65535 (0 only with the loader option allowPortZero), got 0' },
    ]);
    const cfg = await load(raw, { allowPortZero: true });
    expect(cfg.listen.port).toBe(0);
    expect(cfg.admin?.port).toBe(0);
  });
});

describe('configuration files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = path.join(pki.dir, 'conf');
    await mkdir(dir);
  });
  const relative = (): Raw => {
    const raw = base();
    raw.tls = { cert: '../server.crt', key: '../server.key', clientCa: '../ca.crt', clientCertificates: ['../client.crt'] };
    return raw;
  };

  it('reads YAML with paths relative to the file', async () => {
    const file = path.join(dir, 'gateway.yaml');
    await writeFile(file, [
      'listen: { host: "::", port: 8443 }',
      'tls:',
      '  cert: ../server.crt',
      '  key: ../server.key',
      '  clientCa: ../ca.crt',
      '  clientCertificates:',
      '    - ../client.crt',
      'allowlist:',
      '  cidrs: [127.0.0.1/32, "::1"]',
      'organizations: [00D000000000001EAA]',
      'upstream: { allowedPorts: [8080] }',
      'routes:',
      '  - path: /outbound/contact',
      '    target: http://127.0.0.1:8080/contact',
      '    format: soap',
      'pidFile: gw.pid',
    ].join('\n'));
    const cfg = await loadConfig(file);
    expect(cfg.source).toBe(file);
    expect(cfg.listen.host).toBe('::');
    expect(cfg.tls.clientPins[0]?.name).toBe('../client.crt');
    expect(cfg.pidFile).toBe(path.join(dir, 'gw.pid'));
    expect(cfg.allowlist.cidrs).toEqual(['127.0.0.1/32', '::1/128']);
    expect(Object.isFrozen(cfg)).toBe(true);
  });

  it('reads JSON, and .yml', async () => {
    const json = path.join(dir, 'gateway.json');
    await writeFile(json, `\uFEFF${JSON.stringify(relative())}`); // with a byte-order mark
    expect((await loadConfig(json)).routes).toHaveLength(1);
    const yml = path.join(dir, 'gateway.yml');
    await writeFile(yml, JSON.stringify(relative())); // JSON is YAML
    expect((await loadConfig(yml)).routes).toHaveLength(1);
  });

  it('refuses other extensions', async () => {
    expect(await fileProblems(path.join(dir, 'gateway.toml'))).toEqual([
      { path: '(file)', message: `${path.join(dir, 'gateway.toml')} must end in .yaml, .yml or .json (got ".toml")` },
    ]);
  });

  it('says an unreadable configuration file cannot be read', async () => {
    const missing = path.join(dir, 'missing.yaml');
    expect(await fileProblems(missing)).toEqual([{ path: '(file)', message: `configuration file ${missing} cannot be read (no such file)` }]);
  });

  it('reports YAML and JSON syntax errors, and duplicate YAML keys', async () => {
    const bad = path.join(dir, 'bad.yaml');
    await writeFile(bad, 'listen: [1, 2\nroutes: x\n');
    const [yamlProblem] = await fileProblems(bad);
    expect(yamlProblem?.path).toBe('(file)');
    expect(yamlProblem?.message).toMatch(/^YAML error: .* at line \d+, column \d+/);
    const dup = path.join(dir, 'dup.yaml');
    await writeFile(dup, 'workers: 1\nworkers: 2\n');
    expect((await fileProblems(dup))[0]?.message).toMatch(/YAML error: Map keys must be unique at line 2/);
    const badJson = path.join(dir, 'bad.json');
    await writeFile(badJson, '{"listen": ');
    expect((await fileProblems(badJson))[0]?.message).toMatch(/^is not valid JSON: /);
  });

  it('keeps YAML 1.2 scalars as written (no yes/no booleans)', async () => {
    const file = path.join(dir, 'bool.yaml');
    await writeFile(file, `${JSON.stringify(relative())}`.replace(/}$/, ', "workers": yes }'));
    const problems = await fileProblems(file);
    expect(problems).toEqual([{ path: 'workers', message: 'must be auto or an integer from 1 to 64, got "yes"' }]);
  });
});

describe('key names', () => {
  it('rejects unknown keys, suggesting the right name for a near miss', async () => {
    const problems = await problemsWith((raw) => {
      raw.organisations = raw.organizations;
      raw.tls.clientCertificate = ['client.crt'];
      raw.listen.prot = 1;
      raw.routes[0].url = 'x';
      raw.limits = { maxBodySize: 1 };
      raw.frobnicate = true;
    });
    expect(problems).toEqual(expect.arrayContaining([
      { path: 'organisations', message: 'unknown key, did you mean organizations?' },
      { path: 'tls.clientCertificate', message: 'unknown key, did you mean clientCertificates?' },
      { path: 'listen.prot', message: 'unknown key, did you mean port?' },
      { path: 'routes[0].url', message: 'unknown key, did you mean target?' },
      { path: 'limits.maxBodySize', message: 'unknown key, did you mean maxBodyBytes?' },
      { path: 'frobnicate', message: 'unknown key' },
    ]));
  });

  it('names a renamed or differently-cased key', async () => {
    const problems = await problemsWith((raw) => {
      raw.tls.ca = 'ca.crt';
      raw.tls.clientca = 'ca.crt';
    });
    expect(problems).toEqual([
      { path: 'tls.ca', message: 'unknown key, did you mean clientCa?' },
      { path: 'tls.clientca', message: 'unknown key, did you mean clientCa?' },
    ]);
  });

  it('reports missing required keys', async () => {
    expect(await problemsOf({})).toEqual([
      { path: 'listen', message: 'is required' },
      { path: 'tls', message: 'is required' },
      { path: 'allowlist', message: 'is required' },
      { path: 'organizations', message: 'is required' },
      { path: 'upstream', message: 'is required' },
      { path: 'routes', message: 'is required' },
    ]);
    const problems = await problemsOf({ ...base(), listen: {}, tls: {}, upstream: {}, routes: [{}] });
    expect(problems).toEqual([
      { path: 'listen.port', message: 'is required' },
      { path: 'tls.cert', message: 'is required' },
      { path: 'tls.key', message: 'is required' },
      { path: 'tls.clientCa', message: 'is required' },
      { path: 'tls.clientCertificates', message: expect.stringMatching(/^at least one of tls.clientCertificates or tls.clientSubjects must be non-empty/) },
      { path: 'upstream.allowedPorts', message: 'is required' },
      { path: 'routes[0].path', message: 'is required' },
      { path: 'routes[0].target', message: 'is required' },
    ]);
  });

  it('rejects a document that is not an object', async () => {
    expect(await problemsOf([])).toContainEqual({ path: '(root)', message: 'must be an object (a mapping of keys), got a list' });
    expect(await problemsOf(null)).toContainEqual({ path: '(root)', message: 'must be an object (a mapping of keys), got null' });
  });
});

describe('types and ranges', () => {
  it('reports wrong types with the key path', async () => {
    const problems = await problemsWith((raw) => {
      raw.listen.port = '8443';
      raw.tls.minVersion = 'TLSv1.1';
      raw.tls.expiryWarningDays = -1;
      raw.routes[0].forwardSessionId = 'yes';
      raw.routes[0].format = 'xml';
      raw.organizations = '00D000000000001EAA';
      raw.allowlist.cidrs = '127.0.0.1';
      raw.log = { level: 'verbose' };
      raw.tls.clientCertificates = ['client.crt', 7];
    });
    expect(problems).toEqual(expect.arrayContaining([
      { path: 'listen.port', message: 'must be 443 or an integer from 1024 to 65535 (the ports Salesforce calls over HTTPS), got "8443"' },
      { path: 'tls.minVersion', message: 'must be one of TLSv1.2, TLSv1.3, got "TLSv1.1"' },
      { path: 'tls.expiryWarningDays', message: 'must be an integer from 0 to 365, got -1' },
      { path: 'routes[0].forwardSessionId', message: 'must be true or false, got "yes"' },
      { path: 'routes[0].format', message: 'must be one of soap, json, got "xml"' },
      { path: 'organizations', message: 'must be a list, got a string' },
      { path: 'allowlist.cidrs', message: 'must be a list, got a string' },
      { path: 'log.level', message: 'must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"' },
      { path: 'tls.clientCertificates[1]', message: 'must be a string, got an integer' },
    ]));
    expect(problems).toHaveLength(9);
  });

  it.each([80, 1023, 65536, 8443.5, -443])('rejects listen.port %s', async (port) => {
    const problems = await problemsWith((raw) => {
      raw.listen.port = port;
    });
    expect(problems).toEqual([{ path: 'listen.port', message: expect.stringMatching(new RegExp(`^must be 443 or an integer from 1024 to 65535 .*got ${port}$`)) }]);
  });

  it.each([443, 1024, 65535])('accepts listen.port %s', async (port) => {
    expect((await load({ ...base(), listen: { port } })).listen).toEqual({ host: '0.0.0.0', port });
  });

  it('rejects a listen host that is not an IP address or localhost', async () => {
    expect(await problemsWith((raw) => {
      raw.listen.host = 'gateway.example.com';
    })).toEqual([{ path: 'listen.host', message: 'must be an IP address (e.g. 0.0.0.0, ::, 127.0.0.1) or localhost, got "gateway.example.com"' }]);
  });

  it('checks every limit range and the cross-limits', async () => {
    const problems = await problemsWith((raw) => {
      raw.limits = {
        maxBodyBytes: 1023, handshakeTimeoutMs: 99, headersTimeoutMs: 20_000, requestTimeoutMs: 10_000,
        keepAliveTimeoutMs: 1.5, maxRequestsPerSocket: 0, maxConnections: 10, maxConnectionsPerIp: 11, shutdownGraceMs: '10s',
      };
    });
    expect(problems).toEqual([
      { path: 'limits.maxBodyBytes', message: 'must be an integer from 1024 to 67108864 bytes, got 1023' },
      { path: 'limits.handshakeTimeoutMs', message: 'must be an integer from 100 to 600000 ms, got 99' },
      { path: 'limits.keepAliveTimeoutMs', message: 'must be an integer from 100 to 600000 ms, got 1.5' },
      { path: 'limits.maxRequestsPerSocket', message: 'must be an integer from 1 to 1000000, got 0' },
      { path: 'limits.shutdownGraceMs', message: 'must be an integer from 100 to 600000 ms, got "10s"' },
      { path: 'limits.maxConnectionsPerIp', message: 'must not exceed limits.maxConnections (10), got 11' },
      { path: 'limits.headersTimeoutMs', message: 'must not exceed limits.requestTimeoutMs (10000), got 20000' },
    ]);
    expect(await problemsWith((raw) => {
      raw.limits = { maxBodyBytes: 64 * 1024 * 1024 + 1 };
    })).toEqual([{ path: 'limits.maxBodyBytes', message: 'must be an integer from 1024 to 67108864 bytes, got 67108865' }]);
  });

  it('checks workers', async () => {
    for (const workers of [0, 65, 'two', 1.5]) {
      expect(await problemsWith((raw) => {
        raw.workers = workers;
      })).toEqual([{ path: 'workers', message: expect.stringMatching(/^must be auto or an integer from 1 to 64, got /) }]);
    }
    expect((await load({ ...base(), workers: 64 })).workers).toBe(64);
  });

  it('keeps the admin listener on loopback unless allowRemote', async () => {
    expect(await problemsWith((raw) => {
      raw.admin = { host: '0.0.0.0' };
    })).toEqual([{ path: 'admin.host', message: '"0.0.0.0" is not a loopback address; the admin listener is local only unless admin.allowRemote is true' }]);
    expect(await problemsWith((raw) => {
      raw.admin = { host: '::', port: 80, allowRemote: 'yes' };
    })).toEqual([
      { path: 'admin.port', message: 'must be an integer from 1024 to 65535, got 80' },
      { path: 'admin.allowRemote', message: 'must be true or false, got "yes"' },
      { path: 'admin.host', message: expect.stringMatching(/not a loopback address/) },
    ]);
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) {
      expect((await load({ ...base(), admin: { host } })).admin?.host).toBe(host);
    }
  });
});

describe('organizations', () => {
  it('refuses an empty list', async () => {
    expect(await problemsWith((raw) => {
      raw.organizations = [];
    })).toEqual([{ path: 'organizations', message: 'must not be empty: list the 15- or 18-character ids of the organizations allowed to send' }]);
  });

  it('checks the checksum, the length and the 00D prefix', async () => {
    expect(await problemsWith((raw) => {
      raw.organizations = ['00D000000000001EAB', '00D00000000001', '001000000000001AAA', '00D000000000001EAA', 42, '00D00000000000!EAA'];
    })).toEqual([
      { path: 'organizations[0]', message: '"00D000000000001EAB" has a wrong checksum (the last 3 characters of an 18-character id encode the case of the first 15)' },
      { path: 'organizations[1]', message: '"00D00000000001" is not a 15- or 18-character Salesforce id' },
      { path: 'organizations[2]', message: '"001000000000001AAA" is not an organization id (organization ids start with 00D)' },
      { path: 'organizations[4]', message: 'must be a string, got an integer' },
      { path: 'organizations[5]', message: '"00D00000000000!EAA" is not a 15- or 18-character Salesforce id' },
    ]);
  });
});

describe('salesforceHosts', () => {
  it('lower-cases and accepts DNS suffixes', async () => {
    expect((await load({ ...base(), salesforceHosts: ['Salesforce.COM', 'my.salesforce-sites.com', 'salesforce.com'] })).salesforceHosts)
      .toEqual(['salesforce.com', 'my.salesforce-sites.com']);
  });

  it('rejects wildcards, leading dots, single labels and an empty list', async () => {
    expect(await problemsWith((raw) => {
      raw.salesforceHosts = ['*.salesforce.com', '.force.com', 'localhost', 'a..b', '', 'bad_host.com'];
    })).toEqual([
      { path: 'salesforceHosts[0]', message: '"*.salesforce.com": no wildcards; a host suffix such as salesforce.com already matches its subdomains' },
      { path: 'salesforceHosts[1]', message: '".force.com": no leading dot; write force.com (a suffix already matches its subdomains)' },
      { path: 'salesforceHosts[2]', message: '"localhost" is not a DNS name with at least one dot, e.g. salesforce.com' },
      { path: 'salesforceHosts[3]', message: '"a..b" is not a DNS name with at least one dot, e.g. salesforce.com' },
      { path: 'salesforceHosts[4]', message: '"" is not a DNS name with at least one dot, e.g. salesforce.com' },
      { path: 'salesforceHosts[5]', message: '"bad_host.com" is not a DNS name with at least one dot, e.g. salesforce.com' },
    ]);
    expect(await problemsWith((raw) => {
      raw.salesforceHosts = [];
    })).toEqual([{ path: 'salesforceHosts', message: 'must not be empty (leave the key out for the default salesforce.com, force.com)' }]);
  });
});

describe('routes', () => {
  const route = (extra: Raw): Raw => ({ path: '/r', target: 'http://127.0.0.1:8080/r', ...extra });

  it('refuses an empty route table', async () => {
    expect(await problemsWith((raw) => {
      raw.routes = [];
    })).toEqual([{ path: 'routes', message: 'must not be empty: an empty route table would accept nothing' }]);
  });

  it('checks paths: leading slash, no ? # or whitespace, no duplicates', async () => {
    expect(await problemsWith((raw) => {
      raw.routes = [
        route({ path: '/outbound/contact' }), route({ path: 'outbound' }), route({ path: '/a?b=1' }), route({ path: '/a#b' }),
        route({ path: '/a b' }), route({ path: '/a\t' }), route({ path: '/outbound/contact' }),
      ];
    })).toEqual([
      { path: 'routes[1].path', message: '"outbound" must start with /' },
      { path: 'routes[2].path', message: '"/a?b=1" must not contain ? or #: give the path only' },
      { path: 'routes[3].path', message: '"/a#b" must not contain ? or #: give the path only' },
      { path: 'routes[4].path', message: '"/a b" must not contain whitespace or control characters' },
      { path: 'routes[5].path', message: '"/a\\t" must not contain whitespace or control characters' },
      { path: 'routes[6].path', message: 'duplicate path /outbound/contact (also routes[0].path)' },
    ]);
  });

  it('checks targets: absolute http(s) URL, no user info, port in upstream.allowedPorts', async () => {
    expect(await problemsWith((raw) => {
      raw.upstream.allowedPorts = [8080, 443];
      raw.routes = [
        route({ path: '/0', target: '/relative' }),
        route({ path: '/1', target: 'ftp://127.0.0.1:8080/x' }),
        route({ path: '/2', target: 'http://user:pw@127.0.0.1:8080/x' }),
        route({ path: '/3', target: 'http://127.0.0.1:9090/x' }),
        route({ path: '/4', target: 'http://127.0.0.1/x' }),
        route({ path: '/5', target: 'https://internal.example/x' }),
        route({ path: '/6', target: 'file:///etc/passwd' }),
      ];
    })).toEqual([
      { path: 'routes[0].target', message: '"/relative" is not an absolute URL, e.g. http://127.0.0.1:8080/contact' },
      { path: 'routes[1].target', message: '"ftp://127.0.0.1:8080/x" must use http: or https:, not ftp:' },
      { path: 'routes[2].target', message: 'must not contain user info (user:password@); credentials do not belong in a URL' },
      { path: 'routes[3].target', message: 'port 9090 is not in upstream.allowedPorts' },
      { path: 'routes[4].target', message: 'port 80 is not in upstream.allowedPorts' },
      { path: 'routes[6].target', message: '"file:///etc/passwd" must use http: or https:, not file:' },
    ]);
  });

  it('checks timeoutMs against Salesforce\'s 60 s', async () => {
    for (const timeoutMs of [0, 59_001, 60_000, 1.5, '20000']) {
      expect(await problemsWith((raw) => {
        raw.routes = [route({ timeoutMs })];
      })).toEqual([{ path: 'routes[0].timeoutMs', message: expect.stringMatching(/^must be an integer from 1 to 59000 ms \(it must stay under Salesforce's 60 s\), got /) }]);
    }
  });

  it('checks actionIds (04k, checksum) and objectTypes', async () => {
    expect(await problemsWith((raw) => {
      raw.routes = [route({ actionIds: ['04k000000000001AAB', '00D000000000001', 'short', 1], objectTypes: ['Contact', '1abc', 'a-b', 'x'.repeat(81), 'Invoice__c'] })];
    })).toEqual([
      { path: 'routes[0].actionIds[0]', message: '"04k000000000001AAB" is not a valid 15- or 18-character id (wrong length, characters or checksum)' },
      { path: 'routes[0].actionIds[1]', message: '"00D000000000001" is not an outbound-message action id (they start with 04k)' },
      { path: 'routes[0].actionIds[2]', message: '"short" is not a valid 15- or 18-character id (wrong length, characters or checksum)' },
      { path: 'routes[0].actionIds[3]', message: 'must be a string, got an integer' },
      { path: 'routes[0].objectTypes[1]', message: '"1abc" is not an sObject API name (a letter, then letters, digits or _; e.g. Contact, Invoice__c)' },
      { path: 'routes[0].objectTypes[2]', message: '"a-b" is not an sObject API name (a letter, then letters, digits or _; e.g. Contact, Invoice__c)' },
      { path: 'routes[0].objectTypes[3]', message: expect.stringMatching(/is not an sObject API name/) },
    ]);
  });

  it('reports a route that is not an object', async () => {
    expect(await problemsWith((raw) => {
      raw.routes = ['/outbound/contact'];
    })).toEqual([{ path: 'routes[0]', message: 'must be an object (a mapping of keys), got a string' }]);
  });

  it('refuses an empty upstream.allowedPorts and bad ports', async () => {
    expect(await problemsWith((raw) => {
      raw.upstream.allowedPorts = [];
    })).toEqual([{ path: 'upstream.allowedPorts', message: 'must not be empty: list the ports of the internal services' }]);
    expect(await problemsWith((raw) => {
      raw.upstream.allowedPorts = [8080, 0, 70000];
    })).toEqual([
      { path: 'upstream.allowedPorts[1]', message: 'must be an integer from 1 to 65535, got 0' },
      { path: 'upstream.allowedPorts[2]', message: 'must be an integer from 1 to 65535, got 70000' },
    ]);
  });
});

describe('allowlist', () => {
  it('reports a bad CIDR by its index, with the parser\'s message', async () => {
    expect(await problemsWith((raw) => {
      raw.allowlist.cidrs = ['127.0.0.1/32', '10.0.0.1/8', '0177.0.0.1', '10.0.0.0/8 '];
    })).toEqual([
      { path: 'allowlist.cidrs[1]', message: '10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?' },
      { path: 'allowlist.cidrs[2]', message: expect.stringMatching(/^0177.0.0.1 is not a valid IPv4 address/) },
      { path: 'allowlist.cidrs[3]', message: '"10.0.0.0/8 " contains whitespace' },
    ]);
  });

  it('refuses an empty allowlist instead of allowing everyone', async () => {
    const message = 'is empty: list at least one CIDR in allowlist.cidrs or allowlist.files (an empty allowlist refuses everyone; it never means allow-all)';
    expect(await problemsWith((raw) => {
      raw.allowlist = {};
    })).toEqual([{ path: 'allowlist', message }]);
    const comments = await pki.write('comments-only.txt', '# nothing yet\n\n');
    expect(await problemsWith((raw) => {
      raw.allowlist = { cidrs: [], files: [path.basename(comments)] };
    })).toEqual([{ path: 'allowlist', message }]);
  });

  it('reads files of CIDRs: lines with comments, or a JSON array', async () => {
    const lines = await pki.write('ranges.txt', '# Salesforce\n13.108.0.0/14 # US\n\n  96.43.144.0/20\r\n2001:db8::/32\n');
    const json = await pki.write('ranges.json', JSON.stringify(['192.0.2.0/24', '13.108.0.0/14']));
    const cfg = await load({ ...base(), allowlist: { files: ['ranges.txt', 'ranges.json'] } });
    expect(cfg.allowlist.cidrs).toEqual(['13.108.0.0/14', '96.43.144.0/20', '2001:db8::/32', '192.0.2.0/24']);
    expect(lines && json).toBeTruthy();
  });

  it('names the file and line of a bad entry, and unreadable files', async () => {
    await pki.write('bad-ranges.txt', '10.0.0.0/8\n# ok\n10.0.0.1/8\n1.2.3\n');
    await pki.write('bad-ranges.json', '["10.0.0.0/8", "010.0.0.1"]');
    await pki.write('not-array.json', '[1, 2]');
    expect(await problemsWith((raw) => {
      raw.allowlist.files = ['bad-ranges.txt', 'missing.txt', 'bad-ranges.json', 'not-array.json', 3];
    })).toEqual([
      { path: 'allowlist.files[4]', message: 'must be a string, got an integer' },
      { path: 'allowlist.files[0] line 3', message: '10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?' },
      { path: 'allowlist.files[0] line 4', message: expect.stringMatching(/^1\.2\.3 is not a valid IPv4 address/) },
      { path: 'allowlist.files[1]', message: 'file missing.txt cannot be read (no such file)' },
      { path: 'allowlist.files[2] [1]', message: expect.stringMatching(/^010\.0\.0\.1 is not a valid IPv4 address/) },
      { path: 'allowlist.files[3]', message: 'file not-array.json: item [0] must be a string' },
    ]);
  });
});

describe('certificate files', () => {
  const tlsWith = (tls: Raw) => (raw: Raw): void => {
    raw.tls = { ...raw.tls, ...tls };
  };

  it('says which files cannot be read, without errno stacks', async () => {
    const problems = await problemsWith(tlsWith({ cert: 'nope.crt', key: 'nope.key', clientCa: 'nope-ca.crt', clientCertificates: ['nope-client.crt'] }));
    expect(problems).toEqual([
      { path: 'tls.cert', message: 'file nope.crt cannot be read (no such file)' },
      { path: 'tls.key', message: 'file nope.key cannot be read (no such file)' },
      { path: 'tls.clientCa', message: 'file nope-ca.crt cannot be read (no such file)' },
      { path: 'tls.clientCertificates[0]', message: 'file nope-client.crt cannot be read (no such file)' },
    ]);
    for (const p of problems) expect(p.message).not.toMatch(/ENOENT|errno|\n|at /);
  });

  it('reports certificates and keys that do not parse', async () => {
    await pki.write('junk.crt', 'not a certificate');
    await pki.write('junk.key', 'not a key');
    expect(await problemsWith(tlsWith({ cert: 'junk.crt', key: 'junk.key', clientCa: 'junk.crt', clientCertificates: ['junk.crt'] }))).toEqual([
      { path: 'tls.cert', message: 'file junk.crt is neither PEM nor a DER certificate' },
      { path: 'tls.key', message: 'key junk.key is neither a PEM nor a DER private key' },
      { path: 'tls.clientCa', message: 'file junk.crt is neither PEM nor a DER certificate' },
      { path: 'tls.clientCertificates[0]', message: 'file junk.crt is neither PEM nor a DER certificate' },
    ]);
  });

  it('reports a key that does not match the server certificate', async () => {
    expect(await problemsWith(tlsWith({ key: 'client.key' }))).toEqual([
      { path: 'tls.cert', message: 'the private key in tls.key does not match the leaf certificate server.crt' },
    ]);
  });

  it('reports an expired or not yet valid server certificate', async () => {
    await pki.makeCert({
      subject: 'CN=localhost', issuer: pki.ca, sans: ['localhost'], eku: ['serverAuth'],
      notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY),
    }, 'expired-server');
    expect(await problemsWith(tlsWith({ cert: 'expired-server.crt', key: 'expired-server.key' }))).toEqual([
      { path: 'tls.cert', message: expect.stringMatching(/^certificate expired-server.crt expired on \d{4}-/) },
    ]);
    expect(await problemsWith(() => undefined, { now: new Date(Date.now() - 2 * DAY) })).toEqual([
      { path: 'tls.cert', message: expect.stringMatching(/^certificate server.crt is not valid until /) },
    ]);
  });

  it('reports a server chain out of order or with its root', async () => {
    await pki.write('reversed-chain.crt', pki.serverChain.intermediate.certPem + pki.serverChain.certPem);
    await pki.write('rooted-chain.crt', pki.serverChain.chainPem + pki.ca.certPem);
    const reversed = await problemsWith(tlsWith({ cert: 'reversed-chain.crt', key: pki.serverChain.keyPath }));
    expect(reversed.map((p) => p.path)).toEqual(['tls.cert', 'tls.cert', 'tls.cert']);
    expect(reversed.map((p) => p.message)).toContain('certificate reversed-chain.crt#0 is not issued by the next one, reversed-chain.crt#1; order the file leaf first, then each intermediate');
    expect(await problemsWith(tlsWith({ cert: 'rooted-chain.crt', key: pki.serverChain.keyPath }))).toEqual([
      { path: 'tls.cert', message: 'certificate rooted-chain.crt#2 is a self-signed root; send the leaf and intermediates only, without the root' },
    ]);
  });

  it('reports a pinned certificate that does not chain to clientCa', async () => {
    expect(await problemsWith(tlsWith({ clientCertificates: ['client.crt', 'other-ca-client.crt'] }))).toEqual([
      { path: 'tls.clientCertificates[1]', message: 'certificate other-ca-client.crt is not issued by any CA in tls.clientCa (ca.crt), so the handshake would reject it' },
    ]);
  });

  it('reports a pinned CA certificate and a pin file holding several certificates', async () => {
    await pki.write('two-clients.crt', pki.client.certPem + pki.client2.certPem);
    expect(await problemsWith(tlsWith({ clientCertificates: ['ca.crt', 'two-clients.crt'] }))).toEqual([
      { path: 'tls.clientCertificates[0]', message: 'certificate ca.crt is a CA certificate; pin the client (leaf) certificate Salesforce presents' },
      { path: 'tls.clientCertificates[1]', message: 'file two-clients.crt holds 2 certificates; a pin file must hold exactly the one client certificate' },
    ]);
  });

  it('requires pins or subjects, and checks subjects', async () => {
    expect(await problemsWith(tlsWith({ clientCertificates: [] }))).toEqual([
      { path: 'tls.clientCertificates', message: 'at least one of tls.clientCertificates or tls.clientSubjects must be non-empty: pin the downloaded Salesforce client certificate' },
    ]);
    expect(await problemsWith(tlsWith({ clientCertificates: [], clientSubjects: ['proxy.salesforce.com'] }))).toEqual([
      { path: 'tls.clientSubjects[0]', message: '"proxy.salesforce.com" is not a valid distinguished name: an attribute has no "="' },
    ]);
  });
});

describe('all problems at once', () => {
  it('collects structural and file problems from every section in one ConfigError', async () => {
    const raw = base();
    raw.listen.port = 80;
    raw.tls.cert = 'missing.crt';
    raw.tls.clientCertificates = ['other-ca-client.crt'];
    raw.tls.clientCertificat = [];
    raw.allowlist.cidrs = ['10.0.0.1/8'];
    raw.organizations = ['00D000000000001EAB'];
    raw.routes.push({ path: '/outbound/contact', target: 'http://127.0.0.1:9999/' });
    raw.limits = { maxBodyBytes: 10 };
    raw.admin = { host: '10.0.0.1' };
    let error: unknown;
    try {
      await load(raw);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => p.path)).toEqual([
      'listen.port',
      'tls.clientCertificat',
      'allowlist.cidrs[0]',
      'organizations[0]',
      'routes[1].path',
      'routes[1].target',
      'limits.maxBodyBytes',
      'admin.host',
      'tls.cert',
      'tls.clientCertificates[0]',
    ]);
    const message = (error as ConfigError).message;
    expect(message).toContain('  listen.port: must be 443');
    expect(message).toContain('  tls.clientCertificat: unknown key, did you mean clientCertificates?');
  });
});
