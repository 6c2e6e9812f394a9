/**
 * Load client for test/load: runs in its own process, so that its TLS and socket work neither
 * shows in the gateway's memory nor pauses the gateway's event loop (both are measured in the
 * test process, where the gateway runs).
 *
 * Input (argv[2], JSON): { port, ca, cert, key, bodyFile, path, connections: [{ localAddress }],
 * holdMs?, timeoutMs? }. Every connection sends one POST with the body at the same time
 * (after all have tried to connect), then waits for the answer or the close.
 * Output (stdout, JSON): one result per connection: { localAddress, outcome: 'answer' | 'closed',
 * status?, code?, ms, error? }.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

const input = JSON.parse(process.argv[2]);
const body = readFileSync(input.bodyFile);
const head = Buffer.from(`POST ${input.path} HTTP/1.1\r\nHost: gateway.test\r\nContent-Type: text/xml; charset=utf-8\r\n`
  + `SOAPAction: ""\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);

function connect(localAddress) {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1', port: input.port, localAddress, servername: 'localhost',
      ca: input.ca, cert: input.cert, key: input.key,
    });
    socket.once('secureConnect', () => resolve({ socket }));
    socket.once('error', (err) => resolve({ error: err.code ?? err.message }));
    socket.once('close', () => resolve({ error: 'closed' }));
  });
}

function exchange(socket) {
  return new Promise((resolve) => {
    const chunks = [];
    const started = performance.now();
    const timer = setTimeout(() => socket.destroy(), input.timeoutMs ?? 30_000);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      const code = /<faultstring>(GW_ERR_[A-Z_]+):/.exec(text)?.[1];
      const ack = /<Ack>(true|false)<\/Ack>/.exec(text)?.[1];
      resolve({ outcome: status ? 'answer' : 'closed', status: status ? Number(status) : undefined, code, ack, ms: performance.now() - started });
    });
    // No half-close: Node aborts a request whose client ends its side (Connection: close makes
    // the gateway close after the answer instead).
    socket.write(head);
    socket.write(body);
  });
}

const sockets = await Promise.all(input.connections.map((c) => connect(c.localAddress)));
if (input.holdMs) await new Promise((r) => setTimeout(r, input.holdMs));
const results = await Promise.all(sockets.map(async (s, i) => {
  const { localAddress } = input.connections[i];
  if (!s.socket) return { localAddress, outcome: 'closed', error: s.error, ms: 0 };
  return { localAddress, ...(await exchange(s.socket)) };
}));
process.stdout.write(JSON.stringify(results));
