import type { BlobSource } from './blob-source.ts';
import type { HttpClient } from './client/http-client.ts';
import type { BenchSettings } from './settings.ts';
import type { S3Storage } from './systems/rgw.ts';
import type { RunningSystem, SystemName } from './systems/system.ts';

export type FigureId =
  | 'push.ceiling'
  | 'push.monolithic'
  | 'push.chunked'
  | 'pull.single'
  | 'pull.parallel'
  | 'pull.single.curl'
  | 'pull.parallel.curl'
  | 'manifest.get-tag'
  | 'manifest.get-digest'
  | 'manifest.head-tag'
  | 'manifest.get-tag.pull-time'
  | 'manifest.get-digest.pull-time'
  | 'tags.list'
  | 'catalog'
  | 'images.sequential'
  | 'images.parallel'
  | ScaleFigureId
  | S3FigureId
  | GcFigureId
  | PullThroughFigureId
  | 'rss.peak';

/** The S3 phase's figures: both registries on one Ceph RADOS Gateway; `s3.pull.direct` is the gateway itself. */
export type S3FigureId =
  | 's3.push.monolithic'
  | 's3.pull.inline'
  | 's3.pull.redirect'
  | 's3.pull.direct'
  | 's3.manifest.get-tag'
  | 's3.tags.list'
  | 's3.images.sequential';

/**
 * The GC phase's figures: the time until the deleted images' bytes are gone and how many bytes that was, and, for
 * Angos (which collects while it serves), manifest GETs during that time and idle before the deletes.
 */
export type GcFigureId = 'gc.reclaim' | 'gc.reclaimed' | 'gc.manifest-get.idle' | 'gc.manifest-get';

/**
 * The pull-through phase's figures: each registry as a cache in front of the same upstream (a plain Distribution);
 * `pullthrough.direct` is the upstream itself, pulled directly.
 */
export type PullThroughFigureId =
  | 'pullthrough.direct'
  | 'pullthrough.cold'
  | 'pullthrough.warm'
  | 'pullthrough.manifest.get-mutable-tag'
  | 'pullthrough.manifest.get-immutable-tag'
  | 'pullthrough.manifest.get-digest'
  | 'pullthrough.concurrent.time'
  | 'pullthrough.concurrent.fetches';

/** Listings on registries holding `settings.scale*` (large) or `scaleBase` (base) tags and namespaces. */
export type ScaleFigureId = `scale.${'tags' | 'catalog'}.${'pages' | 'whole'}.${'base' | 'large'}`;

/**
 * Which system's figure a row is compared with besides Distribution: nginx for pulls, the write ceiling for pushes,
 * the gateway's own GET for pulls on S3, the upstream's own GET for a cold pull through a pull-through cache,
 * Angos' own figure without the setting a row measures.
 */
export type Reference = { system: 'nginx' | 'ceiling' | 'rgw' | 'upstream' | 'angos'; figure: FigureId };

export interface FigureSpec {
  id: FigureId;
  label: string;
  unit: 'MB/s' | 'req/s' | 'listings/s' | 'images/s' | 'MiB' | 's' | 'GETs';
  higherIsBetter: boolean;
  reference?: Reference;
}

