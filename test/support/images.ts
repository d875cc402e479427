import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBinary } from './binaries.ts';
import { OCI_INDEX, sha256, type Descriptor } from './oci.ts';
import { blobPath, readIndexJson, REF_NAME_ANNOTATION, taggedDescriptor } from './oci-layout.ts';

/** An OCI image layout on disk holding one image (manifest or index) under `tag`. Treat as read-only: it is shared. */
export interface BuiltImage {
  layoutDir: string;
  tag: string;
  /** The descriptor `index.json` lists for `tag`: an image manifest or an image index. */
  root: Descriptor;
}

/** Large enough that pushes take several PATCH-sized chunks; random so the layer's gzip cannot shrink it. */
export const LARGE_LAYER_BYTES = 8 * 1024 * 1024;

/**
 * linux/amd64 image whose one layer holds LARGE_LAYER_BYTES of random bytes, built with umoci.
 * Requires `umoci` (guard with `requireBinary`).
 */
export function singlePlatformImage(): Promise<BuiltImage> {
  return cachedImage('single-platform', async (layoutDir, workDir) => {
    const tag = 'v1';
    await runBinary('umoci', ['init', '--layout', layoutDir]);
    await buildPlatformImage(layoutDir, tag, 'amd64', join(workDir, 'bundle'), async (rootfs) => {
      await writeFile(join(rootfs, 'random.bin'), randomBytes(LARGE_LAYER_BYTES));
    });
    await runBinary('umoci', ['gc', '--layout', layoutDir]);
    return tag;
  });
}

/**
 * An image index for linux/amd64 and linux/arm64 built with umoci. umoci cannot write an index, so the
 * two images are built in one layout and the index blob is written here, tagged in `index.json`.
 */
export function twoPlatformIndex(): Promise<BuiltImage> {
  return cachedImage('two-platform', async (layoutDir, workDir) => {
    const tag = 'multi';
    await runBinary('umoci', ['init', '--layout', layoutDir]);
    const children: Descriptor[] = [];
    for (const architecture of ['amd64', 'arm64']) {
      await buildPlatformImage(layoutDir, architecture, architecture, join(workDir, architecture), async (rootfs) => {
        await writeFile(join(rootfs, 'platform.txt'), `linux/${architecture} ${randomBytes(8).toString('hex')}\n`);
      });
      const { mediaType, digest, size } = await taggedDescriptor(layoutDir, architecture);
      children.push({ mediaType, digest, size, platform: { os: 'linux', architecture } });
    }
    await runBinary('umoci', ['gc', '--layout', layoutDir]);
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children }));
    const descriptor: Descriptor = {
      mediaType: OCI_INDEX,
      digest: sha256(index),
      size: index.length,
      annotations: { [REF_NAME_ANNOTATION]: tag },
    };
    await writeFile(blobPath(layoutDir, descriptor.digest), index);
    const indexJson = await readIndexJson(layoutDir);
    indexJson.manifests.push(descriptor);
    await writeFile(join(layoutDir, 'index.json'), JSON.stringify(indexJson));
    return tag;
  });
}

async function buildPlatformImage(
  layoutDir: string,
  tag: string,
  architecture: string,
  bundleDir: string,
  fillRootfs: (rootfs: string) => Promise<void>,
): Promise<void> {
  const image = `${layoutDir}:${tag}`;
  await runBinary('umoci', ['new', '--image', image]);
  await runBinary('umoci', ['config', '--image', image, '--os', 'linux', '--architecture', architecture]);
  await runBinary('umoci', ['unpack', '--rootless', '--image', image, bundleDir]);
  await fillRootfs(join(bundleDir, 'rootfs'));
  await runBinary('umoci', ['repack', '--image', image, bundleDir]);
  await rm(bundleDir, { recursive: true, force: true });
}

// One cache per `node --test` run: every test file is a child of the runner, so they share its pid.
const cacheRoot = join(tmpdir(), `angos-test-images-${process.ppid}`);
const building = new Map<string, Promise<BuiltImage>>();

type Build = (layoutDir: string, workDir: string) => Promise<string>;

function cachedImage(name: string, build: Build): Promise<BuiltImage> {
  let image = building.get(name);
  if (!image) {
    image = loadOrBuild(name, build);
    building.set(name, image);
  }
  return image;
}

/** Test files run in parallel processes: each builds privately, the first rename publishes, later ones reuse it. */
async function loadOrBuild(name: string, build: Build): Promise<BuiltImage> {
  const finalDir = join(cacheRoot, name);
  const cached = await readBuilt(finalDir);
  if (cached) return cached;
  await removeStaleCaches();
  await mkdir(cacheRoot, { recursive: true });
  const workDir = await mkdtemp(join(cacheRoot, `.${name}-`));
  const tag = await build(join(workDir, 'layout'), workDir);
  const root = await taggedDescriptor(join(workDir, 'layout'), tag);
  await writeFile(join(workDir, 'built.json'), JSON.stringify({ tag, root }));
  try {
    await rename(workDir, finalDir);
  } catch (error) {
    if (!isErrorCode(error, 'ENOTEMPTY', 'EEXIST')) throw error;
    await rm(workDir, { recursive: true, force: true });
  }
  const built = await readBuilt(finalDir);
  if (!built) throw new Error(`image cache ${finalDir} vanished`);
  return built;
}

async function readBuilt(dir: string): Promise<BuiltImage | undefined> {
  try {
    const { tag, root } = JSON.parse(await readFile(join(dir, 'built.json'), 'utf8')) as { tag: string; root: Descriptor };
    return { layoutDir: join(dir, 'layout'), tag, root };
  } catch (error) {
    if (isErrorCode(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/** Caches of finished runs would otherwise pile up in the temp dir: drop those whose runner is gone. */
async function removeStaleCaches(): Promise<void> {
  for (const entry of await readdir(tmpdir())) {
    const pid = /^angos-test-images-(\d+)$/.exec(entry)?.[1];
    if (pid === undefined || Number(pid) === process.ppid || isAlive(Number(pid))) continue;
    await rm(join(tmpdir(), entry), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isErrorCode(error, 'EPERM');
  }
}

function isErrorCode(error: unknown, ...codes: string[]): boolean {
  return error instanceof Error && codes.includes((error as NodeJS.ErrnoException).code ?? '');
}
