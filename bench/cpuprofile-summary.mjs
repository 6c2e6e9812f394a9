/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per area, busy time
 * only ((idle) is reported apart). Self time comes from the sample time deltas, not hit counts,
 * so a sampling interval that drifted under load is still weighted right. Only the samples from
 * the first to the last one inside the gateway's request pipeline (dist/pipeline/) count: the
 * process start (module loading, config, certificates) and its shutdown are left out.
 *
 * node bench/cpuprofile-summary.mjs FILE.cpuprofile [--top N] [--json]
 */
import { readFileSync } from 'node:fs';

/** Where a function's time goes, by file. The order matters: first match wins. */
const AREAS = [
  [(f) => f.functionName === '(garbage collector)', 'GC'],
  [(f) => f.functionName === '(program)', '(program): native code outside JS frames'],
  [(f) => f.url.includes('pino') || f.url.includes('sonic-boom'), 'pino (logging)'],
  [(f) => /node:(internal\/)?(_)?tls|internal\/tls|_tls_/.test(f.url), 'Node TLS (JS side)'],
  [(f) => /node:(internal\/)?(_)?http|_http_|internal\/http/.test(f.url), 'Node HTTP (JS side)'],
  [(f) => /node:(internal\/)?(net|stream|streams)|internal\/streams|node:net/.test(f.url), 'Node net/streams'],
  [(f) => /node:(internal\/)?(events|timers|async_hooks|process\/task_queues)|node:events|node:timers/.test(f.url), 'Node events, timers, promises'],
  [(f) => /crypto/.test(f.url), 'Node crypto (JS side)'],
  [(f) => f.url.startsWith('node:'), 'Node, other internals'],
  [(f) => f.url === '', 'native (V8 builtins, C++ bindings)'],
];

function areaOf(frame) {
  // The gateway's own code, by file: the files change, the grouping follows.
  const own = /\/dist\/(.+)$/.exec(frame.url);
  if (own && !frame.url.includes('node_modules')) return `gateway ${own[1]}`;
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(frame.url);
  if (dependency && !/pino|sonic-boom/.test(dependency[1])) return `dependency ${dependency[1]}`;
  for (const [test, name] of AREAS) if (test(frame)) return name;
  return 'other';
}

export function summarise(profile, top = 25) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Nodes whose stack passes through the request pipeline, memoised up the tree.
  const inPipeline = new Map();
  const isPipeline = (id) => {
    if (inPipeline.has(id)) return inPipeline.get(id);
    const node = byId.get(id);
    const here = node.callFrame.url.includes('/dist/pipeline/') || node.callFrame.url.includes('/dist/gateway.js');
    const result = here || (parent.has(id) ? isPipeline(parent.get(id)) : false);
    inPipeline.set(id, result);
    return result;
  };
  const { samples, timeDeltas } = profile;
  let first = samples.findIndex((id) => isPipeline(id));
  let last = samples.length - 1;
  while (last > 0 && !isPipeline(samples[last])) last--;
  if (first === -1) { first = 0; last = samples.length - 1; }
  const selfUs = new Map();
  let windowUs = 0;
  for (let i = first; i <= last; i++) {
    // timeDeltas[i] is the time before sample i; attribute the next delta to this sample.
    const dt = Math.max(0, timeDeltas[i + 1] ?? 0);
    windowUs += dt;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + dt);
  }
  const functions = new Map();
  const areas = new Map();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id).callFrame;
    if (frame.functionName === '(idle)') { idle += us; continue; }
    busy += us;
    const file = frame.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
    const key = `${frame.functionName || '(anonymous)'}  ${file || '(native)'}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    functions.set(key, (functions.get(key) ?? 0) + us);
    const area = areaOf(frame);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const sortDesc = (m) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    windowMs: windowUs / 1000,
    busyMs: busy / 1000,
    idleMs: idle / 1000,
    areas: sortDesc(areas).map(([name, us]) => ({ name, ms: us / 1000, share: us / busy })),
    functions: sortDesc(functions).slice(0, top).map(([name, us]) => ({ name, ms: us / 1000, share: us / busy })),
  };
}

export function formatSummary(s) {
  const pct = (x) => `${(x * 100).toFixed(1).padStart(5)} %`;
  const lines = [`window ${s.windowMs.toFixed(0)} ms (first to last request): busy ${s.busyMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms (shares below are of busy time)`, '', 'By area:'];
  const small = s.areas.filter((a) => a.share < 0.005);
  for (const a of s.areas) if (a.share >= 0.005) lines.push(`  ${pct(a.share)}  ${a.ms.toFixed(0).padStart(7)} ms  ${a.name}`);
  if (small.length > 0) {
    const ms = small.reduce((t, a) => t + a.ms, 0);
    lines.push(`  ${pct(small.reduce((t, a) => t + a.share, 0))}  ${ms.toFixed(0).padStart(7)} ms  (${small.length} more areas under 0.5 % each)`);
  }
  lines.push('', 'Top functions by self time:');
  for (const f of s.functions) lines.push(`  ${pct(f.share)}  ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/cpuprofile-summary.mjs FILE.cpuprofile [--top N] [--json]');
    process.exit(2);
  }
  const i = process.argv.indexOf('--top');
  const top = i === -1 ? 25 : Number(process.argv[i + 1]);
  const s = summarise(JSON.parse(readFileSync(file, 'utf8')), top);
  console.log(process.argv.includes('--json') ? JSON.stringify(s, null, 2) : formatSummary(s));
}