/** Every figure, in report order. MB/s are 10^6 bytes per second. */
export function figureSpecs(settings: BenchSettings): FigureSpec[] {
  const blob = `${settings.blobBytes / 1024 / 1024} MiB`;
  const conns = `${settings.connections} conns`;
  const ceiling: Reference = { system: 'ceiling', figure: 'push.ceiling' };
  const nginx = (figure: FigureId): Reference => ({ system: 'nginx', figure });
  return [
    { id: 'push.ceiling', label: `write ceiling: PUT ${blob} into a bare Node server (SHA-256 + new file)`, unit: 'MB/s', higherIsBetter: true, reference: ceiling },
    { id: 'push.monolithic', label: `blob push ${blob}, monolithic (POST + PUT)`, unit: 'MB/s', higherIsBetter: true, reference: ceiling },
    { id: 'push.chunked', label: `blob push ${blob}, chunked (PATCH ${settings.chunkBytes / 1024 / 1024} MiB)`, unit: 'MB/s', higherIsBetter: true, reference: ceiling },
    { id: 'pull.single', label: `blob pull ${blob}, 1 stream, in-process client`, unit: 'MB/s', higherIsBetter: true, reference: nginx('pull.single') },
    { id: 'pull.parallel', label: `blob pull ${blob}, ${settings.pullStreams} parallel streams, in-process client`, unit: 'MB/s', higherIsBetter: true, reference: nginx('pull.parallel') },
    { id: 'pull.single.curl', label: `blob pull ${blob}, 1 stream, curl`, unit: 'MB/s', higherIsBetter: true, reference: nginx('pull.single.curl') },
    { id: 'pull.parallel.curl', label: `blob pull ${blob}, ${settings.pullStreams} parallel streams, curl`, unit: 'MB/s', higherIsBetter: true, reference: nginx('pull.parallel.curl') },
    { id: 'manifest.get-tag', label: `manifest GET by tag, ${conns}`, unit: 'req/s', higherIsBetter: true },
    { id: 'manifest.get-digest', label: `manifest GET by digest, ${conns}`, unit: 'req/s', higherIsBetter: true },
    { id: 'manifest.head-tag', label: `manifest HEAD by tag, ${conns}`, unit: 'req/s', higherIsBetter: true },
    { id: 'manifest.get-tag.pull-time', label: `manifest GET by tag, update_pull_time = true, ${conns}`, unit: 'req/s', higherIsBetter: true, reference: { system: 'angos', figure: 'manifest.get-tag' } },
    { id: 'manifest.get-digest.pull-time', label: `manifest GET by digest, update_pull_time = true, ${conns}`, unit: 'req/s', higherIsBetter: true, reference: { system: 'angos', figure: 'manifest.get-digest' } },
    { id: 'tags.list', label: `tags list (${settings.tagCount} tags), ${conns}`, unit: 'req/s', higherIsBetter: true },
    { id: 'catalog', label: `catalog (${settings.namespaceCount} namespaces), ${conns}`, unit: 'req/s', higherIsBetter: true },
    { id: 'images.sequential', label: `push ${settings.smallImages} small images, sequential`, unit: 'images/s', higherIsBetter: true },
    { id: 'images.parallel', label: `push ${settings.smallImages} small images, ${settings.smallImagesParallel} at a time`, unit: 'images/s', higherIsBetter: true },
    ...scaleSpecs(settings),
    ...gcSpecs(settings),
    ...s3Specs(settings),
    ...pullThroughSpecs(settings),
    { id: 'rss.peak', label: 'peak RSS of the server process', unit: 'MiB', higherIsBetter: false },
  ];
}

function gcSpecs(settings: BenchSettings): FigureSpec[] {
  const images = `${settings.gcImages.toLocaleString('en-US')} small images, ${Math.floor(settings.gcImages / 2).toLocaleString('en-US')} deleted`;
  const conns = `${settings.connections} conns`;
  return [
    {
      id: 'gc.reclaim',
      label: `GC of ${images}: seconds from the last delete until their bytes are gone (Angos: background collector, serving; Distribution: stopped, offline garbage-collect)`,
      unit: 's',
      higherIsBetter: false,
    },
    { id: 'gc.reclaimed', label: `GC of ${images}: blob bytes reclaimed`, unit: 'MiB', higherIsBetter: true },
    { id: 'gc.manifest-get.idle', label: `GC phase: manifest GET by tag of a kept image, ${conns}, before the deletes`, unit: 'req/s', higherIsBetter: true },
    {
      id: 'gc.manifest-get',
      label: `GC phase: manifest GET by tag of a kept image, ${conns}, while the collector reclaims`,
      unit: 'req/s',
      higherIsBetter: true,
      reference: { system: 'angos', figure: 'gc.manifest-get.idle' },
    },
  ];
}

/** Figures of the S3 phase, reported in a table of their own. */
function s3Specs(settings: BenchSettings): FigureSpec[] {
  const blob = `${settings.s3BlobBytes / 1024 / 1024} MiB`;
  const conns = `${settings.connections} conns`;
  const direct: Reference = { system: 'rgw', figure: 's3.pull.direct' };
  return [
    { id: 's3.push.monolithic', label: `blob push ${blob}, monolithic (POST + PUT)`, unit: 'MB/s', higherIsBetter: true },
    { id: 's3.pull.direct', label: `direct S3 GET of the blob object (${blob}, presigned URL), 1 stream, in-process client`, unit: 'MB/s', higherIsBetter: true, reference: direct },
    { id: 's3.pull.inline', label: `blob pull ${blob}, 1 stream, inline (redirects off), in-process client`, unit: 'MB/s', higherIsBetter: true, reference: direct },
    { id: 's3.pull.redirect', label: `blob pull ${blob}, 1 stream, 307 to a presigned URL followed, in-process client`, unit: 'MB/s', higherIsBetter: true, reference: direct },
    { id: 's3.manifest.get-tag', label: `manifest GET by tag, ${conns}`, unit: 'req/s', higherIsBetter: true },
    { id: 's3.tags.list', label: `tags list (${settings.s3TagCount} tags), ${conns}`, unit: 'req/s', higherIsBetter: true },
    { id: 's3.images.sequential', label: `push ${settings.s3SmallImages} small images, sequential`, unit: 'images/s', higherIsBetter: true },
  ];
}

/** Clients pulling one cold blob at once in the pull-through phase. */
export const PULL_THROUGH_CLIENTS = 8;

