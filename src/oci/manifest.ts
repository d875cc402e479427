import { isDigest, type Digest } from './digest.ts';
import { OciError } from './errors.ts';
import { isMediaType, OCI_INDEX, OCI_MANIFEST, type MediaType } from './media-type.ts';

export interface Descriptor {
  mediaType: MediaType;
  digest: Digest;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
}

export interface Platform {
  os?: string;
  architecture?: string;
  variant?: string;
}

/** What the registry needs from an image manifest, image index, or their Docker equivalents. */
export interface Manifest {
  mediaType?: MediaType;
  artifactType?: string;
  config?: Descriptor;
  layers: Descriptor[];
  /** Children of an index. */
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/**
 * Validates a pushed manifest body (docs/api.md, "Pushing a manifest", check 7) against the media type of its
 * `Content-Type`. Throws `MANIFEST_INVALID`.
 */
export function parseManifest(body: Buffer, contentType: MediaType): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (!isObject(json)) throw invalid('manifest must be a JSON object');
  if (json.schemaVersion !== 2) throw invalid('schemaVersion must be 2');
  const mediaType = optionalMediaType(json.mediaType, 'mediaType');
  if (mediaType !== undefined && mediaType !== contentType) {
    throw invalid(`manifest mediaType '${mediaType}' does not match Content-Type '${contentType}'`);
  }
  const config = json.config === undefined || json.config === null ? undefined : descriptor(json.config, 'config');
  const layers = descriptorList(json.layers, 'layers');
  const manifests = descriptorList(json.manifests, 'manifests');
  if ((config !== undefined || layers.length > 0) && manifests.length > 0) {
    throw invalid('a manifest cannot have both image content (config, layers) and manifests');
  }
  const manifest: Manifest = { layers, manifests };
  if (mediaType !== undefined) manifest.mediaType = mediaType;
  if (config !== undefined) manifest.config = config;
  if (json.subject !== undefined && json.subject !== null) manifest.subject = descriptor(json.subject, 'subject');
  if (typeof json.artifactType === 'string') manifest.artifactType = json.artifactType;
  const annotations = stringMap(json.annotations, 'annotations');
  if (annotations !== undefined) manifest.annotations = annotations;
  return manifest;
}

/** Blobs and child manifests a manifest depends on; foreign layers (with `urls`) are fetched elsewhere. */
export function manifestReferences(manifest: Manifest): Descriptor[] {
  const references = manifest.config ? [manifest.config] : [];
  for (const layer of manifest.layers) if (!layer.urls?.length) references.push(layer);
  return references.concat(manifest.manifests);
}

/** The media type a manifest is listed under when its body names none (docs/api.md, "Referrers"). */
export function impliedMediaType(manifest: Manifest): MediaType {
  return manifest.mediaType ?? (manifest.manifests.length > 0 ? OCI_INDEX : OCI_MANIFEST);
}

/** The referrers descriptor of a manifest stored as `digest` with `size` bytes (docs/api.md, "Referrers"). */
export function referrerDescriptor(manifest: Manifest, digest: Digest, size: number): Descriptor {
  const entry: Descriptor = { mediaType: impliedMediaType(manifest), digest, size };
  const artifactType = manifest.artifactType ?? manifest.config?.mediaType;
  if (artifactType !== undefined) entry.artifactType = artifactType;
  if (manifest.annotations && Object.keys(manifest.annotations).length > 0) entry.annotations = manifest.annotations;
  return entry;
}

function descriptor(value: unknown, path: string): Descriptor {
  if (!isObject(value)) throw invalid(`${path} must be a descriptor object`);
  const mediaType = optionalMediaType(value.mediaType, `${path}.mediaType`);
  if (mediaType === undefined) throw invalid(`${path}.mediaType is required`);
  if (typeof value.digest !== 'string' || !isDigest(value.digest)) throw invalid(`${path}.digest is invalid`);
  if (typeof value.size !== 'number' || !Number.isSafeInteger(value.size) || value.size < 0) {
    throw invalid(`${path}.size must be a non-negative integer`);
  }
  const result: Descriptor = { mediaType, digest: value.digest, size: value.size };
  if (typeof value.artifactType === 'string') result.artifactType = value.artifactType;
  const annotations = stringMap(value.annotations, `${path}.annotations`);
  if (annotations !== undefined) result.annotations = annotations;
  if (isObject(value.platform)) result.platform = platform(value.platform);
  if (Array.isArray(value.urls)) result.urls = value.urls.filter((url): url is string => typeof url === 'string');
  return result;
}

function platform(value: Record<string, unknown>): Platform {
  const result: Platform = {};
  if (typeof value.os === 'string') result.os = value.os;
  if (typeof value.architecture === 'string') result.architecture = value.architecture;
  if (typeof value.variant === 'string') result.variant = value.variant;
  return result;
}

function descriptorList(value: unknown, path: string): Descriptor[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${path} must be an array`);
  return value.map((item, index) => descriptor(item, `${path}[${index}]`));
}

function optionalMediaType(value: unknown, path: string): MediaType | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !isMediaType(value)) throw invalid(`${path} is not a valid media type`);
  return value;
}

function stringMap(value: unknown, path: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw invalid(`${path} must map strings to strings`);
  }
  return value as Record<string, string>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string): OciError {
  return new OciError('MANIFEST_INVALID', message);
}
