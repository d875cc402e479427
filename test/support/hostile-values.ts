// Values a hostile client puts where the grammars of docs/api.md ("Routing") expect names, digests, tags, ranges,
// headers and query values: the valid forms, their edges, and what lies just past them. Written as they go on the
// wire (paths are sent without percent-decoding, docs/api.md "Routing"); values that an HTTP client refuses to
// send (raw NUL, spaces, bytes over 0x7f) are in `RAW_PATH_PIECES`, for raw requests.
import { createHash } from 'node:crypto';
import type { SeededRandom } from './seeded-random.ts';

const HEX = '0123456789abcdef';

/** A syntactically valid digest nobody pushed (derived from `label`, so the same on every run). */
export function fakeDigest(label: string, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(`never-pushed:${label}`).digest('hex')}`;
}

export const NAMES: readonly string[] = [
  'fuzz/app',
  'a',
  'a/b/c/d/e',
  'a-b',
  'a--b',
  'a__b',
  'a.b',
  'a_b.c-d',
  `l/${'a'.repeat(240)}`,
  `l/${'b'.repeat(241)}`,
  `${'c'.repeat(255)}`,
  `${'c'.repeat(256)}`,
  `${'d/'.repeat(127)}d`,
  `${'e/'.repeat(128)}e`,
  'Fuzz/App',
  'FUZZ',
  'fuzz/App',
  '..',
  'a/..',
  '../a',
  'a/../b',
  'a/./b',
  '.',
  '%2e%2e',
  'a/%2e%2e/b',
  '%2E%2E/a',
  'a%2fb',
  'a%2Fb',
  'a%2F..%2F..%2Fb',
  'a%00b',
  '%00',
  'caf%C3%A9',
  '%D0%B0pp',
  '%F0%9F%90%B3/whale',
  '%FF%FE',
  'a//b',
  '/a',
  'a/',
  '//',
  'a///b',
  '',
  '-a',
  'a-',
  '.a',
  'a.',
  'a..b',
  'a._b',
  'a___b',
  '_a',
  'a/_angos',
  '_angos',
  'a/blobs',
  'a/manifests/b',
  'a/blobs/uploads',
  'a/tags/list/b',
  'a;b',
  'a\\b',
  'a%20b',
  'a+b',
  'a%3Fb',
  'a%23b',
];

/** Pieces only a raw request can carry. */
export const RAW_PATH_PIECES: readonly string[] = ['a\u0000b', 'a b', 'caf\u00e9', 'a\tb', 'a\u007fb', '\u00ff'];

export function digests(base: string): string[] {
  const hex = base.slice(base.indexOf(':') + 1);
  return [
    base,
    fakeDigest('absent'),
    fakeDigest('absent', 'sha512'),
    `md5:${hex.slice(0, 32)}`,
    `sha1:${hex.slice(0, 40)}`,
    `sha384:${hex}${hex.slice(0, 32)}`,
    `sha256:${hex.slice(0, 63)}`,
    `sha256:${hex}0`,
    `sha256:${hex.toUpperCase()}`,
    `SHA256:${hex}`,
    `sha512:${hex}`,
    `sha256:${hex}${hex}`,
    `sha256:${'g'.repeat(64)}`,
    'sha256:',
    'sha256',
    `:${hex}`,
    `sha256:${hex}:`,
    `sha256::${hex}`,
    `sha256%3A${hex}`,
    `sha256:${hex}%00`,
    `sha256:${'a'.repeat(5000)}`,
    `sha256+b64:${Buffer.from(hex, 'hex').toString('base64url')}`,
    `%73ha256:${hex}`,
    `sha256:${hex.slice(0, 32)}%2F${hex.slice(32)}`,
  ];
}

export function randomHexDigest(random: SeededRandom): string {
  return `sha256:${random.string(64, HEX)}`;
}

export const TAGS: readonly string[] = [
  'v1',
  'latest',
  '_x',
  `t${'x'.repeat(127)}`,
  `t${'x'.repeat(128)}`,
  'x'.repeat(200),
  'X'.repeat(128),
  '-x',
  '.x',
  'x..y',
  '..',
  '.',
  'v1/',
  'v%00',
  'v%20',
  'ta%2Fg',
  'ta+g',
  '%C3%A9',
  'v1;rm',
  'v1%0d%0aX-Injected:%201',
  'sha256-abc',
  'sha256',
  'v1:',
  ':v1',
  'a:b',
];

export const BLOB_RANGES: readonly string[] = [
  'bytes=0-0',
  'bytes=0-',
  'bytes=-1',
  'bytes=-0',
  'bytes=10-5',
  'bytes=0-99999999999999999999',
  'bytes=18446744073709551616-',
  'bytes=9007199254740993-9007199254740994',
  'bytes=-9007199254740993',
  'bytes=4095-',
  'bytes=4096-',
  'bytes=4097-4200',
  'bytes=-4097',
  'bytes=-',
  'bytes=',
  'bytes',
  'items=0-1',
  'BYTES=0-1',
  'bytes=0-1,2-3',
  'bytes=0-1, 5-',
  'bytes= 0-1',
  'bytes=0 -1',
  'bytes=1e3-',
  'bytes=0x10-',
  'bytes=+1-2',
  'bytes=1-+2',
  'bytes=1--2',
  'bytes=--1',
  `bytes=${'9'.repeat(400)}-`,
  `bytes=${'0-0,'.repeat(500)}0-0`,
];

export const CONTENT_RANGES: readonly string[] = [
  '0-0',
  '0-9',
  '5-2',
  '-1-5',
  'bytes 0-9/10',
  'bytes=0-9',
  '0-',
  '-',
  '',
  'abc',
  '0-18446744073709551616',
  '99999999999999999999-99999999999999999999',
  '1-1',
  '0-9, 10-19',
  ' 0-9',
  '0-9 ',
  '0x0-0x9',
  '1e1-2e1',
  '0-9/*',
  `0-${'9'.repeat(300)}`,
];

export const CONTENT_LENGTHS: readonly string[] = ['-1', 'abc', '1e3', '0x10', '+5', ' 5', '5, 5', '5,6', '99999999999999999999', '', '5.0'];

export const CONTENT_TYPES: readonly string[] = [
  '',
  'garbage',
  'application/',
  '/json',
  'application/vnd.oci.image.manifest.v1+json; charset=utf-8',
  'application/vnd.oci.image.manifest.v1+json;;;',
  'application/vnd.oci.image.manifest.v1+json, application/json',
  'APPLICATION/VND.OCI.IMAGE.MANIFEST.V1+JSON',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'text/plain',
  '*/*',
  'multipart/form-data; boundary=x',
  `application/${'x'.repeat(5000)}`,
  'application/vnd.oci.image.manifest.v1+json; a="unterminated',
];

export const SOURCE_TIMESTAMPS: readonly string[] = [
  '',
  'now',
  '2026-03-02T09:14:07.512348+01:00',
  '2026-03-02T09:14:07',
  '2026-13-45T99:99:99Z',
  '2026-02-30T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '1969-12-31T23:59:59Z',
  '1970-01-01T00:00:00+25:00',
  '2255-06-01T00:00:00Z',
  '2286-01-01T00:00:00Z',
  '9999-12-31T23:59:60.999999999Z',
  `2026-03-02T09:14:07.${'9'.repeat(1000)}Z`,
  '+275760-09-13T00:00:00Z',
  '-0001-01-01T00:00:00Z',
  '2026-03-02t09:14:07z',
  'x'.repeat(8000),
  '1700000000',
];

/** `n` values for listings: decimal 0–65535 is the grammar, the rest must be refused. */
export const PAGE_SIZES: readonly string[] = ['0', '1', '65535', '65536', '-1', 'abc', '1e3', '', '0x10', '%205', '99999999999999999999', '00001', '1.5'];

export const LAST_VALUES: readonly string[] = ['', 'a', 'v1', '%00', '%FF', 'z'.repeat(5000), '..%2F..', '%2F', 'fuzz/app', '~'];
