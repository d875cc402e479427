import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, startProcess, type RunningSystem } from './system.ts';

export const DISTRIBUTION_BIN = '/usr/bin/docker-registry';

/**
 * CNCF Distribution 2.8 on filesystem storage, configured as its Debian package ships it (in-memory blob
 * descriptor cache), with request logging off and upload purging off so no background walk runs mid-measure.
 */
export async function startDistribution(workDir: string): Promise<RunningSystem> {
  const port = await freePort();
  const config = join(workDir, 'distribution.yml');
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
      `    rootdirectory: ${JSON.stringify(join(workDir, 'distribution-data'))}`,
      '  cache:',
      '    blobdescriptor: inmemory',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      `  secret: ${randomBytes(16).toString('hex')}`,
      '',
    ].join('\n'),
  );
  // REGISTRY_* variables override the YAML; the caller's environment must not change what is measured.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('REGISTRY_')));
  return startProcess('distribution', DISTRIBUTION_BIN, ['serve', config], { workDir, port, probePath: '/v2/', env });
}
