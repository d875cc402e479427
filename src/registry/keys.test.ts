import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256, sha512 } from '../../test/support/oci.ts';
import { digestHex, parseDigest, type Digest } from '../oci/digest.ts';
import { parseNamespace, type Namespace } from '../oci/name.ts';
import { parseSessionId, type SessionId } from '../oci/session-id.ts';
import { parseTag, type Tag } from '../oci/tag.ts';
import {
  accessKeys,
  blobKeys,
  catalogKeys,
  gcKeys,
  isStorableNamespace,
  ordOf,
  referrerKeys,
  refKeys,
  revisionKeys,
  tagKeys,
  timeOfOrd,
  uploadKeys,
  type AccessTarget,
  type Link,
  type TagEvent,
} from './keys.ts';

function ns(value: string): Namespace {
  const parsed = parseNamespace(value);
  assert.ok(parsed, value);
  return parsed;
}

function tag(value: string): Tag {
  const parsed = parseTag(value);
  assert.ok(parsed, value);
  return parsed;
}

function session(value: string): SessionId {
  const parsed = parseSessionId(value);
  assert.ok(parsed, value);
  return parsed;
}

const blob = parseDigest(sha256('blob'));
const blob512 = parseDigest(sha512('blob'));
const manifest = parseDigest(sha256('manifest'));
const subject = parseDigest(sha512('subject'));
const HEX = digestHex(blob);
const HEX512 = digestHex(blob512);
const SESSION = session('123e4567-e89b-42d3-a456-426614174000');
const NOW = Date.UTC(2026, 0, 2, 8, 30);
/** Every link kind, with tags that look like other key parts (`rev`, a sub-namespace `x`, a prefix `v1` of `v1-rc`). */
const LINKS: readonly Link[] = [
  { kind: 'own' },
  { kind: 'rev' },
  ...['latest', 'rev', '_a.B-c', 'x', 'v1', 'v1-rc'].map((name): Link => ({ kind: 'tag', tag: tag(name) })),
  { kind: 'sub', subject },
  { kind: 'sub', subject: manifest },
  { kind: 'manifest', manifest },
  { kind: 'manifest', manifest: subject },
];

/** Access-entry targets with tags that look like other key parts and digests of both algorithms. */
const ACCESS_TARGETS: readonly AccessTarget[] = [
  ...['latest', 'rev', 'tag', 'v1', 'v1-rc', 'v1.0'].map((name): AccessTarget => ({ kind: 'tag', tag: tag(name) })),
  { kind: 'revision', digest: manifest },
  { kind: 'revision', digest: subject },
];

