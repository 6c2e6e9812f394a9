/** The admin listener on a real socket (127.0.0.1:0): routes, status codes and headers. */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdmin, type AdminServer } from '../../../src/admin/server.js';
import { GatewayEvents } from '../../../src/observability/events.js';
import { createMetrics, type GatewayMetrics } from '../../../src/observability/metrics.js';

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

function request(port: number, path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startAdmin', () => {
  let admin: AdminServer;
  let metrics: GatewayMetrics;
  let ready = true;

  beforeAll(async () => {
    const events = new GatewayEvents();
    metrics = createMetrics(events, { routes: () => [{ path: '/outbound/contact' }] });
    events.emit('connectionRefused', { reason: 'allowlist', remoteAddress: '192.0.2.1' });
    admin = await startAdmin({ host: '127.0.0.1', port: 0, ready: () => ready, metrics });
  });
  afterAll(async () => {
    await admin.close();
    metrics.close();
  });

  it('answers /healthz with 200 while the process serves', async () => {
    const a = await request(admin.port, '/healthz');
    expect(a.status).toBe(200);
    expect(a.body).toBe('ok\n');
  });

  it('answers /readyz 200 when ready and 503 when not', async () => {
    ready = true;
    expect((await request(admin.port, '/readyz')).status).toBe(200);
    ready = false;
    const a = await request(admin.port, '/readyz');
    expect(a.status).toBe(503);
    expect(a.body).toBe('not ready\n');
    ready = true;
  });

  it('serves /metrics in the Prometheus text format', async () => {
    const a = await request(admin.port, '/metrics');
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe(metrics.contentType);
    expect(a.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(a.body).toContain('# TYPE sfom_requests_total counter');
    expect(a.body).toContain('sfom_connections_refused_total{reason="allowlist"} 1');
    expect(a.body).toContain('process_cpu_user_seconds_total');
  });

  it('puts helmet security headers and Cache-Control: no-store on every answer', async () => {
    for (const [path, method] of [['/healthz', 'GET'], ['/metrics', 'GET'], ['/nope', 'GET'], ['/healthz', 'POST']] as const) {
      const a = await request(admin.port, path, method);
      expect(a.headers['x-content-type-options']).toBe('nosniff');
      expect(a.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(a.headers['content-security-policy']).toContain("default-src 'self'");
      expect(a.headers['cache-control']).toBe('no-store');
      expect(a.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('answers 404 for any other path, and ignores the query string', async () => {
    expect((await request(admin.port, '/')).status).toBe(404);
    expect((await request(admin.port, '/metrics/')).status).toBe(404);
    expect((await request(admin.port, '/healthz/../metrics')).status).toBe(404);
    expect((await request(admin.port, '/healthz?verbose=1')).status).toBe(200);
  });

  it('answers 405 with Allow: GET for other methods', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'HEAD']) {
      const a = await request(admin.port, '/metrics', method);
      expect(a.status).toBe(405);
      expect(a.headers.allow).toBe('GET');
    }
  });

  it('answers 500 without details when a collector fails', async () => {
    const broken = await startAdmin({
      host: '127.0.0.1', port: 0, ready: () => true,
      metrics: { contentType: 'text/plain', metrics: () => Promise.reject(new Error('/secret/path failed')) },
    });
    const a = await request(broken.port, '/metrics');
    expect(a.status).toBe(500);
    expect(a.body).toBe('internal error\n');
    await broken.close();
  });

  it('closes with keep-alive connections still open', async () => {
    const other = await startAdmin({ host: '127.0.0.1', port: 0, ready: () => true, metrics });
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: other.port, path: '/healthz', agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
    });
    await other.close();
    agent.destroy();
    await expect(request(other.port, '/healthz')).rejects.toThrow();
  });
});
