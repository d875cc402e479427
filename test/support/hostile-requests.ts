// The request families of the fuzz campaign (test/reliability/fuzz.test.ts). Each case is drawn from its own
// fork of one seeded generator, so the campaign is the same on every run whatever order the cases finish in.
// The one rule every answer must keep is docs/api.md's: a request is either served or refused with a 4xx; a
// few answers the documentation pins exactly (a last name component over 240 characters, more than 100 `?tag=`
// values) are also stated as expectations.
import { createHash } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import type { HttpResponse, RequestOptions } from './http.ts';
import { hostileManifest, type ManifestContext } from './hostile-manifests.ts';
import {
  BLOB_RANGES,
  CONTENT_LENGTHS,
  CONTENT_RANGES,
  CONTENT_TYPES,
  digests,
  fakeDigest,
  LAST_VALUES,
  NAMES,
  PAGE_SIZES,
  RAW_PATH_PIECES,
  SOURCE_TIMESTAMPS,
  TAGS,
} from './hostile-values.ts';
import { OCI_MANIFEST, type Content } from './oci.ts';
import type { SeededRandom } from './seeded-random.ts';

/** How a case talks to the server; every answer (or its absence) is recorded by the implementation. */
export interface FuzzClient {
  /** Resolves undefined when the connection failed without an answer. `expect` pins the status. */
  http(method: string, path: string, options?: RequestOptions, expect?: number): Promise<HttpResponse | undefined>;
  /**
   * Raw bytes for framing no HTTP client sends. A message `cutShort` (its body incomplete, or one Node may drop
   * without answering) is half-closed and may go unanswered; any other must be answered.
   */
  raw(bytes: string | Buffer, cutShort?: boolean): Promise<number | undefined>;
}

/** The repository the campaign's server declares with `namespace = "docker.io"`. */
export const MIRROR_REPOSITORY = 'mirror';

/** What the campaign seeded before it started: content under `name`, and the `ns` host a repository mirrors. */
export interface FuzzTarget {
  name: string;
  layer: Content;
  context: ManifestContext;
  mirroredHost: string;
}

export interface FuzzCase {
  family: string;
  run(client: FuzzClient): Promise<void>;
}

type Family = (random: SeededRandom, target: FuzzTarget) => (client: FuzzClient) => Promise<void>;

const sha256 = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const sha512 = (data: Buffer | string): string => `sha512:${createHash('sha512').update(data).digest('hex')}`;

const NAME_COMPONENT = /^[a-z0-9]+(?:(?:__|[._]|-+)[a-z0-9]+)*$/;

/** docs/api.md, "Routing": a valid name whose last component is over 240 characters is 400 NAME_INVALID on every route. */
function unstorableName(name: string): boolean {
  const components = name.split('/');
  return name.length <= 255 && components.every((part) => NAME_COMPONENT.test(part)) && (components.at(-1) ?? '').length > 240;
}

/** A small valid image manifest, unique to the draw, over the seeded config and layer. */
function validManifest(random: SeededRandom, target: FuzzTarget): Buffer {
  const { config, layer } = target.context;
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer], annotations: { draw: String(random.int(0, 1e9)) } }));
}

/** A header sent once per value (Node writes one line per element of an array value). */
function repeated(name: string, values: string[]): OutgoingHttpHeaders {
  const headers: Record<string, string[]> = { [name]: values };
  return headers;
}

function rawMessage(method: string, target: string, headers: Array<[string, string]>, body: string | Buffer = ''): Buffer {
  const head = [`${method} ${target} HTTP/1.1`, 'Host: fuzz', ...headers.map(([name, value]) => `${name}: ${value}`), 'Connection: close'];
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.from(body)]);
}

async function newSession(client: FuzzClient, name: string, query = ''): Promise<string | undefined> {
  const response = await client.http('POST', `/v2/${name}/blobs/uploads/${query}`);
  const location = response?.headers.location;
  return response?.status === 202 && typeof location === 'string' ? location : undefined;
}