/** Sorts keys as an object store lists them: ascending bytes. */
function listed(keys: readonly string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

test('blob and upload keys have the documented shape', () => {
  assert.equal(blobKeys.data(blob), `v2/blobs/sha256/${HEX.slice(0, 2)}/${HEX}/data`);
  assert.equal(blobKeys.data(blob512), `v2/blobs/sha512/${HEX512.slice(0, 2)}/${HEX512}/data`);
  const library = ns('library/nginx');
  assert.equal(uploadKeys.namespace(library), 'v2/repositories/library/nginx/_uploads');
  assert.equal(uploadKeys.session(library, SESSION), `v2/repositories/library/nginx/_uploads/${SESSION}`);
  assert.equal(uploadKeys.data(library, SESSION), `v2/repositories/library/nginx/_uploads/${SESSION}/data`);
  assert.equal(uploadKeys.state(library, SESSION), `v2/repositories/library/nginx/_uploads/${SESSION}/session.json`);
});

test('reference keys have the documented shape', () => {
  const base = `v2/ref/sha256/${HEX.slice(0, 2)}/${HEX}`;
  const library = ns('library/nginx');
  assert.equal(refKeys.digest(blob), base);
  assert.equal(refKeys.links(blob, library), `${base}/library/nginx!r`);
  assert.equal(refKeys.key(blob, library, { kind: 'own' }), `${base}/library/nginx!own`);
  assert.equal(refKeys.key(blob, library, { kind: 'rev' }), `${base}/library/nginx!r/rev`);
  assert.equal(refKeys.key(blob, library, { kind: 'tag', tag: tag('v1.0') }), `${base}/library/nginx!r/tag.v1.0`);
  assert.equal(
    refKeys.key(blob, library, { kind: 'sub', subject }),
    `${base}/library/nginx!r/sub.sha512.${digestHex(subject)}`,
  );
  assert.equal(
    refKeys.key(blob, library, { kind: 'manifest', manifest }),
    `${base}/library/nginx!r/sha256.${digestHex(manifest)}`,
  );
});

test('reference keys parse back to their namespace and link', () => {
  for (const name of ['a', 'a-b', 'a/b/c', 'library/nginx', 'a__b/c--d', 'own/r/rev']) {
    for (const digest of [blob, blob512]) {
      for (const link of LINKS) {
        const key = refKeys.key(digest, ns(name), link);
        assert.ok(key.startsWith(`${refKeys.digest(digest)}/`), key);
        assert.deepEqual(refKeys.parse(digest, key), { ns: name, link }, key);
      }
    }
  }
});

test('reference key names that are not ours do not parse', () => {
  const base = refKeys.digest(blob);
  const foreign = [
    `${base}/Bad!own`,
    `${base}/a!own/x`,
    `${base}/a!r/unknown`,
    `${base}/a!r/tag.bad!`,
    `${base}/a!r/tag.`,
    `${base}/a!r/sub.md5.00`,
    `${base}/a!r/sha256.${'A'.repeat(64)}`,
    `${base}/a!r/rev/x`,
    `${base}/a!x`,
    `${base}/a`,
    `${base}/!own`,
  ];
  for (const key of foreign) assert.equal(refKeys.parse(blob, key), undefined, key);
});

test('tag keys have the documented shape and events parse back', () => {
  const library = ns('library/nginx');
  const latest = tag('latest');
  assert.equal(tagKeys.namespace(library), 'v2/ns/library/nginx!tag');
  assert.equal(tagKeys.tag(library, latest), 'v2/ns/library/nginx!tag/latest!');
  assert.equal(tagKeys.after(library, latest), 'v2/ns/library/nginx!tag/latest!~');
  const ord = ordOf(NOW);
  const events: TagEvent[] = [
    { ord, action: 'set', digest: manifest },
    { ord, action: 'del', digest: manifest },
    { ord: ordOf(undefined), action: 'set', digest: subject },
  ];
  for (const event of events) {
    const key = tagKeys.event(library, latest, event);
    assert.equal(key, `v2/ns/library/nginx!tag/latest!${event.ord}.${event.action}.${event.digest.replace(':', '.')}`);
    assert.ok(key > tagKeys.tag(library, latest) && key < tagKeys.after(library, latest), key);
    assert.deepEqual(tagKeys.parseEvent(key), { tag: latest, ...event }, key);
  }
  const prefix = tagKeys.tag(library, latest);
  const base = tagKeys.namespace(library);
  for (const key of [
    `${prefix}${ord}.put.sha256.${HEX}`,
    `${prefix}${ord}.set.sha256.${HEX.slice(1)}`,
    `${prefix}zz.set.sha256.${HEX}`,
    `${base}/.x!${ord}.set.sha256.${HEX}`,
    `${base}/!${ord}.set.sha256.${HEX}`,
  ]) {
    assert.equal(tagKeys.parseEvent(key), undefined, key);
  }
});

test('a long tag on a sha512 manifest gets a compact event name that fits a file name, and parses back', () => {
  const library = ns('library/nginx');
  const long = tag(`a${'b'.repeat(127)}`);
  const event: TagEvent = { ord: ordOf(NOW), action: 'set', digest: subject };
  const key = tagKeys.event(library, long, event);
  const name = key.slice(key.lastIndexOf('/') + 1);
  assert.ok(name.length <= 255, `${name.length} bytes`);
  assert.match(name, /\.set\.sha512~[A-Za-z0-9_-]{86}$/);
  assert.deepEqual(tagKeys.parseEvent(key), { tag: long, ...event });
  assert.ok(key > tagKeys.tag(library, long) && key < tagKeys.after(library, long));
  // Names that fit keep the hex form, so events written before keep their keys.
  assert.ok(tagKeys.event(library, tag('v1'), event).endsWith(`.set.${subject.replace(':', '.')}`));
});

test('a namespace is storable while its last component fits beside a key suffix', () => {
  assert.equal(isStorableNamespace(ns(`a/${'b'.repeat(240)}`)), true);
  assert.equal(isStorableNamespace(ns(`a/${'b'.repeat(241)}`)), false);
  assert.equal(isStorableNamespace(ns(`${'b'.repeat(240)}/c`)), true, 'only the last component carries a suffix');
});

test('revision, referrer, catalog and run-marker keys have the documented shape and parse back', () => {
  const library = ns('library/nginx');
  assert.equal(revisionKeys.namespace(library), 'v2/ns/library/nginx!rev');
  assert.equal(revisionKeys.revision(library, blob), `v2/ns/library/nginx!rev/sha256.${HEX}`);
  for (const digest of [blob, blob512, manifest]) {
    assert.equal(revisionKeys.parse(library, revisionKeys.revision(library, digest)), digest);
  }
  assert.equal(revisionKeys.parse(library, `v2/ns/library/nginx!rev/sha256.${HEX.slice(1)}`), undefined);
  assert.equal(revisionKeys.parse(library, `v2/ns/library/nginx!rev/md5.${'0'.repeat(32)}`), undefined);
  assert.equal(revisionKeys.parse(library, `v2/ns/library/nginx!rev/x/sha256.${HEX}`), undefined);

  assert.equal(referrerKeys.subject(library, subject), `v2/ns/library/nginx!sub/sha512/${digestHex(subject).slice(0, 2)}/${digestHex(subject)}`);
  const record = referrerKeys.record(library, subject, manifest);
  assert.equal(record, `${referrerKeys.subject(library, subject)}/sha256.${digestHex(manifest)}`);
  assert.equal(referrerKeys.parse(record), manifest);
  assert.equal(referrerKeys.parse(referrerKeys.record(library, manifest, blob512)), blob512);

  assert.equal(catalogKeys.root, 'v2/cat');
  assert.equal(catalogKeys.entry(library), 'v2/cat/library/nginx!');
  for (const name of ['a', 'library/nginx', 'a__b/c--d']) assert.equal(catalogKeys.parse(catalogKeys.entry(ns(name))), name);
  for (const key of ['v2/cat/Bad!', 'v2/cat/a', 'v2/other/a!', 'v2/cat/!', 'v2/cat/a/!']) {
    assert.equal(catalogKeys.parse(key), undefined, key);
  }

  assert.equal(gcKeys.root, 'v2/gc');
  assert.equal(gcKeys.marker(SESSION), `v2/gc/${SESSION}`);
});

test('catalog and per-namespace listings come out in namespace byte order, one namespace at a time', () => {
  const names = ['ab', 'a_b', 'a.b', 'a/b', 'a-b', 'a', 'a0', 'a/b/c', 'a--b', 'a__b', 'b'].map(ns);
  const expected = listed(names);
  const catalog = listed(names.map((name) => catalogKeys.entry(name))).map((key) => catalogKeys.parse(key));
  assert.deepEqual(catalog, expected);

  // Several keys per namespace: a listing must give each namespace's keys as one contiguous run, in name order.
  const owners = new Map<string, Namespace>();
  for (const name of names) {
    for (const link of LINKS) owners.set(refKeys.key(blob, name, link), name);
    owners.set(revisionKeys.revision(name, manifest), name);
    owners.set(tagKeys.event(name, tag('v1'), { ord: ordOf(NOW), action: 'set', digest: manifest }), name);
    owners.set(referrerKeys.record(name, subject, manifest), name);
  }
  for (const prefix of [refKeys.digest(blob), 'v2/ns']) {
    const runs: Namespace[] = [];
    for (const key of listed([...owners.keys()].filter((key) => key.startsWith(`${prefix}/`)))) {
      const owner = owners.get(key)!;
      if (runs.at(-1) !== owner) runs.push(owner);
    }
    assert.deepEqual(runs, expected, prefix);
  }
});

test('tag listings under one namespace come out in tag byte order', () => {
  const library = ns('library/nginx');
  const tags = ['a_b', 'A', 'a.b', 'a-b', 'a', 'a0', 'B', '_', 'a--', 'a.'].map(tag);
  const expected = listed(tags);
  // Every event of a tag sorts before the next tag's, and between the tag's two listing bounds.
  const owners = new Map<string, Tag>();
  for (const name of tags) {
    for (const time of [NOW, NOW - 1000, undefined]) {
      const key = tagKeys.event(library, name, { ord: ordOf(time), action: 'set', digest: manifest });
      assert.ok(key > tagKeys.tag(library, name) && key < tagKeys.after(library, name), key);
      owners.set(key, name);
    }
  }
  const runs: Tag[] = [];
  for (const key of listed([...owners.keys()])) {
    const owner = owners.get(key)!;
    if (runs.at(-1) !== owner) runs.push(owner);
  }
  assert.deepEqual(runs, expected);
});

test('no key is also a directory of another key', () => {
  const keys: string[] = [];
  const namespaces = [ns('ns'), ns('ns/x'), ns('ns-x'), ns('ns/x/rev')];
  for (const name of namespaces) {
    for (const digest of [blob, blob512, manifest]) {
      for (const link of LINKS) keys.push(refKeys.key(digest, name, link));
      keys.push(blobKeys.data(digest), revisionKeys.revision(name, digest), referrerKeys.record(name, subject, digest));
      for (const t of ['x', 'v1', 'v1-rc']) {
        for (const action of ['set', 'del'] as const) keys.push(tagKeys.event(name, tag(t), { ord: ordOf(NOW), action, digest }));
      }
    }
    keys.push(uploadKeys.data(name, SESSION), uploadKeys.state(name, SESSION), catalogKeys.entry(name));
    for (const target of ACCESS_TARGETS) keys.push(accessKeys.entry(name, target, { ord: ordOf(NOW), clientHash: '0123abcd' }));
  }
  keys.push(gcKeys.marker(SESSION));
  const unique = new Set(keys);
  for (const key of unique) {
    const nested = keys.find((other) => other.startsWith(`${key}/`));
    assert.equal(nested, undefined, `${key} is a directory of ${nested}`);
  }
});

test('ord strings sort newer author times first and untimed events last', () => {
  const times = [0, 1, 999, NOW - 1, NOW, NOW + 1, Date.UTC(9999, 11, 31)];
  for (const time of times) {
    assert.match(ordOf(time), /^[0-9a-f]{16}$/, String(time));
    assert.equal(timeOfOrd(ordOf(time)), time);
  }
  for (const older of times) {
    for (const newer of times) {
      if (newer > older) assert.ok(ordOf(newer) < ordOf(older), `${newer} before ${older}`);
    }
  }
  assert.equal(ordOf(undefined), 'ffffffffffffffff');
  assert.equal(timeOfOrd(ordOf(undefined)), undefined);
  for (const time of times) assert.ok(ordOf(time) < ordOf(undefined), String(time));
});

test('an ascending listing of one tag yields its newest event first', () => {
  const library = ns('library/nginx');
  const latest = tag('latest');
  const events = [NOW - 60_000, undefined, NOW, NOW - 1].map((time) =>
    tagKeys.event(library, latest, { ord: ordOf(time), action: 'set', digest: manifest }),
  );
  const times = listed(events).map((key) => timeOfOrd(tagKeys.parseEvent(key)!.ord));
  assert.deepEqual(times, [NOW, NOW - 1, NOW - 60_000, undefined]);
});

test('access-entry keys have the documented shape and parse back', () => {
  const library = ns('library/nginx');
  const ord = ordOf(NOW);
  assert.equal(accessKeys.namespace(library), 'v2/ns/library/nginx!atime');
  assert.equal(accessKeys.target(library, { kind: 'tag', tag: tag('v1') }), 'v2/ns/library/nginx!atime/tag/v1!');
  assert.equal(accessKeys.target(library, { kind: 'revision', digest: manifest }), `v2/ns/library/nginx!atime/rev/sha256/${digestHex(manifest)}!`);
  assert.equal(accessKeys.entry(library, { kind: 'tag', tag: tag('v1') }, { ord, clientHash: '0123abcd' }), `v2/ns/library/nginx!atime/tag/v1!/${ord}.0123abcd`);
  for (const target of ACCESS_TARGETS) {
    const key = accessKeys.entry(library, target, { ord, clientHash: 'deadbeef' });
    assert.ok(key.startsWith(`${accessKeys.target(library, target)}/`), key);
    assert.ok(key.startsWith(`${accessKeys.namespace(library)}/`), key);
    assert.deepEqual(accessKeys.parseEntry(key), { ord, clientHash: 'deadbeef' }, key);
  }
  for (const key of [`v2/ns/a!atime/tag/v1!/${ord}.DEADBEEF`, `v2/ns/a!atime/tag/v1!/${ord}.dead`, `v2/ns/a!atime/tag/v1!/${ord.slice(1)}.deadbeef`, `v2/ns/a!atime/tag/v1!/${ord}-deadbeef`]) {
    assert.equal(accessKeys.parseEntry(key), undefined, key);
  }
  assert.equal(accessKeys.parseTagChild('v1.0!'), 'v1.0');
  for (const child of ['v1.0', '-bad!', 'a!b!', '!', `${'a'.repeat(129)}!`]) assert.equal(accessKeys.parseTagChild(child), undefined, child);
  assert.equal(accessKeys.parseRevisionChild('sha256', `${digestHex(manifest)}!`), manifest);
  assert.equal(accessKeys.parseRevisionChild('sha512', `${digestHex(subject)}!`), subject);
  for (const [alg, child] of [['sha256', digestHex(manifest)], ['sha512', `${digestHex(manifest)}!`], ['md5', `${'0'.repeat(32)}!`], ['sha256', `${digestHex(manifest).toUpperCase()}!`]] as const) {
    assert.equal(accessKeys.parseRevisionChild(alg, child), undefined, `${alg} ${child}`);
  }
});

test('an ascending listing of one target yields its newest access entry first, and no target lists another', () => {
  const library = ns('library/nginx');
  const owners = new Map<string, { target: AccessTarget; time: number }>();
  for (const target of ACCESS_TARGETS) {
    for (const time of [NOW - 60_000, NOW, NOW - 1, 0]) {
      for (const clientHash of ['00000000', 'ffffffff']) owners.set(accessKeys.entry(library, target, { ord: ordOf(time), clientHash }), { target, time });
    }
  }
  const all = listed([...owners.keys()]);
  for (const target of ACCESS_TARGETS) {
    const prefix = `${accessKeys.target(library, target)}/`;
    const mine = all.filter((key) => key.startsWith(prefix));
    assert.ok(mine.every((key) => owners.get(key)!.target === target), prefix);
    assert.equal(mine.length, 8, prefix);
    assert.deepEqual(mine.map((key) => timeOfOrd(accessKeys.parseEntry(key)!.ord)), [NOW, NOW, NOW - 1, NOW - 1, NOW - 60_000, NOW - 60_000, 0, 0]);
  }
});
