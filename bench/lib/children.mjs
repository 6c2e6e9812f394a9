/**
 * Every process the bench starts goes through here, so that every one of them is stopped at the
 * end: on success, on an error, on SIGINT/SIGTERM, and (synchronously, with SIGKILL) on exit.
 * Processes are stopped by their own pid (and, for nginx, the pids of its process tree read
 * from /proc), never by name.
 */
import { spawn } from 'node:child_process';
import { descendants } from './proc.mjs';

/** @type {Set<import('node:child_process').ChildProcess>} */
const live = new Set();
let handlersInstalled = false;
let interruptedBy = null;

/** The signal that interrupted the run, or null. */
export function interrupted() {
  return interruptedBy;
}

function installHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const child of live) killTree(child.pid, 'SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      interruptedBy = signal;
      process.stderr.write(`\nbench: ${signal}, stopping ${live.size} child process(es)\n`);
      for (const child of live) killTree(child.pid, 'SIGTERM');
      setTimeout(() => process.exit(130), 1500).unref();
    });
  }
}

/** Sends `signal` to `pid` and to every process below it (children first). Errors are ignored. */
export function killTree(pid, signal) {
  if (!pid) return;
  let below = [];
  try { below = descendants(pid); } catch { /* /proc unreadable: the root alone */ }
  for (const p of [...below].reverse()) {
    try { process.kill(p, signal); } catch { /* already gone */ }
  }
  try { process.kill(pid, signal); } catch { /* already gone */ }
}

/**
 * Spawns `command args`, pinned to `core` with taskset when given, and registers it.
 * `ipc: true` opens an IPC channel (node scripts only).
 */
export function start(command, args, { core = null, ipc = false, env = process.env, cwd, stdio } = {}) {
  installHandlers();
  const argv = core === null ? [command, ...args] : ['taskset', '-c', String(core), command, ...args];
  const child = spawn(argv[0], argv.slice(1), {
    cwd,
    env,
    stdio: stdio ?? (ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe']),
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  // Keep the last lines of output for error messages; never let a full pipe block the child.
  child.tail = [];
  const keep = (chunk) => {
    for (const line of String(chunk).split('\n')) {
      if (line.trim() === '') continue;
      child.tail.push(line);
      if (child.tail.length > 40) child.tail.shift();
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return child;
}

/** Resolves when the child exits; after `graceMs` SIGKILLs it and its tree. */
export function stop(child, signal = 'SIGTERM', graceMs = 3000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      killTree(child.pid, 'SIGKILL');
      setTimeout(resolve, 200);
    }, graceMs);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    killTree(child.pid, signal);
  });
}

/** Stops every registered child still running. */
export async function stopAll() {
  await Promise.all([...live].map((c) => stop(c)));
}

/** Waits for the first IPC message matching `predicate`, or rejects after `timeoutMs`. */
export function nextMessage(child, predicate, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const onMessage = (m) => {
      if (!predicate(m)) return;
      cleanup();
      resolve(m);
    };
    const onExit = (code, sig) => {
      cleanup();
      reject(new Error(`${what}: process exited (${code ?? sig}) before answering\n  ${child.tail.slice(-10).join('\n  ')}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no answer within ${timeoutMs} ms\n  ${child.tail.slice(-10).join('\n  ')}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Sends `message` and waits for the answer of type `${message.type}:done`. */
export async function ask(child, message, timeoutMs, what) {
  const answer = nextMessage(child, (m) => m && m.type === `${message.type}:done`, timeoutMs, what);
  child.send(message);
  return answer;
}
