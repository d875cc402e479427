// A bucket of its own on the run's Ceph RADOS Gateway (test/support/ceph-cluster.ts), for one test file or suite.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { S3_DEFAULTS } from '../../src/config/s3-section.ts';
import type { S3Settings } from '../../src/config/types.ts';
import { cephCluster, clusterClient, waitForGateway, type CephCluster } from './ceph-cluster.ts';
import { freePort } from './free-port.ts';

const run = promisify(execFile);

/** Where S3 test storage lives: what `[blob_store.s3]` needs to reach it. */
export interface S3Place {
  readonly endpoint: string;
  readonly bucket: string;
  readonly accessKey: string;
  readonly secretKey: string;
}

/** Store settings for a place: S3 defaults, 5 MiB parts (the smallest S3 allows), two attempts. */
export function s3Settings(place: S3Place, overrides: Partial<S3Settings> = {}): S3Settings {
  return {
    ...S3_DEFAULTS,
    endpoint: place.endpoint,
    bucket: place.bucket,
    region: 'us-east-1',
    accessKeyId: place.accessKey,
    secretKey: place.secretKey,
    multipartPartSize: 5 * 1024 * 1024,
    maxAttempts: 2,
    operationTimeoutSecs: 60,
    operationAttemptTimeoutSecs: 30,
    ...overrides,
  };
}

export interface RgwOptions {
  /**
   * A gateway process of this fixture's own in front of the shared cluster, so `stop` and `resume` are a real outage
   * (connections refused) that other test files running at the same time do not see.
   */
  ownGateway?: boolean;
}

export interface MultipartUploadState {
  key: string;
  uploadId: string;
  initiated: Date;
  /** Sizes of the stored parts, by part number. */
  parts: number[];
}

/** A fresh bucket on the real S3 server, emptied and removed by `close`. */
export class RgwFixture implements S3Place {
  readonly bucket: string;
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  /** A client of the test's own, for looking at what the registry stored. */
  readonly client: S3Client;
  readonly #gateway: Gateway | undefined;

  private constructor(cluster: CephCluster, endpoint: string, gateway: Gateway | undefined) {
    this.bucket = `angos-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.endpoint = endpoint;
    this.accessKey = cluster.accessKey;
    this.secretKey = cluster.secretKey;
    this.#gateway = gateway;
    this.client = clusterClient(cluster);
  }

  static async start(options: RgwOptions = {}): Promise<RgwFixture> {
    const cluster = await cephCluster();
    const gateway = options.ownGateway ? await Gateway.start(cluster) : undefined;
    const fixture = new RgwFixture(cluster, gateway?.endpoint ?? cluster.endpoint, gateway);
    await fixture.client.send(new CreateBucketCommand({ Bucket: fixture.bucket }));
    return fixture;
  }

  /** Store settings for this bucket (`s3Settings`). */
  options(overrides: Partial<S3Settings> = {}): S3Settings {
    return s3Settings(this, overrides);
  }

  /** Multipart uploads in progress in the bucket (under `prefix`), with their stored part sizes. */
  async uploads(prefix = ''): Promise<MultipartUploadState[]> {
    const result: MultipartUploadState[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
      for (const upload of page.Uploads ?? []) {
        const parts = await this.client
          .send(new ListPartsCommand({ Bucket: this.bucket, Key: upload.Key!, UploadId: upload.UploadId! }))
          .catch((err: unknown) => {
            // Completed or aborted since it was listed: no longer in progress.
            if (['NoSuchKey', 'NoSuchUpload'].includes((err as Error).name)) return undefined;
            throw err;
          });
        if (parts === undefined) continue;
        result.push({ key: upload.Key!, uploadId: upload.UploadId!, initiated: upload.Initiated!, parts: (parts.Parts ?? []).map((part) => part.Size!) });
      }
      [keyMarker, uploadIdMarker] = page.IsTruncated ? [page.NextKeyMarker, page.NextUploadIdMarker] : [undefined, undefined];
    } while (keyMarker !== undefined);
    return result;
  }

  /** Every key in the bucket under `prefix` with its size. */
  async objects(prefix = ''): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) found.set(object.Key!, object.Size!);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return found;
  }

  /** Stops this fixture's own gateway: connections to `endpoint` are refused until `resume`. */
  async stop(): Promise<void> {
    await this.#ownGateway().stop();
  }

  async resume(): Promise<void> {
    await this.#ownGateway().resume();
  }

  /** Empties and removes the bucket (the memory store keeps every byte until then) and stops an own gateway. */
  async close(): Promise<void> {
    await this.#gateway?.resume();
    for (const upload of await this.uploads()) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.key, UploadId: upload.uploadId }));
    }
    const keys = [...(await this.objects()).keys()];
    for (let start = 0; start < keys.length; start += 1000) {
      const batch = keys.slice(start, start + 1000).map((Key) => ({ Key }));
      await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch, Quiet: true } }));
    }
    await this.client.send(new DeleteBucketCommand({ Bucket: this.bucket }));
    this.client.destroy();
    await this.#gateway?.stop();
  }

  #ownGateway(): Gateway {
    if (this.#gateway === undefined) throw new Error('stop/resume need RgwFixture.start({ ownGateway: true }): the shared gateway serves other tests');
    return this.#gateway;
  }
}

/** One more `radosgw` process of the cluster, on a port of its own. */
class Gateway {
  readonly endpoint: string;
  readonly #cluster: CephCluster;
  readonly #port: number;
  #pid: number | undefined;

  private constructor(cluster: CephCluster, port: number) {
    this.#cluster = cluster;
    this.#port = port;
    this.endpoint = `http://127.0.0.1:${port}`;
  }

  static async start(cluster: CephCluster): Promise<Gateway> {
    const gateway = new Gateway(cluster, await freePort());
    await gateway.resume();
    return gateway;
  }

  get #pidFile(): string {
    return join(this.#cluster.dir, 'run', `gateway-${this.#port}.pid`);
  }

  async resume(): Promise<void> {
    if (this.#pid !== undefined) return;
    const conf = join(this.#cluster.dir, 'ceph.conf');
    // radosgw forks into the background once started; its PID file (in the cluster's run directory, so the
    // cluster's stop kills it too) names it.
    await run('radosgw', ['-c', conf, '-n', 'client.rgw.angos', `--rgw_frontends=beast endpoint=127.0.0.1:${this.#port} tcp_nodelay=1`, `--pid_file=${this.#pidFile}`]);
    await waitForGateway(this.endpoint, () => Promise.reject(new Error(`radosgw on port ${this.#port} did not answer within 60 s`)));
    this.#pid = Number((await readFile(this.#pidFile, 'utf8')).trim());
  }

  async stop(): Promise<void> {
    const pid = this.#pid;
    if (pid === undefined) return;
    this.#pid = undefined;
    // SIGTERM: a gateway that stops deregisters its watches on the cluster's objects; a killed one leaves them to
    // time out, and every bucket create or delete in the cluster waits for that meanwhile.
    process.kill(pid, 'SIGTERM');
    for (let tries = 0; tries < 400; tries++) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await sleep(25);
    }
    throw new Error(`radosgw ${pid} did not exit`);
  }
}
