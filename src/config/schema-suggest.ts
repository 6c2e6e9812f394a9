/**
 * Did-you-mean for configuration keys (STYLE.md habit 2: a renamed key says what to use
 * instead): names people reach for, then near misses by edit distance, then unique prefixes.
 */

/** Names people reach for, lower-cased, mapped to the key to use instead. */
const ALIASES: Readonly<Record<string, string>> = {
  address: 'host', bind: 'host', hostname: 'host',
  ca: 'clientCa', cafile: 'clientCa', clientcas: 'clientCa', clientcabundle: 'clientCa',
  clientcert: 'clientCertificates', clientcerts: 'clientCertificates', pins: 'clientCertificates',
  pinnedcertificates: 'clientCertificates', clientpins: 'clientCertificates',
  subjects: 'clientSubjects', allowedsubjects: 'clientSubjects',
  certificate: 'cert', certfile: 'cert', key_file: 'key', keyfile: 'key', privatekey: 'key',
  minimumversion: 'minVersion', mintlsversion: 'minVersion',
  allowedips: 'allowlist', ipallowlist: 'allowlist', whitelist: 'allowlist', ips: 'cidrs',
  orgs: 'organizations', organisations: 'organizations', organizationids: 'organizations', orgids: 'organizations',
  hosts: 'salesforceHosts', allowedhosts: 'salesforceHosts',
  route: 'routes', url: 'target', upstream: 'target', timeout: 'timeoutMs',
  actions: 'actionIds', objects: 'objectTypes', sobjects: 'objectTypes',
  maxbodysize: 'maxBodyBytes', bodylimit: 'maxBodyBytes', pidfile: 'pidFile', loglevel: 'level',
};

/** Optimal string alignment distance (Levenshtein with adjacent transpositions). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known key a mistyped or renamed key most likely meant, or null. */
export function suggestKey(key: string, known: readonly string[]): string | null {
  const lower = key.toLowerCase();
  const sameCase = known.find((k) => k.toLowerCase() === lower);
  if (sameCase) return sameCase;
  const alias = ALIASES[lower];
  if (alias && known.includes(alias)) return alias;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of known) {
    const distance = editDistance(lower, k.toLowerCase());
    const allowed = k.length >= 10 ? 3 : k.length >= 5 ? 2 : 1;
    if (distance <= allowed && distance < bestDistance) {
      best = k;
      bestDistance = distance;
    }
  }
  if (best) return best;
  // A key that is a prefix of a known one, e.g. `clientCert` for `clientCertificates`.
  const prefixed = known.filter((k) => lower.length >= 4 && k.toLowerCase().startsWith(lower));
  return prefixed.length === 1 ? prefixed[0]! : null;
}
