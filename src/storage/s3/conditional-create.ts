import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../observability/logging.ts';
import { isMissing, isPreconditionFailed, isTransient, type S3Gateway } from './s3-gateway.ts';
import type { S3Keys } from './s3-keys.ts';

/** Where the probe writes: a name no registry key takes, removed right after. */
const PROBE_PREFIX = '_probe/if-none-match/';

/**
 * `createIfAbsent` as PutObject + `If-None-Match: *` (412 ⇒ already there). Not every S3-compatible server
 * enforces that header, and one that ignores it would silently turn every create into an overwrite, so the
 * first call probes it, unless `[*.s3.capabilities] put_if_none_match` declares the answer (no probe: some
 * gateways reject the probe's writes, and an operator may know better). Without it, creates degrade to
 * HeadObject then PutObject (advisory: two racing creators may both win) and say so once.
 */
export class ConditionalCreate {
  readonly #gateway: S3Gateway;
  readonly #bucket: string;
  readonly #keys: S3Keys;
  readonly #log: Logger;
  readonly #declared: boolean | undefined;
  #enforced: Promise<boolean> | undefined;

  constructor(gateway: S3Gateway, bucket: string, keys: S3Keys, log: Logger, declared?: boolean) {
    this.#gateway = gateway;
    this.#bucket = bucket;
    this.#keys = keys;
    this.#log = log;
    this.#declared = declared;
  }

  /** Whether `If-None-Match: *` is enforced: as declared, else probed once (retried after a failed probe). */
  enforced(): Promise<boolean> {
    if (this.#declared !== undefined) {
      this.#enforced ??= Promise.resolve(this.#settle(this.#declared));
      return this.#enforced;
    }
    this.#enforced ??= this.#probe().catch((err: unknown) => {
      this.#enforced = undefined;
      throw err;
    });
    return this.#enforced;
  }

  async create(key: string, body: Buffer): Promise<boolean> {
    const bucketKey = this.#keys.full(key);
    if (await this.enforced()) return this.#putIfNoneMatch(bucketKey, body);
    if (await this.#exists(bucketKey)) return false;
    await this.#put(bucketKey, body, false);
    return true;
  }

  async #probe(): Promise<boolean> {
    const bucketKey = this.#keys.full(`${PROBE_PREFIX}${randomUUID()}`);
    try {
      await this.#put(bucketKey, Buffer.from('probe'), false);
      let enforced: boolean;
      try {
        enforced = !(await this.#putIfNoneMatch(bucketKey, Buffer.from('probe again')));
      } catch (err) {
        // A server that rejects the header (501, 400) does not enforce it either.
        if (isTransient(err)) throw err;
        enforced = false;
      }
      return this.#settle(enforced);
    } finally {
      await this.#gateway.send((signal) =>
        this.#gateway.client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: bucketKey }), { abortSignal: signal }),
      );
    }
  }

  /** The one warning of advisory mode, whichever way it was decided. */
  #settle(enforced: boolean): boolean {
    if (!enforced) {
      this.#log.warn('S3 server ignores If-None-Match on PutObject: atomic creates degrade to advisory (HeadObject then PutObject)', {
        bucket: this.#bucket,
        ...(this.#declared !== undefined ? { declared: 'capabilities.put_if_none_match = false' } : {}),
      });
    }
    return enforced;
  }

  async #putIfNoneMatch(bucketKey: string, body: Buffer): Promise<boolean> {
    try {
      await this.#put(bucketKey, body, true);
      return true;
    } catch (err) {
      if (isPreconditionFailed(err)) return false;
      throw err;
    }
  }

  async #put(bucketKey: string, body: Buffer, ifNoneMatch: boolean): Promise<void> {
    await this.#gateway.send((signal) =>
      this.#gateway.client.send(
        new PutObjectCommand({ Bucket: this.#bucket, Key: bucketKey, Body: body, ContentLength: body.length, ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}) }),
        { abortSignal: signal },
      ),
    );
  }

  async #exists(bucketKey: string): Promise<boolean> {
    try {
      await this.#gateway.send((signal) =>
        this.#gateway.client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: bucketKey }), { abortSignal: signal }),
      );
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }
}
