// Test support: a real s3rver on a loopback port, plus the S3 operations s3rver 3.7.1 lacks.
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3StoreOptions } from './s3-options.ts';

interface S3rverObject {
  key: string;
  size: number;
  metadata: Record<string, string>;
}

interface S3rverStore {
  listObjects(bucket: string, options: { prefix?: string; delimiter?: string; startAfter?: string; maxKeys?: number }): Promise<{
    objects: S3rverObject[];
    commonPrefixes: string[];
  }>;
  existsObject(bucket: string, key: string): Promise<boolean>;
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
}

interface S3rverInstance {
  store: S3rverStore;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  configureBuckets(): Promise<void>;
}

type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;

export interface FixtureOptions {
  /** Answer `If-None-Match: *` on PutObject as S3 does; off, the server ignores it as s3rver does. */
  conditionalPut?: boolean;
}

/**
 * s3rver (the real server: its storage, routing, multipart, copy and presigned GET) behind a thin layer that adds
 * what S3 has and s3rver 3.7.1 does not, built on s3rver's own on-disk state:
 * - ListObjectsV2 in UTF-8 byte order with MaxKeys counting common prefixes (s3rver walks directories in readdir
 *   order and truncates before sorting);
 * - ListMultipartUploads, ListParts and AbortMultipartUpload (s3rver answers NotImplemented / MethodNotAllowed);
 * - PutObject `If-None-Match: *` (s3rver ignores it), serialised per key so creates are atomic.
 */
export class S3rverFixture {
  readonly bucket = 'angos-test';
  readonly directory: string;
  readonly #instance: S3rverInstance;
  readonly #conditionalPut: boolean;
  readonly #creates = new Map<string, Promise<void>>();
  #server: Server | undefined;
  #port = 0;

  private constructor(directory: string, options: FixtureOptions) {
    this.directory = directory;
    this.#conditionalPut = options.conditionalPut ?? true;
    this.#instance = new S3rver({ directory, silent: true, configureBuckets: [{ name: this.bucket, configs: [] }] });
  }

  static async start(options: FixtureOptions = {}): Promise<S3rverFixture> {
    const fixture = new S3rverFixture(await mkdtemp(join(tmpdir(), 'angos-s3rver-')), options);
    await fixture.#instance.configureBuckets();
    await fixture.resume();
    return fixture;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Store options for this server; s3rver accepts any well-formed signature from its built-in account. */
  options(overrides: Partial<S3StoreOptions> = {}): S3StoreOptions {
    return {
      endpoint: this.endpoint,
      bucket: this.bucket,
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretKey: 'S3RVER',
      multipartPartSize: 5 * 1024 * 1024,
      maxAttempts: 2,
      operationTimeoutSecs: 60,
      operationAttemptTimeoutSecs: 30,
      ...overrides,
    };
  }

  /** Lets the process exit while the server still listens (a fixture shared by a whole test file). */
  unref(): void {
    this.#server?.unref();
  }

  /** Stops answering (a real outage: connections are refused), keeping the data and the port for `resume`. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  async resume(): Promise<void> {
    const handler = this.#instance.callback();
    const server = createServer((req, res) => {
      this.#compat(req, res).then(
        (handled) => {
          if (!handled) handler(req, res);
        },
        (err: unknown) => {
          res.statusCode = 500;
          res.end(errorXml('InternalError', String(err)));
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await this.stop();
    await rm(this.directory, { recursive: true, force: true });
  }

  /** Multipart uploads s3rver holds, read from its upload directory: `{ key, uploadId, parts: [sizes] }`. */
  async uploads(): Promise<{ key: string; uploadId: string; initiated: Date; parts: number[] }[]> {
    const root = this.#uploadsDir();
    const result: { key: string; uploadId: string; initiated: Date; parts: number[] }[] = [];
    for (const uploadId of await readdirOrEmpty(root)) {
      const key = await readFile(join(root, uploadId, 'key'), 'utf8').catch(() => undefined);
      if (key === undefined) continue;
      const parts = await this.#parts(uploadId);
      const initiated = (await stat(join(root, uploadId, 'key'))).mtime;
      result.push({ key, uploadId, initiated, parts: parts.map((part) => part.size) });
    }
    return result;
  }

  async #compat(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    if (decodeURIComponent(bucket) !== this.bucket) return false;
    const key = rest.map(decodeURIComponent).join('/');
    const query = url.searchParams;
    if (key === '' && req.method === 'GET' && query.get('list-type') === '2') return this.#listObjects(query, res);
    if (key === '' && req.method === 'GET' && query.has('uploads')) return this.#listUploads(query, res);
    if (key !== '' && req.method === 'GET' && query.has('uploadId')) return this.#listParts(key, query.get('uploadId')!, res);
    if (key !== '' && req.method === 'DELETE' && query.has('uploadId')) return this.#abort(query.get('uploadId')!, res);
    if (key !== '' && req.method === 'PUT' && this.#conditionalPut && req.headers['if-none-match'] === '*' && !query.has('uploadId')) {
      return this.#conditionalCreate(key, res);
    }
    return false;
  }

