/**
 * The internal service: a minimal node:http server on 127.0.0.1 that reads the request body and
 * answers the SOAP Ack. Used as the backend of every proxy, and measured alone as "direct" (the
 * limit). Reports its port over IPC; exits when its parent goes away.
 */
import http from 'node:http';
import { SOAP_ACK } from '../lib/payloads.mjs';

const headers = { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': SOAP_ACK.length };
const server = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => res.writeHead(200, headers).end(SOAP_ACK));
});
// Longer than every proxy's idle upstream connection, so the service never closes a pooled
// connection under a proxy's feet (nginx upstream keepalive_timeout is 60 s).
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.maxRequestsPerSocket = 0;
server.listen(0, '127.0.0.1', () => process.send?.({ type: 'ready', port: server.address().port }));
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
