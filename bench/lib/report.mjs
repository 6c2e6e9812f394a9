/**
 * The final table and the issue's goals, from the figures run.mjs collected.
 */

/**
 * More other work on the machine than this (in cores) during a measurement marks the goal's
 * status with '*': repeat on a quiet machine before relying on it.
 */
export const NOISY_CORES = 0.25;

/** Bound the bench applies to "peak RSS bounded" (the issue gives no number): 512 MiB. */
export const RSS_BOUND_BYTES = 512 * 2 ** 20;

const fmt = (v, digits = 0) => (v == null || Number.isNaN(v) ? '-' : v.toFixed(digits));
const mib = (b) => (b == null ? '-' : (b / 2 ** 20).toFixed(0));

function findCell(results, server, cert, mode, n) {
  return results.cells.find((c) => c.server === server && c.cert === cert && c.mode === mode && c.notifications === n);
}

function cpuRatio(a, b) {
  return a?.cpuPerReqUs && b?.cpuPerReqUs ? a.cpuPerReqUs / b.cpuPerReqUs : null;
}

/** gateway/nginx and gateway/passthrough CPU-per-request ratios for a gateway cell. */
export function ratios(results, cell) {
  if (cell.server !== 'gateway') return { vsNginx: null, vsPassthrough: null };
  return {
    vsNginx: cpuRatio(cell, findCell(results, 'nginx', cell.cert, cell.mode, cell.notifications)),
    vsPassthrough: cpuRatio(cell, findCell(results, 'passthrough', cell.cert, cell.mode, cell.notifications)),
  };
}

function goal(id, text, measured, limit, unit, detail, sources = []) {
  const status = measured == null ? 'not measured' : measured <= limit ? 'met' : 'not met';
  const noise = Math.max(0, ...sources.filter(Boolean).map((s) => s.otherCpuUtil ?? 0));
  return { id, goal: text, measured, limit, unit, status, noisy: noise > NOISY_CORES, otherCores: noise, detail };
}

export function evaluateGoals(results) {
  const goals = [];
  for (const cert of ['rsa', 'ecdsa']) {
    const gw = findCell(results, 'gateway', cert, 'new-connection', 1);
    const ng = findCell(results, 'nginx', cert, 'new-connection', 1);
    goals.push(goal(`handshake-${cert}`, `full TLS 1.3 mTLS handshake per request, ${cert.toUpperCase()}: gateway CPU/req ≤ 1.1× nginx`,
      cpuRatio(gw, ng), 1.1, '×', `${fmt(gw?.cpuPerReqUs)} vs ${fmt(ng?.cpuPerReqUs)} µs/req`, [gw, ng]));
  }
  for (const [n, limit] of [[1, 1.5], [100, 3]]) {
    for (const cert of ['rsa', 'ecdsa']) {
      const gw = findCell(results, 'gateway', cert, 'keep-alive', n);
      const pt = findCell(results, 'passthrough', cert, 'keep-alive', n);
      goals.push(goal(`keepalive-${n}-${cert}`, `keep-alive, ${n} notification${n > 1 ? 's' : ''}, ${cert.toUpperCase()}: gateway CPU/req ≤ ${limit}× passthrough`,
        cpuRatio(gw, pt), limit, '×', `${fmt(gw?.cpuPerReqUs)} vs ${fmt(pt?.cpuPerReqUs)} µs/req`, [gw, pt]));
    }
  }
  const pacedGw = results.paced.find((p) => p.server === 'gateway');
  const pacedDirect = results.paced.find((p) => p.server === 'direct');
  const added = pacedGw?.p99Ms != null && pacedDirect?.p99Ms != null ? pacedGw.p99Ms - pacedDirect.p99Ms : null;
  goals.push(goal('paced-p99', 'paced 200 msg/s × 100 notifications: p99 latency added over direct ≤ 2 ms', added, 2, 'ms',
    `p99 ${fmt(pacedGw?.p99Ms, 2)} vs ${fmt(pacedDirect?.p99Ms, 2)} ms`, [pacedGw, pacedDirect]));
  const worst = results.eventLoop.length > 0 ? Math.max(...results.eventLoop.map((e) => e.worstPauseMs ?? 0)) : null;
  goals.push(goal('event-loop-5mb', 'worst event-loop pause handling a 5 MB message ≤ 50 ms', worst, 50, 'ms',
    results.eventLoop.map((e) => `${e.variant} ${fmt(e.worstPauseMs, 0)} ms`).join(', '), results.eventLoop));
  const mem = results.connections.find((c) => c.server === 'gateway');
  goals.push(goal('rss-1000-connections', `peak RSS with ${mem?.idleOpen ?? 1000} open connections + 16 maximum-size bodies bounded (bench bound: ${mib(RSS_BOUND_BYTES)} MiB)`,
    mem ? mem.hwmBytes / 2 ** 20 : null, RSS_BOUND_BYTES / 2 ** 20, 'MiB',
    mem ? `start ${mib(mem.baselineRssBytes)} MiB, idle connections ${mib(mem.idleRssBytes)} MiB, peak ${mib(mem.hwmBytes)} MiB; bodies acked ${mem.ok}/16` : ''));
  return goals;
}

