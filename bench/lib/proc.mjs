/**
 * Reading a server's CPU time and memory from /proc (proc(5)), for its whole process tree: the
 * process itself and every descendant (nginx's master and worker, Node's single process).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Clock ticks per second for the utime/stime fields (sysconf(_SC_CLK_TCK), 100 on Linux). */
export const CLK_TCK = (() => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { return 100; }
})();

/** Fields of /proc/<pid>/stat after the command name, which may itself hold spaces and ')'. */
function statFields(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** pid → ppid for every process (one pass over /proc). */
function parentMap() {
  const map = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try { map.set(Number(name), Number(statFields(name)[1])); } catch { /* exited meanwhile */ }
  }
  return map;
}

/** Every descendant pid of `root` (not `root` itself), parents before children. */
export function descendants(root) {
  const parents = parentMap();
  const out = [];
  let frontier = [root];
  // Bounded: a process tree deeper than 16 levels is not one the bench started.
  for (let depth = 0; depth < 16 && frontier.length > 0; depth++) {
    const next = [];
    for (const [pid, ppid] of parents) if (frontier.includes(ppid)) next.push(pid);
    out.push(...next);
    frontier = next;
  }
  return out;
}

/** `root` and its descendants: resolve once per measurement, then sample cheaply. */
export function treePids(root) {
  return [root, ...descendants(root)];
}

/**
 * CPU seconds (user + system) used so far by the processes in `pids`, including their
 * already-reaped children (cutime/cstime). proc(5): fields 14–17, in clock ticks.
 */
export function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = statFields(pid);
      // f[0] is field 3 (state): utime = field 14 → f[11], stime f[12], cutime f[13], cstime f[14].
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch { /* exited meanwhile */ }
  }
  return ticks / CLK_TCK;
}

function statusKb(pid, key) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** Resident set size now, summed over `pids` (bytes). */
export function rssBytes(pids) {
  let kb = 0;
  for (const pid of pids) {
    try { kb += statusKb(pid, 'VmRSS'); } catch { /* exited meanwhile */ }
  }
  return kb * 1024;
}

/** Peak resident set size since each process started (VmHWM), summed over `pids` (bytes). */
export function peakRssBytes(pids) {
  let kb = 0;
  for (const pid of pids) {
    try { kb += statusKb(pid, 'VmHWM'); } catch { /* exited meanwhile */ }
  }
  return kb * 1024;
}

/**
 * Busy CPU seconds of the whole machine so far, all cores (proc(5) /proc/stat "cpu" line: user,
 * nice, system, irq, softirq, steal). With the bench's own processes subtracted, what remains
 * is other work on the machine during a measurement: the noise figure.
 */
export function machineBusySeconds() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const [user, nice, system, _idle, _iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}