const names: Family = (random, target) => {
  const name = random.pick(NAMES);
  const digest = random.chance(0.5) ? target.layer.digest : fakeDigest(name);
  const manifest = validManifest(random, target);
  const routes: Array<[string, string, RequestOptions?]> = [
    ['GET', `/v2/${name}/tags/list`],
    ['GET', `/v2/${name}/manifests/v1`],
    ['HEAD', `/v2/${name}/manifests/v1`],
    ['DELETE', `/v2/${name}/manifests/v1`],
    ['PUT', `/v2/${name}/manifests/v1`, { headers: { 'content-type': OCI_MANIFEST }, body: manifest }],
    ['POST', `/v2/${name}/blobs/uploads/`],
    ['POST', `/v2/${name}/blobs/uploads/?digest=${target.layer.digest}`, { body: target.layer.bytes }],
    ['GET', `/v2/${name}/blobs/${digest}`],
    ['HEAD', `/v2/${name}/blobs/${digest}`],
    ['DELETE', `/v2/${name}/blobs/${digest}`],
    ['GET', `/v2/${name}/referrers/${digest}`],
    ['GET', `/v2/${name}/_angos/revisions/list`],
    ['GET', `/v2/${name}/_angos/uploads/list`],
    ['GET', `/v2/${name}/manifests/v1?ns=${target.mirroredHost}`],
    ['POST', `/v2/${name}/blobs/uploads/?mount=${target.layer.digest}&from=${target.name}`],
    ['POST', `/v2/${target.name}-copy/blobs/uploads/?mount=${target.layer.digest}&from=${name}`],
    [random.pick(['OPTIONS', 'TRACE', 'PROPFIND', 'PATCH', 'POST']), `/v2/${name}/manifests/v1`],
  ];
  const [method, path, options] = random.pick(routes);
  return async (client) => {
    await client.http(method, path, options, unstorableName(name) ? 400 : undefined);
  };
};

const digestFamily: Family = (random, target) => {
  const digest = random.pick(digests(target.layer.digest));
  const ns = target.name;
  const routes: Array<(client: FuzzClient) => Promise<unknown>> = [
    (client) => client.http(random.pick(['GET', 'HEAD', 'DELETE']), `/v2/${ns}/blobs/${digest}`),
    (client) => client.http('POST', `/v2/fuzz/digests/blobs/uploads/?digest=${digest}`, { body: target.layer.bytes }),
    (client) => client.http('POST', `/v2/fuzz/digests/blobs/uploads/?mount=${digest}&from=${ns}`),
    (client) => client.http(random.pick(['GET', 'HEAD', 'DELETE']), `/v2/${ns}/manifests/${digest}`),
    (client) => client.http('PUT', `/v2/fuzz/digests/manifests/${digest}`, { headers: { 'content-type': OCI_MANIFEST }, body: validManifest(random, target) }),
    (client) => client.http('GET', `/v2/${ns}/referrers/${digest}`),
    async (client) => {
      const location = await newSession(client, 'fuzz/digests');
      if (location) await client.http('PUT', `${location}?digest=${digest}`, { body: target.layer.bytes });
    },
  ];
  return async (client) => {
    await random.pick(routes)(client);
  };
};

function randomTag(random: SeededRandom): string {
  const alphabet = random.pick(['abcxyz019_.-', 'abcXYZ019_.-:/%+ ~!@$&*()[]{}|;,<>=', 'a']);
  const length = random.pick([1, 2, 64, 127, 128, 129, 130, 200, random.int(1, 300)]);
  return encodeURIComponent(random.string(length, alphabet)).replace(/%2F/gi, random.chance(0.5) ? '/' : '%2F');
}

