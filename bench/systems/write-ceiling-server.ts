import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';

/**
 * The least a server must do to take a blob push: receive the body, hash it with SHA-256 and write it to a new
 * file. Nothing else (no sessions, no rename, no metadata), so its rate is this machine's ceiling for a push on
 * this filesystem (`write-ceiling.ts`). Usage: `node write-ceiling-server.ts <dir> <port>`.
 */
const [dir, port] = process.argv.slice(2);
if (dir === undefined || port === undefined) throw new Error('usage: write-ceiling-server.ts <dir> <port>');
/** Received bytes not yet written beyond which the socket is paused (the body arrives in 64 KiB reads). */
const PENDING_LIMIT = 4 * 1024 * 1024;
let files = 0;

/**
 * Hashes each chunk as it arrives and writes whatever arrived during the previous write in one `writev`, so the
 * disk and the socket work at the same time; the fastest simple way to do it in Node, and how the registry's
 * append sink works too.
 */
async function receive(req: IncomingMessage, path: string): Promise<string> {
  const hash = createHash('sha256');
  const file = await open(path, 'wx');
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let writing: Promise<void> | undefined;
  let failed: Error | undefined;
  const drain = async (): Promise<void> => {
    while (pending.length > 0 && failed === undefined) {
      const batch = pending;
      pending = [];
      pendingBytes = 0;
      if (req.isPaused()) req.resume();
      await file.writev(batch).catch((error: Error) => (failed = error));
    }
    writing = undefined;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      req.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes > PENDING_LIMIT) req.pause();
        writing ??= drain();
      });
      req.once('end', resolve);
      req.once('error', reject);
    });
    while (writing !== undefined) await writing;
    if (failed) throw failed;
  } finally {
    await file.close();
  }
  return `sha256:${hash.digest('hex')}`;
}

createServer((req, res) => {
  if (req.method !== 'PUT') {
    res.writeHead(200, { 'content-length': 0 }).end();
    return;
  }
  const expected = new URL(req.url ?? '/', 'http://localhost').searchParams.get('digest');
  receive(req, join(dir, `blob-${++files}`)).then(
    (digest) => res.writeHead(digest === expected ? 201 : 400, { 'content-length': 0, 'docker-content-digest': digest }).end(),
    (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(error.message),
  );
}).listen(Number(port), '127.0.0.1');
