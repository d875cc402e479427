import { createHash, randomUUID } from 'node:crypto';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function sha512(data: Buffer | string): string {
  return `sha512:${createHash('sha512').update(data).digest('hex')}`;
}

/** Bytes with their identity, as pushed and as referenced from a manifest. */
export interface Content {
  bytes: Buffer;
  digest: string;
  size: number;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { os: string; architecture: string; variant?: string };
}

export function content(data: Buffer | string, digestOf: (d: Buffer) => string = sha256): Content {
  const bytes = Buffer.from(data);
  return { bytes, digest: digestOf(bytes), size: bytes.length };
}

/** A blob nobody else in the test run can have pushed, so tests do not see each other's uploads. */
export function uniqueBlob(label = 'blob'): Content {
  return content(`${label}-${randomUUID()}`);
}

/** A digest of bytes that are never pushed. */
export function absentDigest(): string {
  return sha256(`absent-${randomUUID()}`);
}

export function descriptorOf(item: Content, mediaType: string, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType, digest: item.digest, size: item.size, ...extra };
}

export interface Manifest extends Content {
  mediaType: string;
  json: Record<string, unknown>;
}

export function manifestOf(json: Record<string, unknown>, mediaType: string): Manifest {
  return { ...content(JSON.stringify(json)), mediaType, json };
}

export interface ImageManifestOptions {
  config?: Descriptor;
  layers?: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
  /** Written into the body; omit to test a body without `mediaType`. Defaults to the OCI manifest type. */
  mediaType?: string | null;
}

/** An OCI image manifest whose config defaults to a fresh (never pushed) blob so each call is unique. */
export function imageManifest(options: ImageManifestOptions = {}): Manifest {
  const mediaType = options.mediaType === undefined ? OCI_MANIFEST : options.mediaType;
  const json: Record<string, unknown> = { schemaVersion: 2 };
  if (mediaType !== null) json.mediaType = mediaType;
  if (options.artifactType !== undefined) json.artifactType = options.artifactType;
  json.config = options.config ?? descriptorOf(uniqueBlob('config'), OCI_CONFIG);
  json.layers = options.layers ?? [];
  if (options.subject !== undefined) json.subject = options.subject;
  if (options.annotations !== undefined) json.annotations = options.annotations;
  return manifestOf(json, mediaType ?? OCI_MANIFEST);
}

export interface IndexOptions {
  manifests: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
  mediaType?: string;
}

export function imageIndex(options: IndexOptions): Manifest {
  const mediaType = options.mediaType ?? OCI_INDEX;
  const json: Record<string, unknown> = { schemaVersion: 2, mediaType };
  if (options.artifactType !== undefined) json.artifactType = options.artifactType;
  json.manifests = options.manifests;
  if (options.subject !== undefined) json.subject = options.subject;
  if (options.annotations !== undefined) json.annotations = options.annotations;
  return manifestOf(json, mediaType);
}

/** The descriptor a manifest is referenced by (index child, subject). */
export function manifestDescriptor(manifest: Manifest, extra: Partial<Descriptor> = {}): Descriptor {
  return descriptorOf(manifest, manifest.mediaType, extra);
}

/** The OCI referrers fallback tag of a digest: `<alg>-<first 64 hex>`. */
export function fallbackTag(digest: string): string {
  const [algorithm = '', hex = ''] = digest.split(':');
  return `${algorithm}-${hex.slice(0, 64)}`;
}

/** A random session id in the canonical form the registry issues. */
export function sessionId(): string {
  return randomUUID();
}

/** Matches a canonical lower-case hyphenated v4 UUID. */
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
