import type { BlobSource } from './blob-source.ts';
import type { HttpClient } from './client/http-client.ts';
import type { BenchSettings } from './settings.ts';
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
  | 'tags.list'
  | 'catalog'
  | 'images.sequential'
  | 'images.parallel'
  | ScaleFigureId
  | 'rss.peak';

/** Listings on registries holding `settings.scale*` (large) or `scaleBase` (base) tags and namespaces. */
export type ScaleFigureId = `scale.${'tags' | 'catalog'}.${'pages' | 'whole'}.${'base' | 'large'}`;

/** Which system's figure a row is compared with besides Distribution: nginx for pulls, the write ceiling for pushes. */
export type Reference = { system: 'nginx' | 'ceiling'; figure: FigureId };

export interface FigureSpec {
  id: FigureId;
  label: string;
  unit: 'MB/s' | 'req/s' | 'listings/s' | 'images/s' | 'MiB';
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
    { id: 'tags.list', label: `tags list (${settings.tagCount} tags), ${conns}`, unit: 'req/s', higherIsBetter: true },
    { id: 'catalog', label: `catalog (${settings.namespaceCount} namespaces), ${conns}`, unit: 'req/s', higherIsBetter: true },
    { id: 'images.sequential', label: `push ${settings.smallImages} small images, sequential`, unit: 'images/s', higherIsBetter: true },
    { id: 'images.parallel', label: `push ${settings.smallImages} small images, ${settings.smallImagesParallel} at a time`, unit: 'images/s', higherIsBetter: true },
    ...scaleSpecs(settings),
    { id: 'rss.peak', label: 'peak RSS of the server process', unit: 'MiB', higherIsBetter: false },
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
  record(id: FigureId, value: number): void;
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
}

export interface Instance {
  system: RunningSystem;
  client: HttpClient;
}

/** One measurement of a workload's figures, after its set-up; `run` counts from 1. */
export type Measure = (run: number) => Promise<void>;

export const MB = 1_000_000;