function table(headers, rows, align) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => (align[i] === 'l' ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (align[i] === 'l' ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

export function formatReport(results) {
  const out = [];
  const m = results.meta;
  out.push(`Results — ${m.date}, ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.nginx ?? 'no nginx'}, commit ${m.commit}`);
  out.push(`window ${m.durationMs} ms after ${m.warmupMs} ms warm-up, ${m.concurrency} connections; server on core ${m.serverCore}, load on core ${m.loadCore}\n`);
  const rows = results.cells.map((c) => {
    const r = ratios(results, c);
    return [c.server, c.cert, c.mode, c.notifications, fmt(c.reqPerSec), fmt(c.notificationsPerSec), fmt(c.p50Ms, 2), fmt(c.p99Ms, 2),
      fmt(c.cpuPerReqUs), fmt(c.serverCpuUtil * 100), mib(c.peakRssBytes), fmt(r.vsNginx, 2), fmt(r.vsPassthrough, 2), c.errors, fmt(c.otherCpuUtil, 2)];
  });
  out.push(table(['server', 'cert', 'mode', 'notif', 'req/s', 'notif/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'server CPU %', 'peak RSS MiB',
    'gw/nginx', 'gw/pass', 'errors', 'other cores'], rows, ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']));
  if (results.paced.length > 0) {
    const direct = results.paced.find((p) => p.server === 'direct');
    out.push(`\nPaced: ${results.paced[0].rate} messages/s of 100 notifications, keep-alive (RSA), latency from the scheduled send time`);
    out.push(table(['server', 'p50 ms', 'p99 ms', 'p99 added over direct ms', 'CPU µs/msg', 'errors'],
      results.paced.map((p) => [p.server, fmt(p.p50Ms, 2), fmt(p.p99Ms, 2), p.server === 'direct' ? '-' : fmt(p.p99Ms - (direct?.p99Ms ?? NaN), 2),
        fmt(p.cpuPerReqUs), p.errors + (p.dropped ?? 0)]), ['l', 'r', 'r', 'r', 'r', 'r']));
  }
  if (results.eventLoop.length > 0) {
    out.push('\nGateway event loop, maximum-size messages sent one at a time (monitorEventLoopDelay, 1 ms resolution, in the gateway process)');
    out.push(table(['message', 'MB', 'worst pause ms', 'request latency ms', 'acked'],
      results.eventLoop.map((e) => [e.variant, fmt(e.bytes / 1e6, 2), fmt(e.worstPauseMs, 1), e.latenciesMs.map((x) => fmt(x)).join(', '), `${e.ok}/${e.messages}`]),
      ['l', 'r', 'r', 'r', 'r']));
  }
  if (results.connections.length > 0) {
    out.push('\nMemory: open keep-alive connections, then 16 concurrent max-fields bodies (RSS of the process tree)');
    out.push(table(['server', 'RSS at start MiB', 'open connections', 'RSS idle MiB', 'peak RSS MiB', 'bodies acked', 'seconds'],
      results.connections.map((c) => [c.server, mib(c.baselineRssBytes), c.idleOpen, mib(c.idleRssBytes), mib(c.hwmBytes), `${c.ok}/16`, fmt(c.busySeconds, 1)]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r']));
  }
  if (results.xmlParsers) {
    out.push('\nXML parsers (bench/xml-parsers.mjs)');
    out.push(results.xmlParsers.table);
  }
  out.push('\nGoals');
  out.push(table(['goal', 'measured', 'limit', 'status', 'detail'],
    results.goals.map((g) => [g.goal, g.measured == null ? '-' : `${fmt(g.measured, 2)} ${g.unit}`, `${g.limit} ${g.unit}`,
      `${g.status}${g.noisy ? '*' : ''}`, g.detail]),
    ['l', 'r', 'r', 'l', 'l']));
  if (results.goals.some((g) => g.noisy)) {
    out.push(`* measured while other work on the machine used more than ${NOISY_CORES} cores (see "other cores"): repeat on a quiet machine before relying on it`);
  }
  for (const note of results.notes) out.push(`\nNOTE: ${note}`);
  return out.join('\n');
}