const references: Family = (random, target) => {
  const reference = random.chance(0.6) ? random.pick(TAGS) : randomTag(random);
  const ns = random.pick([target.name, 'fuzz/refs']);
  const body = validManifest(random, target);
  const routes: Array<[string, string, RequestOptions?]> = [
    ['GET', `/v2/${ns}/manifests/${reference}`],
    ['HEAD', `/v2/${ns}/manifests/${reference}`],
    ['DELETE', `/v2/fuzz/refs/manifests/${reference}`],
    ['PUT', `/v2/fuzz/refs/manifests/${reference}`, { headers: { 'content-type': OCI_MANIFEST }, body }],
    ['PUT', `/v2/fuzz/refs/manifests/${sha256(body)}?tag=${reference}`, { headers: { 'content-type': OCI_MANIFEST }, body }],
    ['GET', `/v2/${ns}/_angos/pulls/list?tag=${reference}`],
  ];
  const [method, path, options] = random.pick(routes);
  return async (client) => {
    await client.http(method, path, options);
  };
};

const ranges: Family = (random, target) => {
  const blobPath = `/v2/${target.name}/blobs/${target.layer.digest}`;
  const range = random.pick(BLOB_RANGES);
  const contentRange = random.pick(CONTENT_RANGES);
  const body = random.bytes(random.pick([0, 1, 10, 100]));
  const variants: Array<(client: FuzzClient) => Promise<unknown>> = [
    (client) => client.http('GET', blobPath, { headers: { range } }),
    (client) => client.http('HEAD', blobPath, { headers: { range } }),
    (client) => client.http('GET', blobPath, { headers: repeated('range', [range, random.pick(BLOB_RANGES)]) }),
    (client) => client.http('GET', `/v2/${target.name}/manifests/v1`, { headers: { range } }),
    async (client) => {
      const location = await newSession(client, 'fuzz/ranges');
      if (location) await client.http('PATCH', location, { headers: { 'content-range': contentRange }, body });
    },
    async (client) => {
      const location = await newSession(client, 'fuzz/ranges');
      if (location) await client.http('PUT', `${location}?digest=${sha256(body)}`, { headers: { 'content-range': contentRange }, body });
    },
    async (client) => {
      const location = await newSession(client, 'fuzz/ranges');
      if (location) await client.http('PATCH', location, { headers: repeated('content-range', [contentRange, '0-0']), body });
    },
  ];
  return async (client) => {
    await random.pick(variants)(client);
  };
};

