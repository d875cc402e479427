// `node test/support/with-ceph.ts <command...>`: runs the command with a throw-away Ceph cluster and RADOS Gateway
// (test/support/ceph-cluster.ts) described in ANGOS_TEST_CEPH, then stops the cluster and exits with the command's
// status. One cluster serves every test process of a run; each test takes buckets of its own. Nested runs reuse
// the outer cluster.
import { spawn } from 'node:child_process';
import { CEPH_ENV, startCephCluster, stopCephCluster } from './ceph-cluster.ts';

const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
  console.error('usage: node test/support/with-ceph.ts <command> [args...]');
  process.exit(2);
}
const handed = process.env[CEPH_ENV];
const started = handed === undefined || handed === '' ? await startCephCluster() : undefined;
const env = started === undefined ? process.env : { ...process.env, [CEPH_ENV]: JSON.stringify(started) };
if (started !== undefined) console.error(`with-ceph: Ceph RADOS Gateway on ${started.endpoint} (state in ${started.dir})`);
const child = spawn(command, args, { stdio: 'inherit', env });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
const status = await new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128))));
if (started !== undefined) await stopCephCluster(started);
process.exit(status);
