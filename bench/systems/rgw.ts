import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { clusterClient, killCluster, missingCephBinaries, startCephCluster, stopCephCluster, type CephCluster } from '../../test/support/ceph-cluster.ts';

export { CEPH_PACKAGES, missingCephBinaries } from '../../test/support/ceph-cluster.ts';


/** What a registry's S3 storage settings need: one bucket on the gateway. */
export interface S3Bucket {
  endpoint: string;
  bucket: string;
  region: string;
  accessKey: string;
  secretKey: string;
}

/** A registry instance's S3 storage, and whether its blob (and manifest) GETs answer with a presigned redirect. */
export interface S3Storage extends S3Bucket {
  redirect: boolean;
}

/**
 * The S3 server of the S3 phase: a throw-away Ceph cluster with a RADOS Gateway (the tests' own,
 * `test/support/ceph-cluster.ts`: one monitor, one OSD on the in-memory `memstore`, loopback only), shared by both
 * registries, a bucket each. Its daemons are killed when the benchmark process exits, however it ends.
 */
export class RadosGateway {
  readonly #cluster: CephCluster;
  readonly client: S3Client;
  readonly #onExit: () => void;
  /** Exits, which kills the cluster (`#onExit`). */
  readonly #onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`bench: ${signal}, stopping the Ceph cluster\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };

  private constructor(cluster: CephCluster) {
    this.#cluster = cluster;
    this.client = clusterClient(cluster);
    this.#onExit = () => killCluster(cluster.dir);
    process.once('exit', this.#onExit);
    // The daemons run in the background, out of reach of a Ctrl-C: an interrupted run must still end them.
    process.once('SIGINT', this.#onSignal);
    process.once('SIGTERM', this.#onSignal);
  }

  static async start(): Promise<RadosGateway> {
    const missing = missingCephBinaries();
    if (missing.length > 0) throw new Error(`the s3 phase needs Ceph (missing ${missing.join(', ')})`);
    return new RadosGateway(await startCephCluster());
  }

  get endpoint(): string {
    return this.#cluster.endpoint;
  }

  async createBucket(bucket: string): Promise<S3Bucket> {
    await this.client.send(new CreateBucketCommand({ Bucket: bucket }));
    const { endpoint, region, accessKey, secretKey } = this.#cluster;
    return { endpoint, bucket, region, accessKey, secretKey };
  }

  /**
   * The key of the one object in `bucket` holding the blob `digest` of `size` bytes, wherever the registry that
   * stored it keeps its blobs.
   */
  async blobKey(bucket: string, digest: string, size: number): Promise<string> {
    const hex = digest.slice(digest.indexOf(':') + 1);
    const found: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      for (const object of page.Contents ?? []) if (object.Size === size && object.Key?.includes(hex)) found.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    if (found.length !== 1) throw new Error(`bucket ${bucket}: expected one object of ${size} bytes for ${digest}, found ${JSON.stringify(found)}`);
    return found[0]!;
  }

  /** A presigned GET of one object, for a client that reads it straight from the gateway. */
  presignedGet(bucket: string, key: string): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 3600 });
  }

  /** The gateway's own log, quoted when a run fails. */
  get logFile(): string {
    return join(this.#cluster.dir, 'log', 'client.rgw.angos.log');
  }

  async stop(): Promise<void> {
    process.off('exit', this.#onExit);
    process.off('SIGINT', this.#onSignal);
    process.off('SIGTERM', this.#onSignal);
    this.client.destroy();
    await stopCephCluster(this.#cluster);
  }
}