const headerFamily: Family = (random, target) => {
  const manifest = validManifest(random, target);
  const manifestPath = `/v2/fuzz/headers/manifests/${random.pick(['v1', 'v2', sha256(manifest)])}`;
  const contentLength = random.pick(CONTENT_LENGTHS);
  const short = random.bytes(random.int(1, 64));
  const variants: Array<(client: FuzzClient) => Promise<unknown>> = [
    // Content-Length garbage, a body longer than declared, and bodies shorter than declared (only the client's
    // half-close ends those).
    (client) => client.raw(rawMessage('PUT', manifestPath, [['Content-Type', OCI_MANIFEST], ['Content-Length', contentLength]], manifest)),
    (client) => client.raw(rawMessage('PUT', manifestPath, [['Content-Type', OCI_MANIFEST], ['Content-Length', String(manifest.length - 7)]], manifest)),
    (client) => client.raw(rawMessage('PUT', manifestPath, [['Content-Type', OCI_MANIFEST], ['Content-Length', String(manifest.length + 50)]], manifest), true),
    (client) => client.raw(rawMessage('POST', `/v2/fuzz/headers/blobs/uploads/?digest=${sha256(short)}`, [['Content-Length', String(short.length + 3)]], short), true),
    (client) => client.raw(rawMessage('POST', `/v2/fuzz/headers/blobs/uploads/?digest=${sha256(short)}`, [['Content-Length', String(short.length)], ['Content-Length', String(short.length + 1)]], short)),
    async (client) => {
      const location = await newSession(client, 'fuzz/headers');
      if (!location) return;
      // The last two leave the parser waiting for bytes that never come: only the half-close ends them.
      const [framing, cutShort] = random.pick<[Array<[string, string]>, boolean]>([
        [[['Transfer-Encoding', 'gzip']], false],
        [[['Transfer-Encoding', 'chunked, gzip']], false],
        [[['Transfer-Encoding', 'identity']], false],
        [[['Transfer-Encoding', 'chunked'], ['Content-Length', String(short.length)]], false],
        [[['Transfer-Encoding', 'chunked'], ['Transfer-Encoding', 'chunked']], false],
        [[['Content-Length', contentLength]], false],
        [[['Transfer-Encoding', 'Chunked']], true],
        [[['Content-Length', String(short.length + 10)]], true],
      ]);
      await client.raw(rawMessage('PATCH', location, framing, short), cutShort);
    },
    async (client) => {
      const location = await newSession(client, 'fuzz/headers');
      if (!location) return;
      const [body, cutShort] = random.pick<[string, boolean]>([
        [`${short.length.toString(16)};ext=1\r\n${short.toString('latin1')}\r\n0\r\n\r\n`, false],
        [`${short.length.toString(16)}\r\n${short.toString('latin1')}\r\n0\r\nX-Trailer: 1\r\n\r\n`, false],
        [`fffffffffffffffff\r\nabc\r\n0\r\n\r\n`, false],
        [`-5\r\nabc\r\n0\r\n\r\n`, false],
        [`3\r\nabcdef\r\n0\r\n\r\n`, false],
        [`0\r\n\r\n`, false],
        [`3\r\nabc\r\n`, true],
      ]);
      await client.raw(Buffer.concat([rawMessage('PATCH', location, [['Transfer-Encoding', 'chunked']]), Buffer.from(body, 'latin1')]), cutShort);
    },
    (client) => client.http('PUT', manifestPath, { headers: { 'content-type': random.pick(CONTENT_TYPES) }, body: manifest }),
    (client) => client.http('PUT', manifestPath, { headers: repeated('content-type', [OCI_MANIFEST, random.pick(CONTENT_TYPES)]), body: manifest }),
    (client) => client.http('PUT', manifestPath, { headers: { 'content-type': OCI_MANIFEST }, chunks: [manifest.subarray(0, 10), manifest.subarray(10)] }),
    (client) => client.http('PUT', manifestPath, { headers: { 'content-type': OCI_MANIFEST, expect: '100-continue' }, body: manifest }),
    (client) => client.http(random.pick(['PUT', 'DELETE']), manifestPath, sourceTimestamp(random, manifest)),
    (client) => client.http('GET', `/v2/${target.name}/manifests/v1`, { headers: { accept: random.pick(CONTENT_TYPES), 'x-angos-no-redirect': random.pick(['1', '', 'false', 'maybe']) } }),
    (client) => client.http('GET', `/v2/${target.name}/tags/list`, { headers: { authorization: random.pick(['Basic', 'Basic !!!', 'Bearer', 'Bearer x.y.z', 'Digest a=b', 'Basic Og==']) } }),
  ];
  return async (client) => {
    await random.pick(variants)(client);
  };
};

function sourceTimestamp(random: SeededRandom, manifest: Buffer): RequestOptions {
  const stamp = random.pick(SOURCE_TIMESTAMPS);
  const headers: OutgoingHttpHeaders = { 'content-type': OCI_MANIFEST, 'x-angos-source-timestamp': random.chance(0.2) ? [stamp, random.pick(SOURCE_TIMESTAMPS)] : stamp };
  return { headers, body: manifest };
}

