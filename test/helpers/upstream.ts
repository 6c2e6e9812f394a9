/**
 * A real internal HTTP service on 127.0.0.1:0 that records what it receives. Its behaviour is
 * switchable per test: ack, nack, status, garbage, slow, reset, redirect, oversized.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export type UpstreamBehaviour =
  | { kind: 'ack' }
  | { kind: 'nack' }
  | { kind: 'status'; status: number; body?: string; contentType?: string; headers?: Record<string, string> }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'trickle'; intervalMs: number }
  | { kind: 'custom'; handle: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void };

export const SOAP_ACK = (ack: boolean): string =>
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">' +
  `<soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>${ack}</Ack>` +
  '</notificationsResponse></soapenv:Body></soapenv:Envelope>';

export interface FakeUpstream {
  readonly port: number;
  readonly url: (path: string) => string;
  readonly received: Received[];
  behaviour: UpstreamBehaviour;
  /** Format of the positive answer for `ack`/`nack`: SOAP envelope or `{"ack": …}`. */
  format: 'soap' | 'json';
  close(): Promise<void>;
}

export async function fakeUpstream(): Promise<FakeUpstream> {
  const sockets = new Set<Socket>();
  const state: FakeUpstream = {
    port: 0,
    url: (path) => `http://127.0.0.1:${state.port}${path}`,
    received: [],
    behaviour: { kind: 'ack' },
    format: 'soap',
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      state.received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const b = state.behaviour;
      const positive = (ack: boolean): void => {
        if (state.format === 'soap') {
          res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' }).end(SOAP_ACK(ack));
        } else {
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ack }));
        }
      };
      switch (b.kind) {
        case 'ack': return positive(true);
        case 'nack': return positive(false);
        case 'status':
          res.writeHead(b.status, { 'Content-Type': b.contentType ?? 'text/plain', ...b.headers }).end(b.body ?? '');
          return;
        case 'hang': return;
        case 'reset': req.socket.destroy(); return;
        case 'trickle': {
          res.writeHead(200, { 'Content-Type': 'text/xml' });
          const text = SOAP_ACK(true);
          let i = 0;
          const t = setInterval(() => {
            if (i >= text.length || res.destroyed) { clearInterval(t); res.end(); return; }
            res.write(text[i++]);
          }, b.intervalMs);
          res.on('close', () => clearInterval(t));
          return;
        }
        case 'custom': return b.handle(req, res, body);
      }
    });
  });
  server.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  (state as { port: number }).port = (server.address() as AddressInfo).port;
  return state;
}
