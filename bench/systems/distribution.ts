import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, startProcess, type RunningSystem } from './system.ts';

export const DISTRIBUTION_BIN = '/usr/bin/docker-registry';

export interface DistributionOptions {
  /**
   * The largest catalog page it serves (`catalog.maxentries`, default 1000): a larger `n` is cut to it, so a
   * whole catalog of more namespaces in one request needs it raised.
   */
  catalogMaxEntries?: number;
}

/**
 * CNCF Distribution 2.8 on filesystem storage, configured as its Debian package ships it (in-memory blob
 * descriptor cache), with request logging off and upload purging off so no background walk runs mid-measure.
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
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${JSON.stringify(dataDir)}`,
      '  cache:',
      '    blobdescriptor: inmemory',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      ...(options.catalogMaxEntries === undefined ? [] : ['catalog:', `  maxentries: ${options.catalogMaxEntries}`]),
      'http:',
      `  addr: 127.0.0.1:${port}`,
      `  secret: ${randomBytes(16).toString('hex')}`,
      '',
    ].join('\n'),
  );
  // REGISTRY_* variables override the YAML; the caller's environment must not change what is measured.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('REGISTRY_')));
  const system = await startProcess('distribution', DISTRIBUTION_BIN, ['serve', config], { workDir, port, probePath: '/v2/', env });
  return { ...system, dataDir };
}