const queries: Family = (random, target) => {
  const n = random.pick(PAGE_SIZES);
  const last = random.pick(LAST_VALUES);
  const listQuery = [random.chance(0.7) ? `n=${n}` : '', random.chance(0.5) ? `last=${last}` : '', random.chance(0.15) ? `n=${random.pick(PAGE_SIZES)}` : '', random.chance(0.15) ? 'last=x' : '']
    .filter((part) => part !== '')
    .join('&');
  const manifest = validManifest(random, target);
  const tagCount = random.pick([0, 1, 2, 99, 100, 101, 150, 500, 1000, random.int(0, 1000)]);
  const badTag = random.chance(0.1);
  const tags = Array.from({ length: tagCount }, (_, index) => `t${badTag && index === 0 ? '%00' : random.int(0, Math.max(1, tagCount))}`);
  const junk = random.pick(['?', '?&&&', '?=', '?%', '?n=%ZZ', '?n=1&n', '?;n=1', '?n[]=1', `?${'a=1&'.repeat(2000)}`]);
  const digest = target.layer.digest;
  const depth = random.int(100, 130);
  const overlongRewrite = depth * 2 + 1 <= 255 && `${MIRROR_REPOSITORY}/`.length + depth * 2 + 1 > 255;
  const variants: Array<(client: FuzzClient) => Promise<unknown>> = [
    (client) => client.http('GET', `/v2/${target.name}/tags/list?${listQuery}`),
    (client) => client.http('GET', `/v2/_catalog?${listQuery}`),
    (client) => client.http('GET', `/v2/${target.name}/tags/list${junk}`),
    (client) => client.http('GET', `/v2/${target.name}/manifests/v1?ns=${random.pick([target.mirroredHost, target.mirroredHost.toUpperCase(), '', '%00', 'x'.repeat(300)])}${random.chance(0.3) ? `&ns=${target.mirroredHost}` : ''}`),
    // docs/api.md, "The ns parameter": a rewritten name over 255 characters is 400 NAME_INVALID.
    (client) => client.http('GET', `/v2/${'n/'.repeat(depth)}x/manifests/v1?ns=${target.mirroredHost}`, {}, overlongRewrite ? 400 : undefined),
    (client) => client.http('POST', `/v2/fuzz/query/blobs/uploads/?digest=${digest}&digest=${random.pick([digest, fakeDigest('q')])}`, { body: target.layer.bytes }),
    (client) => client.http('POST', `/v2/fuzz/query/blobs/uploads/?digest-algorithm=${random.pick(['sha256', 'sha512', 'SHA256', 'sha1', '', 'sha256&digest-algorithm=sha512'])}`),
    (client) => client.http('POST', `/v2/fuzz/query/blobs/uploads/?${random.pick([`mount=${digest}&mount=${digest}`, `mount=${digest}&from=${target.name}&from=${target.name}`, `mount=${digest}&from=fuzz/query`, `from=${target.name}`, 'from=BAD', `mount=${digest}&from=`, `mount=&from=${target.name}`, `mount=${fakeDigest('mount')}`])}`),
    (client) => client.http('PUT', `/v2/fuzz/query/manifests/${sha256(manifest)}${tags.length === 0 ? '' : `?tag=${tags.join('&tag=')}`}`, { headers: { 'content-type': OCI_MANIFEST }, body: manifest }, tagCount > 100 ? 400 : undefined),
    (client) => client.http('GET', `/v2/${target.name}/referrers/${target.context.manifest.digest}?${random.pick(['artifactType=a/b&artifactType=c/d', 'artifactType=%00', 'artifactType=', 'last=x&last=y', `artifactType=${'a'.repeat(3000)}/b`])}`),
    (client) => client.http('GET', `/v2/${target.name}/_angos/pulls/list?${random.pick(['', 'tag=v1&digest=' + digest, 'tag=v1&tag=v2', `digest=${digest}`])}`),
    (client) => client.http('GET', `/v2/_angos/namespaces/list?${random.pick(['', `repository=${MIRROR_REPOSITORY}`, `repository=${MIRROR_REPOSITORY}&repository=x`, 'repository=%00'])}`),
    (client) => client.http(random.pick(['GET', 'POST', 'DELETE']), `/v2/_angos/jobs/${random.pick(['list', 'failed', 'pending'])}?${random.pick(['', 'queue=bad', 'key=a/b', 'key=', 'key=x&key=y', `n=${n}&after=${last}`])}`),
  ];
  return async (client) => {
    await random.pick(variants)(client);
  };
};

