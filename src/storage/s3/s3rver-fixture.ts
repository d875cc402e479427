// Test support: a real s3rver on a loopback port, plus the S3 operations s3rver 3.7.1 lacks.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { S3_DEFAULTS } from '../../config/s3-section.ts';
import type { S3Settings } from '../../config/types.ts';
import { sigV4Problem } from './sigv4-check.ts';

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
  putObjectMultipart(bucket: string, uploadId: string, parts: { number: number; etag: string }[]): Promise<{ md5: string; size: number }>;
}

interface S3rverInstance {
  store: S3rverStore;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  configureBuckets(): Promise<void>;
}

type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;
/** s3rver's one built-in account. */
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';

export interface FixtureOptions {
  /** Answer `If-None-Match: *` on PutObject as S3 does; off, the server ignores it as s3rver does. */
  conditionalPut?: boolean;
  /** Add UploadPartCopy; off, it is answered NotImplemented as s3rver does (every other addition stays). */
  uploadPartCopy?: boolean;
  /** s3rver alone: none of the additions listed on the class, not even signature checks (a server lacking multipart operations). */
  plain?: boolean;
}

/**
 * s3rver (the real server: its storage, routing, multipart, copy and presigned GET) behind a thin layer that adds
 * what S3 has and s3rver 3.7.1 does not, built on s3rver's own on-disk state:
 * - ListObjectsV2 in UTF-8 byte order with MaxKeys counting common prefixes (s3rver walks directories in readdir
 *   order and truncates before sorting);
 * - ListMultipartUploads, ListParts and AbortMultipartUpload (s3rver answers NotImplemented / MethodNotAllowed);
 * - PutObject `If-None-Match: *` (s3rver ignores it), serialised per key so creates are atomic;
 * - UploadPartCopy, whole or with `x-amz-copy-source-range` (s3rver answers NotImplemented);
 * - CompleteMultipartUpload with S3's checks s3rver skips: listed parts exist with their ETags, and every part but
 *   the last is at least 5 MiB (`EntityTooSmall`). Each completion's part sizes are recorded in `completed`.
 */
export class S3rverFixture {
  readonly bucket = 'angos-test';
  readonly directory: string;
  readonly #instance: S3rverInstance;
  readonly #conditionalPut: boolean;
  readonly #partCopy: boolean;
  readonly #plain: boolean;
  readonly #creates = new Map<string, Promise<void>>();
  /** Every multipart upload completed through this fixture, in order: the bucket key and its part sizes. */
  readonly completed: { key: string; parts: number[] }[] = [];
  #server: Server | undefined;
  #port = 0;

