// Manifest bodies of hostile shapes for `PUT …/manifests/<reference>` (docs/api.md, "Pushing a manifest", checks
// 3–9): not JSON, deeply nested, huge descriptor arrays, wrong types, media type mismatches, sizes around
// `max_manifest_size`. Each comes with the Content-Type it is pushed with.
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, DOCKER_LIST, type Descriptor } from './oci.ts';
import { randomHexDigest } from './hostile-values.ts';
import type { SeededRandom } from './seeded-random.ts';

export interface HostileManifest {
  label: string;
  contentType: string;
  body: Buffer;
}

/** What the shapes may point at: content that exists in the namespace, and the configured size limit. */
export interface ManifestContext {
  config: Descriptor;
  layer: Descriptor;
  /** A pushed manifest, for subjects and index children. */
  manifest: Descriptor;
  maxManifestSize: number;
}

function json(label: string, value: unknown, contentType = OCI_MANIFEST): HostileManifest {
  return { label, contentType, body: Buffer.from(JSON.stringify(value)) };
}

function text(label: string, body: string | Buffer, contentType = OCI_MANIFEST): HostileManifest {
  return { label, contentType, body: Buffer.isBuffer(body) ? body : Buffer.from(body) };
}

function image(context: ManifestContext, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { schemaVersion: 2, mediaType: OCI_MANIFEST, config: context.config, layers: [context.layer], ...extra };
}

/** An image manifest padded with an annotation to exactly `size` bytes of JSON. */
function sized(context: ManifestContext, size: number): Buffer {
  const empty = Buffer.byteLength(JSON.stringify(image(context, { annotations: { pad: '' } })));
  return Buffer.from(JSON.stringify(image(context, { annotations: { pad: 'p'.repeat(Math.max(0, size - empty)) } })));
}

function descriptors(random: SeededRandom, count: number, mediaType: string): Descriptor[] {
  return Array.from({ length: count }, () => ({ mediaType, digest: randomHexDigest(random), size: random.int(0, 1 << 20) }));
}

function nested(depth: number, open: string, close: string, inner: string): string {
  return `${open.repeat(depth)}${inner}${close.repeat(depth)}`;
}

/** One hostile body, drawn by `random`. */
export function hostileManifest(random: SeededRandom, context: ManifestContext): HostileManifest {
  const { config, layer, manifest, maxManifestSize } = context;
  const shapes: Array<() => HostileManifest> = [
    () => text('empty', ''),
    () => text('truncated', '{"schemaVersion":2,"layers":['),
    () => text('null', 'null'),
    () => text('array', '[]'),
    () => text('string', '"manifest"'),
    () => text('number', '2'),
    () => text('binary', random.bytes(random.int(1, 4096))),
    () => text('invalid utf-8', Buffer.concat([Buffer.from('{"schemaVersion":2,"annotations":{"a":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}}')])),
    () => text('byte order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(image(context)))])),
    () => text('duplicate keys', `{"schemaVersion":2,"schemaVersion":3,"config":${JSON.stringify(config)},"layers":[]}`),
    () => text('nested objects', `{"schemaVersion":2,"annotations":${nested(random.pick([1000, 20_000, 100_000]), '{"a":', '}', '"x"')}}`),
    () => text('nested arrays', `{"schemaVersion":2,"layers":${nested(random.pick([1000, 50_000, 200_000]), '[', ']', '')}}`),
    () => text('nested subject', `{"schemaVersion":2,"subject":${nested(10_000, '{"subject":', '}', '{}')}}`),
    () => json('many layers', image(context, { layers: descriptors(random, random.pick([1000, 5000]), OCI_LAYER) })),
    () => json('many index children', { schemaVersion: 2, mediaType: OCI_INDEX, manifests: descriptors(random, random.pick([1000, 5000]), OCI_MANIFEST) }, OCI_INDEX),
    () => json('many annotations', image(context, { annotations: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, 'v'])) })),
    () => json('schemaVersion string', image(context, { schemaVersion: '2' })),
    () => json('schemaVersion 1', image(context, { schemaVersion: 1 })),
    () => json('layers object', image(context, { layers: { 0: layer } })),
    () => json('layers string', image(context, { layers: 'x' })),
    () => json('config array', image(context, { config: [config] })),
    () => json('size string', image(context, { layers: [{ ...layer, size: String(layer.size) }] })),
    () => json('size negative', image(context, { layers: [{ ...layer, size: -1 }] })),
    () => json('size fraction', image(context, { layers: [{ ...layer, size: 1.5 }] })),
    () => text('size huge', JSON.stringify(image(context)).replace(`"size":${layer.size}`, '"size":1e400')),
    () => text('size 2^64', JSON.stringify(image(context)).replace(`"size":${layer.size}`, '"size":18446744073709551616')),
    () => json('digest number', image(context, { layers: [{ ...layer, digest: 123 }] })),
    () => json('digest bad', image(context, { layers: [{ ...layer, digest: 'sha256:XYZ' }] })),
    () => json('mediaType number', image(context, { layers: [{ ...layer, mediaType: 5 }] })),
    () => json('annotations numbers', image(context, { annotations: { a: 1 } })),
    () => json('annotations array', image(context, { annotations: ['a'] })),
    () => json('platform number', { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ ...manifest, platform: 5 }] }, OCI_INDEX),
    () => json('urls string', image(context, { layers: [{ ...layer, urls: 'http://x' }] })),
    () => json('foreign layer', image(context, { layers: [{ ...layer, digest: randomHexDigest(random), urls: ['http://127.0.0.1:1/x'] }] })),
    () => json('subject string', image(context, { subject: 'x' })),
    () => json('subject itself', image(context, { subject: manifest })),
    () => json('subject absent', image(context, { subject: { mediaType: OCI_MANIFEST, digest: randomHexDigest(random), size: 10 } })),
    () => json('index of itself', { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [manifest, manifest], subject: manifest }, OCI_INDEX),
    () => json('image and manifests', image(context, { manifests: [manifest] })),
    () => json('index type, manifest body', image(context), OCI_INDEX),
    () => json('manifest type, index body', { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [manifest] }),
    () => json('docker list, oci body', image(context), DOCKER_LIST),
    () => json('no mediaType', { schemaVersion: 2, config, layers: [layer] }),
    () => json('config as layer type', image(context, { config: { ...config, mediaType: OCI_LAYER } })),
    () => json('proto keys', { ...image(context), ['__proto__']: { schemaVersion: 3 }, constructor: { prototype: { polluted: true } } }),
    () => text('proto annotations', JSON.stringify(image(context)).replace('"schemaVersion":2', '"schemaVersion":2,"annotations":{"__proto__":"x","toString":"y"}')),
    () => text('at the limit', sized(context, maxManifestSize)),
    () => text('one past the limit', sized(context, maxManifestSize + 1)),
    () => text('twice the limit', sized(context, 2 * maxManifestSize)),
    () => json('config type mismatch', image(context, { config: { ...config, mediaType: OCI_CONFIG, size: config.size + 1 } })),
  ];
  return random.pick(shapes)();
}
