/**
 * The operations commands as an operator runs them: `node dist/cli.js …` in a child process
 * (dist is built by `npm run build` before the tests), real files in a temp dir, real
 * certificates from the test PKI.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, CLI } from '../helpers/cli.js';
import { makePki, type Pki } from '../helpers/pki.js';

let pki: Pki;
beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  pki = await makePki({ prefix: 'sfom-cli-ops-' });
});
afterAll(() => pki.cleanup());

describe('--help', () => {
  it.each([
    [['certs', '--help'], 'sfom-gateway certs inspect [--json] FILE...'],
    [['certs', 'inspect', '--help'], 'sfom-gateway certs inspect [--json] FILE...'],
    [['ip-ranges', '--help'], 'sfom-gateway ip-ranges import FILE --out FILE'],
    [['reload', '--help'], 'sfom-gateway reload --config FILE'],
  ])('%j prints the usage', async (args, first) => {
    const r = await cli(args);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(first)).toBe(true);
  });

  it('lists the new commands in the main usage', async () => {
    const r = await cli(['--help']);
    expect(r.stdout).toContain('certs inspect');
    expect(r.stdout).toContain('ip-ranges import');
    expect(r.stdout).toContain('reload --config FILE');
  });

  it('rejects an unknown subcommand with usage and exit 2', async () => {
    const r = await cli(['certs', 'verify', 'x.pem']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown subcommand 'verify'");
  });
});

describe('certs inspect', () => {
  it('prints one block per certificate of a PEM bundle', async () => {
    const bundle = await pki.write('bundle.pem', pki.client.certPem + pki.ca.certPem);
    const r = await cli(['certs', 'inspect', bundle]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const blocks = r.stdout.trimEnd().split('\n\n');
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toContain(`${bundle}#0`);
    expect(blocks[0]).toContain('subject:      CN=proxy.salesforce.com, O=Salesforce.com Inc');
    expect(blocks[0]).toContain(`SHA-256:      ${pki.client.x509.fingerprint256}`);
    expect(blocks[0]).toContain('key:          RSA 2048 bits');
    expect(blocks[0]).toContain('CA:           no');
    expect(blocks[0]).toMatch(/not after: +\S+ \(36[45] days left\)/);
    expect(blocks[0]).toContain(`serial:       ${pki.client.x509.serialNumber.toUpperCase()}`);
    expect(blocks[1]).toContain('CA:           yes');
    expect(blocks[1]).toContain('(self-signed)');
  });

  it('reads a DER file (as some downloads are) and shows SANs and EC curves', async () => {
    const der = await pki.write('server.der', pki.ecdsaServer.x509.raw);
    const r = await cli(['certs', 'inspect', der]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`SHA-256:      ${pki.ecdsaServer.x509.fingerprint256}`);
    expect(r.stdout).toContain('key:          EC prime256v1');
    expect(r.stdout).toContain('SANs:         DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  });

  it('prints a JSON array with --json', async () => {
    const r = await cli(['certs', 'inspect', '--json', pki.client.certPath, pki.expiredClient.certPath]);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(list).toHaveLength(2);
    expect(list[0]).toMatchObject({
      name: pki.client.certPath,
      subject: 'CN=proxy.salesforce.com, O=Salesforce.com Inc',
      fingerprint256: pki.client.x509.fingerprint256,
      keyType: 'rsa',
      keyBits: 2048,
      curve: null,
      isCa: false,
      validity: 'valid',
    });
    expect(list[1]).toMatchObject({ validity: 'expired' });
    expect(list[1]?.daysLeft).toBeLessThan(-9);
  });

  it('exits 1 naming a file that cannot be read or holds no certificate', async () => {
    const missing = path.join(pki.dir, 'nope.crt');
    const r = await cli(['certs', 'inspect', missing, pki.client.keyPath, pki.client.certPath]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: file ${missing} cannot be read (no such file)`);
    expect(r.stderr).toContain(`error: file ${pki.client.keyPath} holds no PEM CERTIFICATE block`);
    expect(r.stdout).toContain(pki.client.x509.fingerprint256); // the good file is still shown
    const garbage = await pki.write('garbage.cer', Buffer.from([1, 2, 3]));
    const g = await cli(['certs', 'inspect', garbage]);
    expect(g.code).toBe(1);
    expect(g.stderr).toContain(`file ${garbage} is neither PEM nor a DER certificate`);
  });
});

describe('ip-ranges import', () => {
  const first = {
    createDate: '2026-01-05-10-00-00',
    prefixes: [
      { ip_prefix: '13.108.0.0/14', region: 'us-east-1', direction: 'outbound' },
      { ip_prefix: ['85.222.128.0/19', '101.53.160.0/19'], region: 'eu-central-1', direction: 'outbound' },
      { ip_prefix: '13.109.0.0/16', region: 'us-east-1', direction: 'outbound' },
      { ip_prefix: '96.43.144.0/20', region: 'ap-south-1', direction: 'outbound' },
      { ip_prefix: '182.50.76.0/22' },
    ],
    ipv6_prefixes: [{ ipv6_prefix: '2620:171::/40', region: 'us-east-1', direction: 'outbound' }],
  };

  it('writes an allowlist file, then prints what a second import adds and removes', async () => {
    const src = await pki.write('ip-ranges.json', JSON.stringify(first));
    const out = path.join(pki.dir, 'salesforce-ip-ranges.txt');
    const r1 = await cli(['ip-ranges', 'import', src, '--out', out, '--region', 'us-east-1,eu-central-1', '--direction', 'outbound']);
    expect(r1.stderr).toBe('');
    expect(r1.code).toBe(0);
    expect(r1.stdout).toContain('1 range(s) without a region left out');
    expect(r1.stdout).toContain('overlap: prefixes[2].ip_prefix 13.109.0.0/16 lies inside prefixes[0].ip_prefix 13.108.0.0/14; only the covering range is kept');
    expect(r1.stdout).toContain(`wrote ${out}: 4 range(s) (new file)`);
    const text1 = await readFile(out, 'utf8');
    expect(text1).toContain(`# Source: ${src} (createDate 2026-01-05-10-00-00)`);
    expect(text1).toContain('# Filters: region=us-east-1,eu-central-1 direction=outbound');
    expect(text1.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([
      '13.108.0.0/14', '85.222.128.0/19', '101.53.160.0/19', '2620:171::/40',
    ]);

    const second = {
      ...first,
      prefixes: [first.prefixes[0], { ip_prefix: '85.222.128.0/19', region: 'eu-central-1', direction: 'outbound' },
        { ip_prefix: '160.8.0.0/16', region: 'us-east-1', direction: 'outbound' }],
    };
    await writeFile(src, JSON.stringify(second));
    const r2 = await cli(['ip-ranges', 'import', src, '--out', out, '--region', 'us-east-1', '--region', 'eu-central-1', '--direction', 'outbound']);
    expect(r2.code).toBe(0);
    expect(r2.stdout).toContain(`wrote ${out}: 4 range(s), 1 added, 1 removed, 3 unchanged`);
    expect(r2.stdout).toContain('  + 160.8.0.0/16');
    expect(r2.stdout).toContain('  - 101.53.160.0/19');

    const r3 = await cli(['ip-ranges', 'import', src, '--out', out, '--region', 'us-east-1,eu-central-1', '--direction', 'outbound']);
    expect(r3.code).toBe(0);
    expect(r3.stdout).toContain(`no change: ${out} already holds these 4 range(s)`);
  });

  it('refuses an input with invalid entries, names them, and leaves the last good file alone', async () => {
    const out = path.join(pki.dir, 'kept.txt');
    const good = await pki.write('good.txt', '# office\n192.0.2.0/24\n');
    expect((await cli(['ip-ranges', 'import', good, '--out', out])).code).toBe(0);
    const before = await readFile(out, 'utf8');

    const bad = await pki.write('bad.json', JSON.stringify({
      prefixes: [{ ip_prefix: '0177.0.0.1' }, { ip_prefix: ['10.0.0.1/33', '1.2.3.4 '] }, { ip_prefix: '198.51.100.0/24' }],
    }));
    const r = await cli(['ip-ranges', 'import', bad, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`has 3 invalid entries; ${out} was not changed`);
    expect(r.stderr).toContain('  prefixes[0].ip_prefix: 0177.0.0.1 is not a valid IPv4 address');
    expect(r.stderr).toContain('  prefixes[1].ip_prefix[0]: 10.0.0.1/33: the prefix length must be at most 32');
    expect(r.stderr).toContain('  prefixes[1].ip_prefix[1]: "1.2.3.4 " contains whitespace');
    expect(await readFile(out, 'utf8')).toBe(before);
  });

  it('refuses to write an empty allowlist', async () => {
    const src = await pki.write('only-eu.json', JSON.stringify({ prefixes: [{ ip_prefix: '85.222.128.0/19', region: 'eu-central-1' }] }));
    const out = path.join(pki.dir, 'empty.txt');
    const r = await cli(['ip-ranges', 'import', src, '--out', out, '--region', 'us-west-2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no range left to write after the filters');
    expect(existsSync(out)).toBe(false);
  });

  it('requires --out', async () => {
    const r = await cli(['ip-ranges', 'import', 'x.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--out FILE is required');
  });
});

describe('reload', () => {
  it('exits 1 with a clear message when there is no pid file', async () => {
    const config = await pki.write('reload-missing.yaml', 'pidFile: run/sfom-gateway.pid\n');
    const r = await cli(['reload', '--config', config]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no pid file at ${path.join(pki.dir, 'run', 'sfom-gateway.pid')}`);
    expect(r.stderr).toContain('not running');
  });

  it('exits 1 when the configuration sets no pidFile, or cannot be read', async () => {
    const config = await pki.write('reload-nopid.yaml', 'log: { level: info }\n');
    const r = await cli(['reload', '--config', config]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('sets no pidFile');
    const missing = await cli(['reload', '--config', path.join(pki.dir, 'absent.yaml')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot be read (no such file)');
  });

  it('exits 1 when the process in the pid file is gone', async () => {
    // A pid that existed and has ended: our own finished child.
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((r) => child.on('close', r));
    await pki.write('gone.pid', `${pid}\n`);
    const config = await pki.write('reload-gone.yaml', 'pidFile: gone.pid\n');
    const r = await cli(['reload', '--config', config]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`process ${pid} (from ${path.join(pki.dir, 'gone.pid')}) is not running`);
  });

  it('sends SIGHUP to the process named in the pid file', async () => {
    // Stands in for a running gateway: a process whose script is a cli.js, waiting for SIGHUP.
    const script = await pki.write('cli.js',
      "process.on('SIGHUP', () => { process.stdout.write('got SIGHUP\\n'); process.exit(0); });\n" +
      "process.stdout.write('ready\\n');\nsetTimeout(() => process.exit(3), 20000);\n");
    const gw = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    await new Promise<void>((resolve) => gw.stdout.on('data', (c: Buffer) => { output += c.toString(); if (output.includes('ready')) resolve(); }));
    await pki.write('gw.pid', `${gw.pid}\n`);
    const config = await pki.write('reload-ok.yaml', 'pidFile: gw.pid\n');
    const exited = new Promise<number | null>((resolve) => gw.on('close', (code) => resolve(code)));
    const r = await cli(['reload', '--config', config]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`sent SIGHUP to sfom-gateway (pid ${gw.pid}`);
    expect(await exited).toBe(0);
    expect(output).toContain('got SIGHUP');
  });

  it('does not signal a process that does not look like sfom-gateway', async () => {
    if (process.platform !== 'linux') return;
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
    try {
      await pki.write('other.pid', `${other.pid}\n`);
      const config = await pki.write('reload-other.yaml', 'pidFile: other.pid\n');
      const r = await cli(['reload', '--config', config]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('does not look like sfom-gateway');
      expect(other.exitCode).toBeNull();
    } finally {
      other.kill();
    }
  });

  it('makes a running gateway re-read its configuration', async () => {
    const config = path.join(pki.dir, 'gateway.yaml');
    // A file may not ask for port 0 (Salesforce calls 443 or 1024-65535): borrow a free one.
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const yaml = (level: string): string => [
      `listen: { host: 127.0.0.1, port: ${port} }`,
      'tls:',
      `  cert: ${JSON.stringify(pki.server.certPath)}`,
      `  key: ${JSON.stringify(pki.server.keyPath)}`,
      `  clientCa: ${JSON.stringify(pki.ca.certPath)}`,
      `  clientCertificates: [${JSON.stringify(pki.client.certPath)}]`,
      'allowlist: { cidrs: [127.0.0.1/32] }',
      'organizations: [00D000000000001EAA]',
      'salesforceHosts: [salesforce.com]',
      'upstream: { allowedPorts: [9] }',
      'routes:',
      '  - { path: /outbound/contact, target: "http://127.0.0.1:9/contact", format: soap, timeoutMs: 1000 }',
      'pidFile: gateway.pid',
      `log: { level: ${level} }`,
      '',
    ].join('\n');
    await writeFile(config, yaml('info'));
    const gw = spawn(process.execPath, [CLI, 'start', '--config', config], { cwd: pki.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let logs = '';
    const seen = (what: string, timeoutMs = 10_000): Promise<void> => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway log never showed ${what}:\n${logs}`)), timeoutMs);
      const check = (): void => { if (logs.includes(what)) { clearTimeout(timer); resolve(); } };
      gw.stdout.on('data', check);
      gw.on('close', () => { clearTimeout(timer); reject(new Error(`gateway exited before ${what}:\n${logs}`)); });
      check();
    });
    gw.stdout.on('data', (c: Buffer) => { logs += c.toString(); });
    gw.stderr.on('data', (c: Buffer) => { logs += c.toString(); });
    try {
      await seen('"event":"listening"');
      // The pid file is written right after the listener binds.
      for (let i = 0; i < 50 && !existsSync(path.join(pki.dir, 'gateway.pid')); i++) await new Promise((r) => setTimeout(r, 20));
      await writeFile(config, yaml('debug'));
      const r = await cli(['reload', '--config', config]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`sent SIGHUP to sfom-gateway (pid ${gw.pid}`);
      await seen('"event":"reload"');
      expect(logs).toMatch(/"event":"reload","result":"success"/);
    } finally {
      if (gw.exitCode === null && gw.signalCode === null) {
        const closed = new Promise((r) => gw.on('close', r));
        gw.kill('SIGTERM');
        await closed;
      }
    }
  });
});