  private constructor(directory: string, options: FixtureOptions) {
    this.directory = directory;
    this.#conditionalPut = options.conditionalPut ?? true;
    this.#partCopy = options.uploadPartCopy ?? true;
    this.#plain = options.plain ?? false;
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

  /** Store settings for this server: its one account, whose signatures the fixture verifies; defaults otherwise. */
  options(overrides: Partial<S3Settings> = {}): S3Settings {
    return {
      ...S3_DEFAULTS,
      endpoint: this.endpoint,
      bucket: this.bucket,
      region: 'us-east-1',
      accessKeyId: ACCESS_KEY,
      secretKey: SECRET_KEY,
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
      if (this.#plain) {
        handler(req, res);
        return;
      }
      // Every request is signed with the fixture's key pair, as S3 demands (s3rver itself skips V4 signatures).
      const refused = sigV4Problem(req, ACCESS_KEY, SECRET_KEY);
      if (refused !== undefined) {
        sendXml(res, 403, errorXml(refused, refused === 'InvalidAccessKeyId' ? 'The AWS Access Key Id you provided does not exist in our records.' : 'The request signature we calculated does not match the signature you provided.'));
        return;
      }
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
    if (key !== '' && req.method === 'PUT' && this.#partCopy && query.has('uploadId') && req.headers['x-amz-copy-source'] !== undefined) {
      return this.#uploadPartCopy(req, query, res);
    }
    if (key !== '' && req.method === 'POST' && query.has('uploadId')) return this.#complete(key, query.get('uploadId')!, req, res);
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

  async #uploadPartCopy(req: IncomingMessage, query: URLSearchParams, res: ServerResponse): Promise<boolean> {
    const uploadId = query.get('uploadId')!;
    const partNumber = Number(query.get('partNumber'));
    if (!(await this.#uploadExists(uploadId))) return noSuchUpload(res);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) return invalidArgument(res, 'Part number must be an integer between 1 and 10000');
    const [sourceBucket = '', ...sourceKey] = String(req.headers['x-amz-copy-source']).replace(/^\//, '').split('/');
    if (decodeURIComponent(sourceBucket) !== this.bucket) return invalidArgument(res, 'copy source bucket unknown');
    const sourcePath = this.#instance.store.getResourcePath(this.bucket, sourceKey.map(decodeURIComponent).join('/'), 'object');
    const size = await stat(sourcePath).then((info) => info.size, () => undefined);
    if (size === undefined) return noSuchKey(res);
    let range = { start: 0, end: size - 1 };
    const rangeHeader = req.headers['x-amz-copy-source-range'];
    if (rangeHeader !== undefined) {
      const match = /^bytes=(\d+)-(\d+)$/.exec(String(rangeHeader));
      if (match === null || Number(match[1]) > Number(match[2]) || Number(match[2]) >= size) {
        return invalidArgument(res, 'The x-amz-copy-source-range value must be of the form bytes=first-last');
      }
      range = { start: Number(match[1]), end: Number(match[2]) };
    }
    const partPath = join(this.#uploadsDir(), uploadId, String(partNumber));
    const md5 = createHash('md5');
    await pipeline(
      size === 0 ? (async function* () {})() : createReadStream(sourcePath, range),
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          md5.update(chunk);
          callback(null, chunk);
        },
      }),
      createWriteStream(partPath),
    );
    const etag = md5.digest('hex');
    await writeFile(`${partPath}.md5`, etag);
    sendXml(res, 200, `<CopyPartResult><LastModified>${new Date().toISOString()}</LastModified><ETag>"${etag}"</ETag></CopyPartResult>`);
    return true;
  }

  async #complete(key: string, uploadId: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (!(await this.#uploadExists(uploadId))) return noSuchUpload(res);
    const body = Buffer.concat(chunks).toString();
    const listed = [...body.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map(([, part = '']) => ({
      number: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(part)?.[1]),
      etag: (/<ETag>([^<]*)<\/ETag>/.exec(part)?.[1] ?? '').replace(/&quot;|&#34;|"/g, ''),
    }));
    const stored = new Map((await this.#parts(uploadId)).map((part) => [part.number, part]));
    const sizes: number[] = [];
    for (const [index, part] of listed.entries()) {
      const found = stored.get(part.number);
      if (found === undefined || found.md5 !== part.etag || (index > 0 && part.number <= listed[index - 1]!.number)) {
        sendXml(res, 400, errorXml('InvalidPart', `part ${part.number} was not found or its ETag does not match`));
        return true;
      }
      if (index < listed.length - 1 && found.size < 5 * 1024 * 1024) {
        sendXml(res, 400, errorXml('EntityTooSmall', `part ${part.number} is ${found.size} bytes, smaller than the minimum allowed`));
        return true;
      }
      sizes.push(found.size);
    }
    if (listed.length === 0) return invalidArgument(res, 'You must specify at least one part');
    const { md5 } = await this.#instance.store.putObjectMultipart(this.bucket, uploadId, listed);
    this.completed.push({ key, parts: sizes });
    sendXml(
      res,
      200,
      `<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${this.bucket}</Bucket><Key>${xml(key)}</Key>` +
        `<ETag>"${md5}"</ETag></CompleteMultipartUploadResult>`,
    );
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

function invalidArgument(res: ServerResponse, message: string): true {
  sendXml(res, 400, errorXml('InvalidArgument', message));
  return true;
}

function noSuchKey(res: ServerResponse): true {
  sendXml(res, 404, errorXml('NoSuchKey', 'The specified key does not exist.'));
  return true;
}

function noSuchUpload(res: ServerResponse): true {
  sendXml(res, 404, errorXml('NoSuchUpload', 'The specified upload does not exist.'));
  return true;
}
