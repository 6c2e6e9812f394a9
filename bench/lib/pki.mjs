/**
 * The bench PKI, made with the openssl CLI into a temp dir: one RSA-2048 CA; an RSA-2048 and an
 * ECDSA P-256 server certificate for 127.0.0.1/localhost; one RSA-2048 client certificate shaped
 * like Salesforce's (CN=proxy.salesforce.com, clientAuth). Salesforce's client certificate is
 * RSA-2048, so the client side of every handshake is RSA whichever server key is measured.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function openssl(args, cwd) {
  await run('openssl', args, { cwd, timeout: 30_000 });
}

const EXT = {
  ca: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash'],
  serverRsa: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'],
  serverEc: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'],
  client: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=clientAuth', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'],
};

async function leaf(dir, name, keyArgs, subject, ext) {
  await openssl(['genpkey', ...keyArgs, '-out', `${name}.key`], dir);
  await openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
  await writeFile(join(dir, `${name}.ext`), ext.join('\n') + '\n');
  await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key',
    // A random serial per leaf: -CAcreateserial would race on ca.srl across the parallel leaves.
    '-set_serial', `0x${randomBytes(15).toString('hex')}`,
    '-days', '30', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`], dir);
}

/**
 * Creates the PKI in `dir`. Returns file paths and PEM strings:
 * `{ ca, serverRsa, serverEc, client }`, each `{ certPath, keyPath, certPem, keyPem }`.
 */
export async function makePki(dir) {
  const rsa = ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
  const ec = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  const runId = Math.random().toString(16).slice(2, 10);
  await openssl(['genpkey', ...rsa, '-out', 'ca.key'], dir);
  await writeFile(join(dir, 'ca.ext'), EXT.ca.join('\n') + '\n');
  await openssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', `/CN=sfom bench CA ${runId}/O=sfom-gateway bench`,
    '-days', '30', '-sha256', '-addext', EXT.ca[0], '-addext', EXT.ca[1], '-out', 'ca.crt'], dir);
  await Promise.all([
    leaf(dir, 'server-rsa', rsa, '/CN=localhost', EXT.serverRsa),
    leaf(dir, 'server-ec', ec, '/CN=localhost', EXT.serverEc),
    leaf(dir, 'client', rsa, '/CN=proxy.salesforce.com/O=Salesforce.com Inc', EXT.client),
  ]);
  const load = async (name) => {
    const certPath = join(dir, `${name}.crt`);
    const keyPath = join(dir, `${name}.key`);
    return { certPath, keyPath, certPem: await readFile(certPath, 'utf8'), keyPem: await readFile(keyPath, 'utf8') };
  };
  return {
    dir,
    ca: await load('ca'),
    serverRsa: await load('server-rsa'),
    serverEc: await load('server-ec'),
    client: await load('client'),
  };
}
