import { accessSync, constants } from 'node:fs';
import { CURL_BIN } from './client/curl.ts';
import { DISTRIBUTION_BIN } from './systems/distribution.ts';
import { NGINX_BIN } from './systems/nginx.ts';
import { CEPH_PACKAGES, missingCephBinaries } from './systems/rgw.ts';

const REQUIRED = [
  { binary: DISTRIBUTION_BIN, debianPackage: 'docker-registry' },
  { binary: NGINX_BIN, debianPackage: 'nginx-light' },
  { binary: CURL_BIN, debianPackage: 'curl' },
];

/**
 * The peers the benchmark compares against, its native client and, for the S3 phase (`withCeph`), the Ceph
 * daemons of its S3 server; nothing is installed behind the user's back.
 */
export function missingPrerequisites(withCeph: boolean): string[] {
  const problems: string[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24) problems.push(`Node.js ${process.versions.node} cannot run the .ts sources: use node_modules/.bin/node (npm run bench)`);
  const missing = REQUIRED.filter(({ binary }) => !executable(binary));
  for (const { binary, debianPackage } of missing) problems.push(`${binary} not found (Debian package '${debianPackage}')`);
  if (missing.length > 0) {
    problems.push(`install with: apt-get install -y ${missing.map((entry) => entry.debianPackage).join(' ')}`);
  }
  const ceph = withCeph ? missingCephBinaries() : [];
  if (ceph.length > 0) {
    problems.push(`the s3 phase needs Ceph (missing ${ceph.join(', ')})`);
    problems.push(`install with: apt-get install -y --no-install-recommends ${CEPH_PACKAGES.join(' ')} (or run the other phases only, with BENCH_ONLY)`);
  }
  return problems;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
