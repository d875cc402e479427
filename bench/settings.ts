const MiB = 1024 * 1024;

/** Every knob of a benchmark run; read from the environment so a run can be shortened without code edits. */
export interface BenchSettings {
  quick: boolean;
  /** Measurements per figure; the report shows their median. */
  runs: number;
  blobBytes: number;
  chunkBytes: number;
  pullStreams: number;
  connections: number;
  /** Length of one request-rate measurement. */
  loadSeconds: number;
  maxRequestsPerLoad: number;
  tagCount: number;
  namespaceCount: number;
  smallImages: number;
  smallImagesParallel: number;
  /** Scale phase: tags of one namespace and namespaces of the registry at the large size... */
  scaleTags: number;
  scaleNamespaces: number;
  /** ... and both at the base size the large one is compared with. */
  scaleBase: number;
  /** `n` of a paged listing request. */
  scalePage: number;
  /** Connections reading whole listings: each may take seconds at the large size, and a run waits for the last. */
  scaleWholeConnections: number;
  /** S3 phase (both registries on one Ceph RADOS Gateway): the pushed and pulled blob's size... */
  s3BlobBytes: number;
  /** ... the tags of its tags list, and the small images of its sequential push. */
  s3TagCount: number;
  s3SmallImages: number;
  /** GC phase: small images pushed per run, half of them deleted and collected. */
  gcImages: number;
  /** Phase labels to run (`BENCH_ONLY=blob push,blob pull`); empty = all. Profiling aid: a partial report. */
  only: string[];
}

/**
 * BENCH_QUICK=1 is a smoke run with small sizes; BENCH_RUNS, BENCH_SECONDS, BENCH_BLOB_MIB, BENCH_SCALE_TAGS,
 * BENCH_SCALE_NAMESPACES, BENCH_S3_BLOB_MIB and BENCH_GC_IMAGES override either mode; BENCH_ONLY picks phases.
 * Defaults keep a full run (both registries and nginx) within about ten minutes on a 2-core machine.
 */
export function readSettings(env: NodeJS.ProcessEnv): BenchSettings {
  const quick = env.BENCH_QUICK === '1';
  const blobMiB = positiveInt(env, 'BENCH_BLOB_MIB', quick ? 32 : 256);
  return {
    quick,
    runs: positiveInt(env, 'BENCH_RUNS', quick ? 1 : 3),
    blobBytes: blobMiB * MiB,
    chunkBytes: 8 * MiB,
    pullStreams: 4,
    connections: 32,
    loadSeconds: positiveInt(env, 'BENCH_SECONDS', quick ? 1 : 4),
    maxRequestsPerLoad: 2_000_000,
    tagCount: quick ? 50 : 1000,
    namespaceCount: quick ? 50 : 1000,
    smallImages: quick ? 20 : 200,
    smallImagesParallel: 8,
    scaleTags: positiveInt(env, 'BENCH_SCALE_TAGS', quick ? 2000 : 100_000),
    scaleNamespaces: positiveInt(env, 'BENCH_SCALE_NAMESPACES', quick ? 400 : 20_000),
    scaleBase: quick ? 200 : 1000,
    scalePage: 100,
    scaleWholeConnections: 4,
    // Every request on S3 is several gateway round trips (and the gateway shares the machine's cores), so the S3
    // phase runs the filesystem phases' workloads at smaller sizes to stay within about three minutes.
    s3BlobBytes: positiveInt(env, 'BENCH_S3_BLOB_MIB', quick ? 16 : 64) * MiB,
    s3TagCount: quick ? 20 : 100,
    s3SmallImages: quick ? 10 : 50,
    gcImages: positiveInt(env, 'BENCH_GC_IMAGES', quick ? 200 : 2000),
    only: (env.BENCH_ONLY ?? '').split(',').map((label) => label.trim()).filter((label) => label !== ''),
  };
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return value;
}
