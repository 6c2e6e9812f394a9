/**
 * The demo internal service `npm start` runs when no configuration is given: it prints what the
 * gateway forwarded (the sanitized copy, never what Salesforce sent) and acknowledges it.
 * For trying the gateway out; a real deployment points routes at its own services.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const ACK = '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">' +
  '<soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack>' +
  '</notificationsResponse></soapenv:Body></soapenv:Envelope>';

export interface DemoUpstream {
  readonly port: number;
  close(): Promise<void>;
}

export async function startDemoUpstream(print: (line: string) => void): Promise<DemoUpstream> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      print(`\n[demo internal service] ${req.method} ${req.url} (${req.headers['content-type']}), X-Request-Id ${req.headers['x-request-id']}:\n${body}\n`);
      if ((req.headers['content-type'] ?? '').startsWith('application/json')) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ack":true}');
      } else {
        res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' }).end(ACK);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
