import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Storage } from './rgw.ts';
import { freePort, startProcess, type RunningSystem } from './system.ts';

export const DISTRIBUTION_BIN = '/usr/bin/docker-registry';

export interface DistributionOptions {
  /**
   * The largest catalog page it serves (`catalog.maxentries`, default 1000): a larger `n` is cut to it, so a
   * whole catalog of more namespaces in one request needs it raised.
   */
  catalogMaxEntries?: number;
  /** Its `s3` storage driver on this bucket instead of the filesystem, with blob redirects on or off. */
  s3?: S3Storage;
  /** `storage.delete.enabled: true`: manifest and blob DELETE are served (405 otherwise). */
  deleteEnabled?: boolean;
  /** A pull-through cache of this registry (`proxy.remoteurl`): local `<x>` is the upstream's `<x>`. */
  pullThroughUpstream?: string;
  /**
   * `log.level: debug`, its log written by the process itself: a line as each request starts ("authorizing
   * request") and one as it ends ("response completed", with or without error), both with the request's id,
   * method and URI, from which the requests it serves are counted (`pull-through-upstream.ts`).
   */
  requestLog?: boolean;
}

/**
 * CNCF Distribution 2.8 on filesystem storage (or its `s3` driver, `options.s3`), configured as its Debian package
 * ships it (in-memory blob descriptor cache), with request logging off and upload purging off so no background
 * walk runs mid-measure.
 */
export async function startDistribution(workDir: string, options: DistributionOptions = {}): Promise<RunningSystem> {
  const port = await freePort();
  const config = join(workDir, 'distribution.yml');
  const dataDir = join(workDir, 'distribution-data');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      `  level: ${options.requestLog ? 'debug' : 'warn'}`,
      '  accesslog:',
      '    disabled: true',
      'storage:',
      ...(options.s3 === undefined ? ['  filesystem:', `    rootdirectory: ${JSON.stringify(dataDir)}`] : s3Driver(options.s3)),
      '  cache:',
      '    blobdescriptor: inmemory',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      ...(options.deleteEnabled ? ['  delete:', '    enabled: true'] : []),
      ...(options.catalogMaxEntries === undefined ? [] : ['catalog:', `  maxentries: ${options.catalogMaxEntries}`]),
      ...(options.pullThroughUpstream === undefined ? [] : ['proxy:', `  remoteurl: ${JSON.stringify(options.pullThroughUpstream)}`]),
      'http:',
      `  addr: 127.0.0.1:${port}`,
      `  secret: ${randomBytes(16).toString('hex')}`,
      '',
    ].join('\n'),
  );
  // REGISTRY_* variables override the YAML; the caller's environment must not change what is measured. Nor may
  // AWS_CA_BUNDLE reach it: 2.8's S3 driver panics at start-up ("unable to load custom CA bundle") when it is set.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('REGISTRY_') && key !== 'AWS_CA_BUNDLE'));
  const system = await startProcess('distribution', DISTRIBUTION_BIN, ['serve', config], { workDir, port, probePath: '/v2/', env, logDirect: options.requestLog });
  return options.s3 === undefined ? { ...system, dataDir, configFile: config } : { ...system, configFile: config };
}

/**
 * The `s3` driver of Distribution 2.8 on a gateway over plain HTTP (`secure: false`). 2.8 has no `forcepathstyle`
 * key: a `regionendpoint` makes it address the bucket by path, as the gateway needs. Its other keys stay at their
 * defaults (10 MiB multipart chunks). `redirect.disable` makes blob GETs answer with the bytes instead of a `307`
 * to a presigned URL; manifests are always answered inline.
 */
function s3Driver(s3: S3Storage): string[] {
  return [
    '  s3:',
    `    regionendpoint: ${JSON.stringify(s3.endpoint)}`,
    `    region: ${JSON.stringify(s3.region)}`,
    `    bucket: ${JSON.stringify(s3.bucket)}`,
    `    accesskey: ${JSON.stringify(s3.accessKey)}`,
    `    secretkey: ${JSON.stringify(s3.secretKey)}`,
    '    secure: false',
    '    v4auth: true',
    '  redirect:',
    `    disable: ${!s3.redirect}`,
  ];
}
