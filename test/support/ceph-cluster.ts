// A throw-away Ceph cluster with a RADOS Gateway: the real S3 server of the tests (docs/storage.md, "S3 servers").
// One monitor and one OSD on the in-memory `memstore` object store, no manager, no systemd, every daemon from
// Debian's packages (radosgw ceph-mon ceph-osd) run as the current user from a temporary directory, on loopback
// ports. Ready in about 3 s, about 115 MiB idle. Deleted objects are reclaimed by the gateway's GC after ~30 s.
//
// `npm test` starts one cluster for the whole run (test/support/with-ceph.ts) and hands it to every test process
// through ANGOS_TEST_CEPH; a test file run on its own starts a cluster of its own and kills it at exit.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { findBinary } from './binaries.ts';
import { freePort } from './free-port.ts';

const run = promisify(execFile);

/** What a client needs to reach a cluster, and what another gateway needs to join it. */
export interface CephCluster {
  /** The state directory: `ceph.conf`, keyrings, PID files and logs. */
  readonly dir: string;
  /** The first gateway: `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly region: string;
}

/** The environment variable that hands a running cluster (its JSON description) to test processes. */
export const CEPH_ENV = 'ANGOS_TEST_CEPH';
export const CEPH_PACKAGES = ['radosgw', 'ceph-mon', 'ceph-osd'];
const BINARIES = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'ceph', 'ceph-authtool', 'monmaptool'];
const GATEWAY = 'client.rgw.angos';
/** Fixed test keys: the cluster lives in one machine's memory and only on loopback. */
const ACCESS_KEY = 'angos-test-access';
const SECRET_KEY = 'angos-test-secret';

/** The Ceph binaries missing on PATH (empty when a cluster can start). */
export function missingCephBinaries(): string[] {
  return BINARIES.filter((name) => findBinary(name) === undefined);
}

function config(dir: string, monV2: number, monV1: number, gatewayPort: number): string {
  return `[global]
fsid = ${randomUUID()}
mon host = [v2:127.0.0.1:${monV2},v1:127.0.0.1:${monV1}]
mon initial members = a
public addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = ${dir}/keyring
run dir = ${dir}/run
crash dir = ${dir}/crash
admin socket = ${dir}/run/$name.$pid.asok
pid file = ${dir}/run/$name.pid
log file = ${dir}/log/$name.log
log to stderr = false
err to stderr = true
# One OSD, one copy, few placement groups, nothing to autoscale them.
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
# Commit map changes fast: the gateway creates its pools one by one at first start.
paxos propose interval = 0.05
paxos min wait = 0.01
osd op num shards = 2
osd op num threads per shard = 2
# A gateway that dies without deregistering holds up bucket changes until its watches expire (default 30 s).
osd client watch timeout = 5

[mon]
mon data = ${dir}/mon.$id

[osd]
osd data = ${dir}/osd.$id
keyring = ${dir}/osd.$id/keyring
osd objectstore = memstore
memstore device bytes = 17179869184

[${GATEWAY}]
# tcp_nodelay: without it every response with a body waits ~40 ms for delayed ACKs (Nagle).
rgw frontends = beast endpoint=127.0.0.1:${gatewayPort} tcp_nodelay=1
rgw data = ${dir}/rgw
rgw thread pool size = 64
rgw dns name = 127.0.0.1
rgw enable usage log = false
# As on AWS: every part but the last is at least 5 MiB (EntityTooSmall otherwise).
rgw multipart min part size = 5242880
# Reclaim deleted data and aborted parts within a minute (the default waits two hours).
rgw gc obj min wait = 30
rgw gc processor period = 30
`;
}