/** Upload sessions driven into odd states: patches after a cancel, PUT twice, wrong offsets, other namespaces. */
const sessions: Family = (random, target) => {
  const ns = random.pick(['fuzz/uploads', 'fuzz/uploads2']);
  const algorithm = random.pick(['', '?digest-algorithm=sha512', '?digest-algorithm=sha256']);
  // The odd states the campaign must reach every run, then random walks through the same steps.
  const scripted = [
    ['patch', 'cancel', 'patch', 'put', 'status'],
    ['patch', 'put-twice', 'patch', 'status'],
    ['patch', 'wrong-offset', 'patch', 'put'],
    ['patch', 'put-wrong', 'put', 'patch'],
  ];
  const steps = random.chance(0.3)
    ? random.pick(scripted)
    : Array.from({ length: random.int(2, 6) }, () =>
        random.pick(['patch', 'patch', 'wrong-offset', 'no-range', 'chunked', 'short-body', 'put', 'put-wrong', 'put-none', 'put-sha512', 'status', 'cancel', 'other-ns', 'concurrent', 'put-twice']),
      );
  const chunks = steps.map(() => random.bytes(random.pick([0, 1, 5, 100, 2000])));
  const skew = random.int(1, 50);
  return async (client) => {
    const location = await newSession(client, ns, algorithm);
    if (!location) return;
    let received = Buffer.alloc(0);
    const patch = async (chunk: Buffer, start: number, headers: OutgoingHttpHeaders = {}) => {
      const range = chunk.length === 0 ? {} : { 'content-range': `${start}-${start + chunk.length - 1}` };
      const response = await client.http('PATCH', location, { headers: { ...range, ...headers }, body: chunk });
      if (response?.status === 202 && start === received.length) received = Buffer.concat([received, chunk]);
    };
    const complete = (digest: string, last: Buffer = Buffer.alloc(0)) => client.http('PUT', `${location}?digest=${digest}`, { body: last });
    for (const [index, step] of steps.entries()) {
      const chunk = chunks[index] ?? Buffer.alloc(0);
      switch (step) {
        case 'patch':
          await patch(chunk, received.length);
          break;
        case 'wrong-offset':
          await client.http('PATCH', location, { headers: { 'content-range': `${received.length + skew}-${received.length + skew + chunk.length}` }, body: chunk });
          break;
        case 'no-range':
          await client.http('PATCH', location, { body: chunk });
          break;
        case 'chunked':
          await client.http('PATCH', location, { chunks: [chunk.subarray(0, 1), chunk.subarray(1)] });
          break;
        case 'short-body':
          await client.http('PATCH', location, { headers: { 'content-range': `${received.length}-${received.length + chunk.length + 9}` }, body: chunk });
          break;
        case 'put':
          await complete(sha256(Buffer.concat([received, chunk])), chunk);
          break;
        case 'put-wrong':
          await complete(fakeDigest(`wrong-${index}`), chunk);
          break;
        case 'put-none':
          await client.http('PUT', location, { body: chunk });
          break;
        case 'put-sha512':
          await complete(sha512(Buffer.concat([received, chunk])), chunk);
          break;
        case 'status':
          await client.http('GET', location);
          break;
        case 'cancel':
          await client.http('DELETE', location);
          break;
        case 'other-ns':
          await client.http(random.pick(['GET', 'PATCH', 'PUT', 'DELETE']), location.replace(`/v2/${ns}/`, `/v2/${target.name}/`) + `?digest=${sha256(received)}`, { body: chunk });
          break;
        case 'concurrent':
          await Promise.all([patch(chunk, received.length), patch(chunk, received.length)]);
          break;
        case 'put-twice': {
          const digest = sha256(Buffer.concat([received, chunk]));
          await complete(digest, chunk);
          await complete(digest, chunk);
          break;
        }
      }
    }
    await client.http('DELETE', location);
  };
};