  async #listObjects(query: URLSearchParams, res: ServerResponse): Promise<boolean> {
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') ?? '';
    const token = query.get('continuation-token');
    const startAfter = token !== null ? Buffer.from(token, 'base64url').toString() : (query.get('start-after') ?? '');
    const maxKeys = Math.min(1000, Number(query.get('max-keys') ?? '1000'));
    // Without a delimiter: s3rver's own grouping misses common prefixes of keys nested two or more levels down.
    const all = await this.#instance.store.listObjects(this.bucket, {
      prefix,
      ...(startAfter !== '' ? { startAfter } : {}),
      maxKeys: Infinity,
    });
    const prefixes = new Set<string>();
    const entries: { sortKey: string; object: S3rverObject | undefined }[] = [];
    for (const object of all.objects) {
      const cut = delimiter === '' ? -1 : object.key.indexOf(delimiter, prefix.length);
      if (cut === -1) entries.push({ sortKey: object.key, object });
      else prefixes.add(object.key.slice(0, cut + delimiter.length));
    }
    for (const common of prefixes) entries.push({ sortKey: common, object: undefined });
    entries.sort((a, b) => Buffer.compare(Buffer.from(a.sortKey), Buffer.from(b.sortKey)));
    const page = entries.slice(0, maxKeys);
    const truncated = entries.length > maxKeys;
    const contents = page.flatMap(({ object }) =>
      object === undefined
        ? []
        : [
            `<Contents><Key>${xml(object.key)}</Key><LastModified>${new Date(object.metadata['last-modified'] ?? Date.now()).toISOString()}</LastModified>` +
              `<ETag>${xml(object.metadata.etag ?? '')}</ETag><Size>${object.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
          ],
    );
    const commonPrefixes = page.flatMap(({ sortKey, object }) => (object === undefined ? [`<CommonPrefixes><Prefix>${xml(sortKey)}</Prefix></CommonPrefixes>`] : []));
    const next = truncated ? `<NextContinuationToken>${Buffer.from(page.at(-1)!.sortKey).toString('base64url')}</NextContinuationToken>` : '';
    sendXml(
      res,
      200,
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${this.bucket}</Name><Prefix>${xml(prefix)}</Prefix>` +
        `<KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>${delimiter !== '' ? `<Delimiter>${xml(delimiter)}</Delimiter>` : ''}` +
        `<IsTruncated>${truncated}</IsTruncated>${next}${contents.join('')}${commonPrefixes.join('')}</ListBucketResult>`,
    );
    return true;
  }

  async #listUploads(query: URLSearchParams, res: ServerResponse): Promise<boolean> {
    const prefix = query.get('prefix') ?? '';
    const uploads = (await this.uploads()).filter((upload) => upload.key.startsWith(prefix));
    uploads.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
    const body = uploads.map(
      (upload) =>
        `<Upload><Key>${xml(upload.key)}</Key><UploadId>${upload.uploadId}</UploadId><Initiated>${upload.initiated.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
    );
    sendXml(
      res,
      200,
      `<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${this.bucket}</Bucket><Prefix>${xml(prefix)}</Prefix>` +
        `<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>${body.join('')}</ListMultipartUploadsResult>`,
    );
    return true;
  }

  async #listParts(key: string, uploadId: string, res: ServerResponse): Promise<boolean> {
    if (!(await this.#uploadExists(uploadId))) return noSuchUpload(res);
    const parts = (await this.#parts(uploadId)).map(
      (part) => `<Part><PartNumber>${part.number}</PartNumber><ETag>"${part.md5}"</ETag><Size>${part.size}</Size><LastModified>${part.modified.toISOString()}</LastModified></Part>`,
    );
    sendXml(
      res,
      200,
      `<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${this.bucket}</Bucket><Key>${xml(key)}</Key><UploadId>${uploadId}</UploadId>` +
        `<MaxParts>10000</MaxParts><IsTruncated>false</IsTruncated>${parts.join('')}</ListPartsResult>`,
    );
    return true;
  }

  async #abort(uploadId: string, res: ServerResponse): Promise<boolean> {
    if (!(await this.#uploadExists(uploadId))) return noSuchUpload(res);
    await rm(join(this.#uploadsDir(), uploadId), { recursive: true, force: true });
    res.statusCode = 204;
    res.end();
    return true;
  }

  /** One conditional create per key at a time, each answered from s3rver's store, so exactly one of a race wins. */
  async #conditionalCreate(key: string, res: ServerResponse): Promise<boolean> {
    const previous = this.#creates.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const chained = previous.then(() => current);
    this.#creates.set(key, chained);
    res.once('close', () => {
      release();
      if (this.#creates.get(key) === chained) this.#creates.delete(key);
    });
    await previous;
    if (!(await this.#instance.store.existsObject(this.bucket, key))) return false;
    sendXml(res, 412, errorXml('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'));
    return true;
  }

  #uploadsDir(): string {
    return this.#instance.store.getResourcePath(this.bucket, undefined, 'uploads');
  }

  async #uploadExists(uploadId: string): Promise<boolean> {
    return /^[0-9a-f]+$/.test(uploadId) && (await stat(join(this.#uploadsDir(), uploadId, 'key')).then(() => true, () => false));
  }

  async #parts(uploadId: string): Promise<{ number: number; size: number; md5: string; modified: Date }[]> {
    const dir = join(this.#uploadsDir(), uploadId);
    const parts = [];
    for (const name of await readdirOrEmpty(dir)) {
      if (!/^\d+$/.test(name)) continue;
      const info = await stat(join(dir, name));
      const md5 = await readFile(join(dir, `${name}.md5`), 'utf8').catch(() => '');
      parts.push({ number: Number(name), size: info.size, md5, modified: info.mtime });
    }
    return parts.sort((a, b) => a.number - b.number);
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

function xml(text: string): string {
  return text.replace(/[<>&'"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function errorXml(code: string, message: string): string {
  return `<Error><Code>${code}</Code><Message>${xml(message)}</Message></Error>`;
}

function sendXml(res: ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/xml');
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

function noSuchUpload(res: ServerResponse): true {
  sendXml(res, 404, errorXml('NoSuchUpload', 'The specified upload does not exist.'));
  return true;
}
