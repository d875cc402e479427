import { encodeRequest, RawConnection } from './raw-connection.ts';

/** Socket reads of 1 MiB keep the per-read overhead of a large body negligible. */
const READ_BUFFER = 1024 * 1024;

/**
 * One blob download with the in-process client (`blob-pull.ts`), on a connection of its own: the body is
 * counted in a reused read buffer, never kept. With `follow`, a `307` is followed once, as a registry client
 * follows a presigned redirect: its `Location` is fetched on a new connection, and the whole time (registry
 * answer included) is the download's. Throws unless the final answer is `200` with `size` bytes.
 */
export async function downloadBlob(url: URL, size: number, follow = false): Promise<void> {
  const head = await getOnce(url);
  if (follow) {
    if (head.status !== 307 || head.location === undefined) throw new Error(`GET ${url.pathname}: expected a 307 redirect, got ${head.status}`);
    const target = new URL(head.location, url);
    const final = await getOnce(target);
    if (final.status !== 200 || final.contentLength !== size) {
      throw new Error(`GET ${target.host}${target.pathname} (redirected): expected 200 with ${size} bytes, got ${final.status} with length ${final.contentLength}`);
    }
    return;
  }
  if (head.status !== 200 || head.contentLength !== size) {
    throw new Error(`GET ${url.host}${url.pathname}: expected 200 with ${size} bytes, got ${head.status} with length ${head.contentLength}`);
  }
}

async function getOnce(url: URL): Promise<{ status: number; contentLength: number | undefined; location: string | undefined }> {
  if (url.protocol !== 'http:' || url.hostname !== '127.0.0.1') throw new Error(`benchmark traffic stays on http://127.0.0.1, not ${url.origin}`);
  const connection = await RawConnection.open(url.hostname, Number(url.port), READ_BUFFER);
  try {
    return await connection.send('GET', encodeRequest('GET', url.host, url.pathname + url.search, {}));
  } finally {
    connection.close();
  }
}
