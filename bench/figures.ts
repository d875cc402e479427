import type { BlobSource } from './blob-source.ts';
import type { HttpClient } from './client/http-client.ts';
import type { BenchSettings } from './settings.ts';
import type { SystemName } from './systems/system.ts';

export type FigureId =
  | 'push.monolithic'
  | 'push.chunked'
  | 'pull.single'
  | 'pull.parallel'
  | 'manifest.get-tag'
  | 'manifest.get-digest'
  | 'manifest.head-tag'
  | 'tags.list'
  | 'catalog'
  | 'images.sequential'
  | 'images.parallel'
  | 'rss.peak';

export interface FigureSpec {
  id: FigureId;
  label: string;
  unit: 'MB/s' | 'req/s' | 'images/s' | 'MiB';
  higherIsBetter: boolean;
}

/** Every figure, in report order. MB/s are 10^6 bytes per second. */
export function figureSpecs(settings: BenchSettings): FigureSpec[] {
  const blob = `${settings.blobBytes / 1024 / 1024} MiB`;
  const conns = `${settings.connections} conns`;
  return [
    { id: 'push.monolithic', label: `blob push ${blob}, monolithic (POST + PUT)`, unit: 'MB/s', higherIsBetter: true },
    { id: 'push.chunked', label: `blob push ${blob}, chunked (PATCH ${settings.chunkBytes / 1024 / 1024} MiB)`, unit: 'MB/s', higherIsBetter: true },
    { id: 'pull.single', label: `blob pull ${blob}, 1 stream`, unit: 'MB/s', higherIsBetter: true },
    { id: 'pull.parallel', label: `blob pull ${blob}, ${settings.pullStreams} parallel streams`, unit: 'MB/s', higherIsBetter: true },
    { id: 'manifest.get-tag', label: `manifest GET by tag, ${conns}`, unit: 'req/s', higherIsBetter: true },
    { id: 'manifest.get-digest', label: `manifest GET by digest, ${conns}`, unit: 'req/s', higherIsBetter: true },
    { id: 'manifest.head-tag', label: `manifest HEAD by tag, ${conns}`, unit: 'req/s', higherIsBetter: true },
    { id: 'tags.list', label: `tags list (${settings.tagCount} tags), ${conns}`, unit: 'req/s', higherIsBetter: true },
    { id: 'catalog', label: `catalog (${settings.namespaceCount} namespaces), ${conns}`, unit: 'req/s', higherIsBetter: true },
    { id: 'images.sequential', label: `push ${settings.smallImages} small images, sequential`, unit: 'images/s', higherIsBetter: true },
    { id: 'images.parallel', label: `push ${settings.smallImages} small images, ${settings.smallImagesParallel} at a time`, unit: 'images/s', higherIsBetter: true },
    { id: 'rss.peak', label: 'peak RSS of the server process', unit: 'MiB', higherIsBetter: false },
  ];
}

/** What every workload gets: a keep-alive client for one system and a place to put its measurements. */
export interface WorkloadContext {
  system: SystemName;
  client: HttpClient;
  settings: BenchSettings;
  blobs: BlobSource;
  record(id: FigureId, value: number): void;
  progress(message: string): void;
}

/** One measurement of a workload's figures, after its set-up; `run` counts from 1. */
export type Measure = (run: number) => Promise<void>;

export const MB = 1_000_000;
