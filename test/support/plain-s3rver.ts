// s3rver 3.7.1 as it is: an S3 server that lacks ListMultipartUploads, ListParts, AbortMultipartUpload and
// UploadPartCopy, ignores `If-None-Match` on PutObject and does not check signatures. The registry's S3 behaviour is
// tested on Ceph RGW (test/support/rgw-fixture.ts); this server is kept only as the real example of what the
// start-up capability probe must refuse and of a server whose conditional creates are advisory.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Settings } from '../../src/config/types.ts';
import { s3Settings, type S3Place } from './rgw-fixture.ts';

interface S3rverInstance {
  callback(): Parameters<typeof createServer>[1];
  configureBuckets(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

export class PlainS3rver implements S3Place {
  readonly bucket = 'angos-test';
  /** s3rver's one built-in account (it checks no signature). */
  readonly accessKey = 'S3RVER';
  readonly secretKey = 'S3RVER';
  readonly #directory: string;
  readonly #server: Server;

  private constructor(directory: string, server: Server) {
    this.#directory = directory;
    this.#server = server;
  }

  static async start(): Promise<PlainS3rver> {
    const directory = await mkdtemp(join(tmpdir(), 'angos-s3rver-'));
    const instance = new S3rver({ directory, silent: true, configureBuckets: [{ name: 'angos-test', configs: [] }] });
    await instance.configureBuckets();
    const server = createServer(instance.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new PlainS3rver(directory, server);
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  options(overrides: Partial<S3Settings> = {}): S3Settings {
    return s3Settings(this, overrides);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    await rm(this.#directory, { recursive: true, force: true });
  }
}
