/**
 * Summarising a Linux perf recording (perf record -g) of one server process: shares by area and
 * the top symbols. Used by profile.mjs.
 */
import { execFile } from 'node:child_process';

/** perf samples grouped by what the code is: OpenSSL is linked into the node binary, so by symbol. */
const PERF_AREAS = [
  [(dso) => dso === '[kernel.kallsyms]', () => true, 'kernel (syscalls, network stack, scheduler)'],
  [(dso) => /libcrypto|libssl/.test(dso), () => true, 'OpenSSL'],
  [() => true, (sym) => /^(ossl_|OSSL_|EVP_|evp_|SSL_|ssl_|tls_|tls1|BN_|bn_|__bn|RSA_|rsa_|rsaz|EC_|ec_|ecp_|x25519|X25519|sha\d|SHA\d|aesni|AES_|gcm_|CRYPTO_|ERR_|OPENSSL_|ASN1_|asn1_|X509|x509|OBJ_|PEM_|BIO_|bio_|d2i_|i2d_|PKCS|HMAC|lh_|OPENSSL_sk|ChaCha|Poly1305|decoder_|encoder_|ossl|_x86_64_AES|bsaes|vpaes)/.test(sym), 'OpenSSL'],
  [(dso) => dso.startsWith('libc'), (sym) => /^(_int_malloc|malloc|_int_free|free|cfree|unlink_chunk|malloc_consolidate|realloc|_int_realloc|calloc|tcache)/.test(sym), 'libc malloc/free'],
  [(dso) => dso.startsWith('libc'), (sym) => /pthread_|futex|lll_/.test(sym), 'libc locks (OpenSSL 3 takes many)'],
  [(dso) => dso.startsWith('libc'), () => true, 'libc, other (memcpy, strcmp, ...)'],
  [(dso) => dso.startsWith('[JIT]'), () => true, 'V8 JIT-compiled JavaScript'],
  [() => true, (sym) => /^(Builtins_|v8::|V8_|Runtime_|heap::|cppgc)/.test(sym), 'V8 (builtins, runtime, GC, compiler)'],
  [() => true, (sym) => /^uv_|^uv__/.test(sym), 'libuv'],
  [() => true, (sym) => /^node::/.test(sym), 'Node C++ (bindings, TLSWrap, llhttp)'],
  [() => true, (sym) => /^llhttp/.test(sym), 'Node C++ (bindings, TLSWrap, llhttp)'],
  [(dso) => dso === 'nginx', () => true, 'nginx'],
];

/** Shares of perf samples by area (see PERF_AREAS), then the top symbols. */
export async function perfSummary(file) {
  const report = (args) => new Promise((resolve) => {
    execFile('perf', ['report', '-i', file, '--no-children', '--stdio', '-g', 'none', ...args],
      { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 }, (err, stdout) => resolve(err ? '' : stdout));
  });
  const rows = (await report(['--sort', 'dso,sym', '--percent-limit', '0'])).split('\n')
    .map((l) => /^\s*([\d.]+)%\s+(\S+(?: tid \d+)?)\s+\[[.k]\]\s+(.*)$/.exec(l))
    .filter(Boolean)
    .map(([, pct, dso, sym]) => ({ pct: Number(pct), dso, sym: sym.trim() }));
  const areas = new Map();
  for (const r of rows) {
    const hit = PERF_AREAS.find(([d, s]) => d(r.dso) && s(r.sym));
    const name = hit ? hit[2] : `other (${r.dso})`;
    areas.set(name, (areas.get(name) ?? 0) + r.pct);
  }
  const lines = ['perf, by area (share of the process\'s samples):'];
  for (const [name, pct] of [...areas].sort((a, b) => b[1] - a[1])) lines.push(`  ${pct.toFixed(1).padStart(5)} %  ${name}`);
  lines.push('', 'perf, top symbols:');
  for (const r of rows.slice(0, 15)) lines.push(`  ${r.pct.toFixed(2).padStart(6)} %  ${r.dso.padEnd(18)} ${r.sym.slice(0, 90)}`);
  return lines.join('\n');
}