const manifests: Family = (random, target) => {
  const shape = hostileManifest(random, target.context);
  const ns = random.pick(['fuzz/manifests', target.name]);
  const reference = random.pick(['hostile', sha256(shape.body), sha512(shape.body), fakeDigest(shape.label), target.context.manifest.digest]);
  const declaredOver = random.chance(0.05);
  return async (client) => {
    const headers: OutgoingHttpHeaders = { 'content-type': shape.contentType };
    if (declaredOver) {
      await client.raw(rawMessage('PUT', `/v2/${ns}/manifests/${reference}`, [['Content-Type', shape.contentType], ['Content-Length', String(target.context.maxManifestSize + 1)]], shape.body.subarray(0, 100)));
      return;
    }
    await client.http('PUT', `/v2/${ns}/manifests/${reference}`, { headers, body: shape.body });
  };
};

const rawOnly: Family = (random, target) => {
  const piece = random.pick(RAW_PATH_PIECES);
  // CONNECT has no handler in the server, and Node closes such a connection without a word.
  const connect = random.chance(0.05);
  const message = random.pick([
    rawMessage('GET', `/v2/${piece}/tags/list`, []),
    rawMessage('GET', `/v2/${target.name}/manifests/${piece}`, []),
    rawMessage('PUT', `/v2/${target.name}/manifests/${piece}`, [['Content-Type', OCI_MANIFEST], ['Content-Length', '2']], '{}'),
    rawMessage('GET', `http://fuzz/v2/${target.name}/tags/list`, []),
    rawMessage('GET', `*`, []),
    rawMessage('get', '/v2/', []),
    rawMessage('GET', '/v2/', [['X-Folded', 'a\r\n b']]),
    rawMessage('GET', '/v2/', [['Bad Header', 'x']]),
    rawMessage('GET', '/v2/', [['X-Nul', 'a\u0000b']]),
    Buffer.from('GET /v2/ HTTP/1.0\r\n\r\n'),
    Buffer.from('GET /v2/ HTTP/2.0\r\nHost: x\r\n\r\n'),
    Buffer.from('GET /v2/\r\n\r\n'),
    Buffer.from('\r\n\r\nGET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    Buffer.from(`GET /v2/${target.name}/tags/list HTTP/1.1\nHost: x\nConnection: close\n\n`),
    Buffer.from(`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`),
  ]);
  return async (client) => {
    await (connect ? client.raw(rawMessage('CONNECT', '127.0.0.1:1', []), true) : client.raw(message));
  };
};

/** Families and their weights: each case draws one. */
const FAMILIES: Array<[string, Family, number]> = [
  ['names', names, 15],
  ['digests', digestFamily, 9],
  ['references', references, 10],
  ['ranges', ranges, 12],
  ['headers', headerFamily, 14],
  ['queries', queries, 14],
  ['sessions', sessions, 10],
  ['manifests', manifests, 12],
  ['raw', rawOnly, 4],
];

/** One case of the campaign, drawn with its own fork of `random`. */
export function fuzzCase(random: SeededRandom, target: FuzzTarget): FuzzCase {
  const own = random.fork();
  const total = FAMILIES.reduce((sum, [, , weight]) => sum + weight, 0);
  let draw = own.next() * total;
  for (const [family, make, weight] of FAMILIES) {
    draw -= weight;
    if (draw < 0) return { family, run: make(own, target) };
  }
  const [family, make] = FAMILIES[0]!;
  return { family, run: make(own, target) };
}
