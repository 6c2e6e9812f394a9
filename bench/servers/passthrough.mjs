/**
 * The bare Node passthrough: the floor for any Node mTLS proxy. Same TLS settings as the gateway
 * (requestCert, rejectUnauthorized, the client CA, renegotiation refused), no parsing: it reads
 * the body, forwards it to the internal service over a keep-alive agent, and relays the answer.
 *
 * argv[2]: JSON { cert, key, ca (file paths), upstreamPort, maxRequestsPerSocket, keepAliveTimeoutMs, maxBodyBytes }
 */
import { constants } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

const opts = JSON.parse(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 32, scheduling: 'lifo' });

const server = https.createServer({
  cert: readFileSync(opts.cert),
  key: readFileSync(opts.key),
  ca: readFileSync(opts.ca),
  requestCert: true,
  rejectUnauthorized: true,
  minVersion: 'TLSv1.2',
  secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
  noDelay: true,
}, (req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > opts.maxBodyBytes) { res.writeHead(413).end(); req.destroy(); return; }
    chunks.push(c);
  });
  req.on('end', () => {
    const body = Buffer.concat(chunks, size);
    const up = http.request({
      host: '127.0.0.1', port: opts.upstreamPort, path: req.url, method: 'POST', agent,
      headers: { 'Content-Type': req.headers['content-type'] ?? 'text/xml', 'Content-Length': body.length, SOAPAction: '""' },
    }, (answer) => {
      const parts = [];
      answer.on('data', (c) => parts.push(c));
      answer.on('end', () => {
        const out = Buffer.concat(parts);
        res.writeHead(answer.statusCode ?? 502, { 'Content-Type': answer.headers['content-type'] ?? 'text/xml', 'Content-Length': out.length }).end(out);
      });
    });
    up.on('error', () => { if (!res.headersSent) res.writeHead(502).end(); });
    up.end(body);
  });
});
server.keepAliveTimeout = opts.keepAliveTimeoutMs;
server.maxRequestsPerSocket = opts.maxRequestsPerSocket;
server.on('tlsClientError', (_e, socket) => socket.destroy());
server.listen(0, '127.0.0.1', () => process.send?.({ type: 'ready', port: server.address().port }));
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
