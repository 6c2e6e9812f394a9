/**
 * nginx as the mTLS reverse proxy to compare with: its own configuration and prefix in a temp
 * dir, loopback only, one worker, `daemon off` (the spawned process is the master; its worker is
 * found through /proc and counted with it). Settings match the gateway's where they exist: TLS
 * 1.2+, client certificate required and verified against the CA, the keep-alive idle timeout
 * and requests per connection the bench gives every server, a keep-alive pool to the internal
 * service, no access log (the gateway logs nothing at 'warn' for an acknowledged message).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The nginx binary, or null when it is not installed. */
export function findNginx() {
  for (const candidate of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore', timeout: 5000 });
      return candidate;
    } catch { /* next */ }
  }
  try {
    const path = execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8', timeout: 5000 }).trim();
    return path || null;
  } catch {
    return null;
  }
}

export function nginxVersion(bin) {
  // `nginx -v` prints to stderr.
  const r = spawnSync(bin, ['-v'], { encoding: 'utf8', timeout: 5000 });
  return `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().replace(/^nginx version:\s*/, '') || 'unknown';
}

/**
 * Writes `prefix/nginx.conf`. The prefix must be traversable by the worker user (nobody when the
 * master runs as root): nginx creates its temp paths itself and gives them to that user.
 */
export async function writeNginxConfig(prefix, o) {
  await mkdir(prefix, { recursive: true });
  await chmod(prefix, 0o755);
  const conf = `
worker_processes 1;
daemon off;
master_process on;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} warn;
worker_rlimit_nofile 8192;
events { worker_connections 4096; multi_accept off; }
http {
  access_log off;
  client_body_temp_path ${join(prefix, 'client_body')};
  proxy_temp_path ${join(prefix, 'proxy')};
  fastcgi_temp_path ${join(prefix, 'fastcgi')};
  uwsgi_temp_path ${join(prefix, 'uwsgi')};
  scgi_temp_path ${join(prefix, 'scgi')};
  # Bodies up to 128 KiB (the 100-notification message is 75 kB) stay in memory; larger ones
  # (the 5 MB messages) go to a temp file, nginx's design.
  client_body_buffer_size 128k;
  client_max_body_size ${o.maxBodyBytes};
  keepalive_timeout ${Math.round(o.keepAliveTimeoutMs / 1000)}s;
  keepalive_requests ${o.maxRequestsPerSocket};
  upstream internal {
    server 127.0.0.1:${o.upstreamPort};
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${o.port} ssl;
    ssl_certificate ${o.certPath};
    ssl_certificate_key ${o.keyPath};
    ssl_client_certificate ${o.caPath};
    ssl_verify_client on;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      proxy_pass http://internal;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
  const path = join(prefix, 'nginx.conf');
  await writeFile(path, conf);
  return path;
}
