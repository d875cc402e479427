import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, startProcess, type RunningSystem } from './system.ts';

export const NGINX_BIN = '/usr/sbin/nginx';
/** The path nginx serves the blob file at. */
export const NGINX_BLOB_PATH = '/blob';

/**
 * nginx serving the blob file as a static file: the ceiling for a blob download on this machine. Runs
 * unprivileged in the foreground with every path (pid, logs, temp dirs) inside `workDir`.
 */
export async function startNginx(workDir: string, blobDir: string): Promise<RunningSystem> {
  const port = await freePort();
  const prefix = join(workDir, 'nginx');
  await mkdir(join(prefix, 'temp'), { recursive: true });
  const config = join(prefix, 'nginx.conf');
  const temp = (name: string): string => `  ${name}_temp_path ${join(prefix, 'temp', name)};`;
  await writeFile(
    config,
    [
      'daemon off;',
      'worker_processes auto;',
      `pid ${join(prefix, 'nginx.pid')};`,
      `error_log ${join(prefix, 'error.log')} warn;`,
      'events { worker_connections 256; }',
      'http {',
      '  access_log off;',
      '  sendfile on;',
      '  tcp_nopush on;',
      '  default_type application/octet-stream;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp),
      '  server {',
      `    listen 127.0.0.1:${port};`,
      `    root ${blobDir};`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  // `-e` keeps nginx from opening the packaged /var/log/nginx/error.log before it reads our config.
  return startProcess('nginx', NGINX_BIN, ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', config], {
    workDir,
    port,
    probePath: '/',
  });
}