/** Starts a cluster in a new temporary directory. On failure everything started is killed and the logs are quoted. */
export async function startCephCluster(): Promise<CephCluster> {
  const missing = missingCephBinaries();
  if (missing.length > 0) throw new Error(`Ceph is not installed (missing ${missing.join(', ')}): apt-get install -y --no-install-recommends ${CEPH_PACKAGES.join(' ')}`);
  const dir = await mkdtemp(join(tmpdir(), 'angos-ceph-'));
  for (const sub of ['run', 'log', 'crash', 'mon.a', 'osd.0', 'rgw']) await mkdir(join(dir, sub));
  const [monV2, monV1, gatewayPort] = [await freePort(), await freePort(), await freePort()];
  const conf = join(dir, 'ceph.conf');
  await writeFile(conf, config(dir, monV2, monV1, gatewayPort));
  const c = ['-c', conf];
  const step = async (what: string, file: string, args: string[], timeoutMs = 60_000) => {
    try {
      return (await run(file, args, { timeout: timeoutMs })).stdout;
    } catch (error) {
      killCluster(dir, { keepLogs: true });
      throw new Error(`Ceph start-up failed at ${what}: ${String(error)}\n${await logTails(dir)}`);
    }
  };
  const keyring = join(dir, 'keyring');
  await step('keyring', 'ceph-authtool', ['--create-keyring', keyring, '--gen-key', '-n', 'mon.', '--cap', 'mon', 'allow *']);
  await step('keyring', 'ceph-authtool', [keyring, '--gen-key', '-n', 'client.admin', '--cap', 'mon', 'allow *', '--cap', 'osd', 'allow *', '--cap', 'mgr', 'allow *']);
  await step('keyring', 'ceph-authtool', [keyring, '--gen-key', '-n', GATEWAY, '--cap', 'mon', 'allow rw', '--cap', 'osd', 'allow rwx']);

  const monmap = join(dir, 'monmap');
  const fsid = /fsid = (\S+)/.exec(await readFile(conf, 'utf8'))![1]!;
  await step('monmap', 'monmaptool', ['--create', '--clobber', '--fsid', fsid, '--addv', 'a', `[v2:127.0.0.1:${monV2},v1:127.0.0.1:${monV1}]`, monmap]);
  await step('ceph-mon --mkfs', 'ceph-mon', [...c, '--mkfs', '-i', 'a', '--monmap', monmap, '--keyring', keyring]);
  // The daemons fork into the background once started; their PID files name them.
  await step('ceph-mon', 'ceph-mon', [...c, '-i', 'a']);

  const osdUuid = randomUUID();
  const osdKey = (await step('osd key', 'ceph-authtool', ['--gen-print-key'])).trim();
  await writeFile(join(dir, 'osd.0/new.json'), JSON.stringify({ cephx_secret: osdKey }));
  await step('ceph osd new', 'ceph', [...c, '--connect-timeout', '30', 'osd', 'new', osdUuid, '-i', join(dir, 'osd.0/new.json')]);
  await writeFile(join(dir, 'osd.0/keyring'), `[osd.0]\n\tkey = ${osdKey}\n`);
  await step('ceph-osd --mkfs', 'ceph-osd', [...c, '-i', '0', '--mkfs', '--key', osdKey, '--osd-uuid', osdUuid]);
  await step('ceph-osd', 'ceph-osd', [...c, '-i', '0']);
  for (let tries = 0; !/^osd\.0 up/m.test(await step('ceph osd dump', 'ceph', [...c, 'osd', 'dump'])); tries++) {
    if (tries === 120) await step('osd.0 up', 'false', []);
    await sleep(250);
  }

  const endpoint = `http://127.0.0.1:${gatewayPort}`;
  await step('radosgw', 'radosgw', [...c, '-n', GATEWAY]);
  await waitForGateway(endpoint, () => step('radosgw answering', 'false', []));
  await step('radosgw-admin user create', 'radosgw-admin', [
    ...c,
    'user',
    'create',
    '--uid=angos',
    '--display-name=angos',
    `--access-key=${ACCESS_KEY}`,
    `--secret-key=${SECRET_KEY}`,
  ]);
  const cluster: CephCluster = { dir, endpoint, accessKey: ACCESS_KEY, secretKey: SECRET_KEY, region: 'us-east-1' };
  await writeFile(join(dir, 'cluster.json'), JSON.stringify(cluster));
  return cluster;
}

/** Waits until `endpoint` answers the anonymous ListBuckets (200 on RGW); calls `failed` after 60 s. */
export async function waitForGateway(endpoint: string, failed: () => Promise<unknown>): Promise<void> {
  for (let tries = 0; ; tries++) {
    const status = await fetch(`${endpoint}/`).then(
      (response) => response.arrayBuffer().then(() => response.status),
      () => 0,
    );
    if (status === 200) return;
    if (tries === 1200) {
      await failed();
      return;
    }
    await sleep(50);
  }
}

/**
 * Kills every daemon named by a PID file in `dir` (SIGKILL: the data is throw-away) and removes `dir`. Synchronous:
 * it also runs in a process 'exit' handler.
 */
export function killCluster(dir: string, options: { keepLogs?: boolean } = {}): void {
  let names: string[] = [];
  try {
    names = readdirSync(join(dir, 'run')).filter((name) => name.endsWith('.pid'));
  } catch {
    // nothing started
  }
  for (const name of names) {
    const pid = Number(readFileSync(join(dir, 'run', name), 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && ownedBy(pid, dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  if (!options.keepLogs) rmSync(dir, { recursive: true, force: true });
}

/** A PID is ours only while its command line names our state directory (a recycled PID is left alone). */
function ownedBy(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
  } catch {
    return false;
  }
}

async function logTails(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const name of ['mon.a.log', 'osd.0.log', `${GATEWAY}.log`]) {
    const text = await readFile(join(dir, 'log', name), 'utf8').catch(() => '');
    if (text !== '') parts.push(`--- ${name}\n${text.split('\n').slice(-15).join('\n')}`);
  }
  return parts.join('\n');
}

let local: Promise<CephCluster> | undefined;

/**
 * The cluster of this test run: the one ANGOS_TEST_CEPH describes, or one this process starts on first use and
 * kills when it exits.
 */
export function cephCluster(): Promise<CephCluster> {
  const handed = process.env[CEPH_ENV];
  if (handed !== undefined && handed !== '') return Promise.resolve(JSON.parse(handed) as CephCluster);
  local ??= startCephCluster().then((cluster) => {
    process.once('exit', () => killCluster(cluster.dir));
    return cluster;
  });
  return local;
}

/** Stops a cluster started by `startCephCluster` and removes its directory. */
export async function stopCephCluster(cluster: CephCluster): Promise<void> {
  killCluster(cluster.dir);
  await rm(cluster.dir, { recursive: true, force: true });
}

/**
 * An S3 client of the cluster's first gateway with the settings the registry itself uses: path-style addressing,
 * and checksums only where required (with the SDK's default, streamed bodies get 411 from Ceph 16.2).
 */
export function clusterClient(cluster: CephCluster): S3Client {
  return new S3Client({
    endpoint: cluster.endpoint,
    region: cluster.region,
    forcePathStyle: true,
    credentials: { accessKeyId: cluster.accessKey, secretAccessKey: cluster.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