/** Figures of the pull-through phase, reported in a table of their own. */
function pullThroughSpecs(settings: BenchSettings): FigureSpec[] {
  const blob = `${settings.blobBytes / 1024 / 1024} MiB`;
  const conns = `${settings.connections} conns`;
  const direct: Reference = { system: 'upstream', figure: 'pullthrough.direct' };
  return [
    { id: 'pullthrough.direct', label: `direct pull of a fresh ${blob} blob from the upstream (no cache), 1 stream, curl`, unit: 'MB/s', higherIsBetter: true, reference: direct },
    { id: 'pullthrough.cold', label: `cold pull of a fresh ${blob} blob through the cache, first client, 1 stream, curl`, unit: 'MB/s', higherIsBetter: true, reference: direct },
    {
      id: 'pullthrough.warm',
      label: `warm pull of that blob once the cache holds it (no upstream GET allowed), 1 stream, curl`,
      unit: 'MB/s',
      higherIsBetter: true,
      reference: { system: 'nginx', figure: 'pullthrough.warm' },
    },
    { id: 'pullthrough.manifest.get-mutable-tag', label: `manifest GET by mutable tag (revalidated upstream on every GET), ${conns}`, unit: 'req/s', higherIsBetter: true },
    {
      id: 'pullthrough.manifest.get-immutable-tag',
      label: `manifest GET by immutable tag (Distribution has none: revalidated like any tag), ${conns}`,
      unit: 'req/s',
      higherIsBetter: true,
    },
    { id: 'pullthrough.manifest.get-digest', label: `manifest GET by digest, ${conns}`, unit: 'req/s', higherIsBetter: true },
    {
      id: 'pullthrough.concurrent.time',
      label: `${PULL_THROUGH_CLIENTS} clients pulling the same cold ${blob} blob at once: seconds until the last one finished, curl`,
      unit: 's',
      higherIsBetter: false,
    },
    {
      id: 'pullthrough.concurrent.fetches',
      label: `${PULL_THROUGH_CLIENTS} clients pulling the same cold blob at once: GETs of the blob the upstream served until the cache held it`,
      unit: 'GETs',
      higherIsBetter: false,
    },
  ];
}

function scaleSpecs(settings: BenchSettings): FigureSpec[] {
  const specs: FigureSpec[] = [];
  for (const what of ['tags', 'catalog'] as const) {
    for (const size of ['base', 'large'] as const) {
      const count = what === 'tags' ? (size === 'base' ? settings.scaleBase : settings.scaleTags) : size === 'base' ? settings.scaleBase : settings.scaleNamespaces;
      const listing = what === 'tags' ? `tags list of ${count.toLocaleString('en-US')} tags` : `catalog of ${count.toLocaleString('en-US')} namespaces`;
      specs.push(
        { id: `scale.${what}.pages.${size}`, label: `${listing}, pages of ${settings.scalePage} followed by Link, ${settings.connections} conns`, unit: 'req/s', higherIsBetter: true },
        { id: `scale.${what}.whole.${size}`, label: `${listing}, whole listing (largest page served), ${settings.scaleWholeConnections} conns`, unit: 'listings/s', higherIsBetter: true },
      );
    }
  }
  return specs;
}

/** What every workload gets: a keep-alive client for one system and a place to put its measurements. */
export interface WorkloadContext {
  system: SystemName;
  client: HttpClient;
  settings: BenchSettings;
  blobs: BlobSource;
  /** `as`: a reference system's figure measured in this system's turn (the gateway's GET of this system's blob). */
  record(id: FigureId, value: number, as?: SystemName): void;
  progress(message: string): void;
  /**
   * Starts another server of this workload's system on fresh storage in its own directory, stopped when the
   * phase ends: for data shapes the shared servers must not hold.
   */
  startInstance(label: string, options?: InstanceOptions): Promise<Instance>;
}

export interface InstanceOptions {
  /** Distribution only: `catalog.maxentries`. */
  catalogMaxEntries?: number;
  /** Registries: store everything in this S3 bucket instead of the filesystem. */
  s3?: S3Storage;
  /** Angos only: `[global] update_pull_time = true` (every manifest pull writes an access entry). */
  updatePullTime?: boolean;
  /** Angos only: the background collector reclaims right after a delete (`gc_*` grace, debounce, grant age at 0). */
  eagerGc?: boolean;
  /** Distribution only: `storage.delete.enabled: true` (manifest and blob DELETE answer instead of 405). */
  deleteEnabled?: boolean;
  /**
   * Registries: a pull-through cache of the registry at this URL (Angos: `[repository."mirror"]` with it as upstream;
   * Distribution: `proxy.remoteurl`).
   */
  pullThroughUpstream?: string;
}

export interface Instance {
  system: RunningSystem;
  client: HttpClient;
}

/** One measurement of a workload's figures, after its set-up; `run` counts from 1. */
export type Measure = (run: number) => Promise<void>;

export const MB = 1_000_000;
