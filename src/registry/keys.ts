import { createHash } from 'node:crypto';
import { digestAlgorithm, digestHex, isDigest, makeDigest, type Digest } from '../oci/digest.ts';
import { isNamespace, type Namespace } from '../oci/name.ts';
import { parseSessionId, type SessionId } from '../oci/session-id.ts';
import { isTag, type Tag } from '../oci/tag.ts';

/**
 * The only place storage key names are built and parsed (docs/storage.md). Layout:
 *
 * blob store
 *   v2/blobs/<alg>/<p>/<hash>/data                        immutable content-addressed bytes (layers, configs, manifests)
 *   v2/repositories/<ns>/_uploads/<uuid>/data             bytes received so far for an upload session
 *   v2/repositories/<ns>/_uploads/<uuid>/session.json     the session's state (offset, binding, activity)
 * metadata store
 *   v2/ref/<alg>/<p>/<hash>/<ns>!own                      <ns> owns the blob (upload, mount)
 *   v2/ref/<alg>/<p>/<hash>/<ns>!r/rev                    the blob is a revision (manifest) of <ns>
 *   v2/ref/<alg>/<p>/<hash>/<ns>!r/tag.<tag>              tag <tag> of <ns> pointed at this manifest
 *   v2/ref/<alg>/<p>/<hash>/<ns>!r/sub.<salg>.<shash>     this manifest of <ns> refers to that subject
 *   v2/ref/<alg>/<p>/<hash>/<ns>!r/<malg>.<mhash>         manifest m of <ns> uses this blob (config, layer, child)
 *   v2/ns/<ns>!tag/<tag>!<ord>.<set|del>.<alg>.<hash>     one tag event; ascending order = by tag, newest first
 *   v2/ns/<ns>!rev/<alg>.<hash>                           revision record: the digest resolves in <ns>
 *   v2/ns/<ns>!sub/<salg>/<p>/<shash>/<ralg>.<rhash>      referrer record: r refers to subject s in <ns>
 *   v2/ns/<ns>!imm/<tag>!<state>/<seq>                    first-push claim of an immutable tag, per state of the tag
 *   v2/ns/<ns>!atime/tag/<tag>!/<ord>.<c8>                one recorded pull of a tag; ascending order = newest first
 *   v2/ns/<ns>!atime/rev/<alg>/<hash>!/<ord>.<c8>         one recorded pull of a revision by digest
 *   v2/cat/<ns>!                                          catalog entry
 *   v2/gc/<uuid>                                          collector run marker
 *   _jobs/pending/<queue>/<storage_key>.json              a queued or running job's envelope (src/jobs/)
 *   _jobs/failed/<queue>/<storage_key>.json               a dead-lettered job
 *   _jobs/index/<queue>/<enc(lock_key)>.json              the unclaimed job of a lock key, for coalescing
 *   _jobs/claims/<enc(lock_key)>.json                     the claim of the drainer running that lock key's job
 *   _jobs/claims/probe-<uuid>                             the claim probe's scratch key (no `.json`: never a claim)
 *
 * `!` ends an embedded namespace or tag: it sorts below every byte the name and tag grammars admit, so listings
 * come out in name order and `a!…` never collides with `a/b!…` or `a-b!…`. No key is also a directory of another.
 * Every tag event and every revision record of a namespace sits directly under one prefix: one listing reads
 * them all, and on a filesystem that prefix is one directory whose change stamp covers them (see `memo.ts`).
 * Namespaces and tags reach this module already parsed, so no path component comes unvalidated from a request.
 */

/**
 * The longest last name component a stored namespace may have. It becomes a file or directory name with a suffix
 * (`!tag`, `!own`, …), and filesystems allow 255 bytes per name; the rest is room for suffixes. Longer names the
 * grammar accepts are refused up front (`NAME_INVALID`, docs/api.md "Routing").
 */
export const MAX_STORED_LAST_COMPONENT = 240;

export function isStorableNamespace(ns: Namespace): boolean {
  return ns.length - ns.lastIndexOf('/') - 1 <= MAX_STORED_LAST_COMPONENT;
}

function blobDir(digest: Digest): string {
  const hex = digestHex(digest);
  return `${digestAlgorithm(digest)}/${hex.slice(0, 2)}/${hex}`;
}

/** `<alg>.<hash>`: a digest as one key component. */
function digestComponent(digest: Digest): string {
  return digest.replace(':', '.');
}

function parseDigestComponent(component: string): Digest | undefined {
  const digest = component.replace('.', ':');
  return isDigest(digest) ? digest : undefined;
}

/** `<alg>/<p>/<hash>` (as `blobDir` builds it) at the start of `rest`, as a digest; undefined when it is not one. */
function parseBlobDir(rest: string): Digest | undefined {
  const match = /^(sha256|sha512)\/([0-9a-f]{2})\/([0-9a-f]+)(?:\/|$)/.exec(rest);
  if (!match || !match[3]!.startsWith(match[2]!)) return undefined;
  const digest = `${match[1]}:${match[3]}`;
  return isDigest(digest) ? digest : undefined;
}

export const blobKeys = {
  /** Prefix of every blob's bytes; its listing is in digest order. */
  root: 'v2/blobs',
  data: (digest: Digest) => `v2/blobs/${blobDir(digest)}/data`,
  /** The digest whose bytes a key listed under `root` holds; undefined for anything else. */
  parseData(key: string): Digest | undefined {
    const digest = key.startsWith('v2/blobs/') ? parseBlobDir(key.slice('v2/blobs/'.length)) : undefined;
    return digest !== undefined && key === blobKeys.data(digest) ? digest : undefined;
  },
};

export const uploadKeys = {
  /** Prefix whose children are the top-level name components of every namespace with uploads. */
  root: 'v2/repositories',
  /**
   * Prefix whose children are `_uploads/` (the sessions of `ns`) and `<component>/` for namespaces below `ns`:
   * name components never start with `_`, so the two cannot collide.
   */
  tree: (ns: Namespace) => `v2/repositories/${ns}`,
  /** Prefix holding every session of a namespace. */
  namespace: (ns: Namespace) => `v2/repositories/${ns}/_uploads`,
  session: (ns: Namespace, id: SessionId) => `v2/repositories/${ns}/_uploads/${id}`,
  data: (ns: Namespace, id: SessionId) => `v2/repositories/${ns}/_uploads/${id}/data`,
  state: (ns: Namespace, id: SessionId) => `v2/repositories/${ns}/_uploads/${id}/session.json`,
  /** A child of `tree(ns)`: the sessions folder of `ns`, or the namespace one level below it; undefined otherwise. */
  parseTreeChild(ns: Namespace, child: string): { kind: 'sessions' } | { kind: 'namespace'; ns: Namespace } | undefined {
    if (child === '_uploads') return { kind: 'sessions' };
    const below = `${ns}/${child}`;
    return !child.includes('/') && isNamespace(below) ? { kind: 'namespace', ns: below } : undefined;
  },
  /** The session named by a child of `namespace(ns)`, or undefined. */
  parseSessionChild: (child: string): SessionId | undefined => parseSessionId(child),
};

/** A reference key's link: why a namespace may read a blob. */
export type Link =
  | { kind: 'own' }
  | { kind: 'rev' }
  | { kind: 'tag'; tag: Tag }
  | { kind: 'sub'; subject: Digest }
  | { kind: 'manifest'; manifest: Digest };

export const refKeys = {
  /** Prefix of every reference key; its listing groups them by digest, in digest order. */
  root: 'v2/ref',
  /** The digest a key listed under `root` is about; undefined when its digest part does not parse. */
  digestOf(key: string): Digest | undefined {
    return key.startsWith('v2/ref/') ? parseBlobDir(key.slice('v2/ref/'.length)) : undefined;
  },
  /** Every reference key of a digest, all namespaces. */
  digest: (digest: Digest) => `v2/ref/${blobDir(digest)}`,
  /** The non-own reference keys of one namespace on a digest. */
  links: (digest: Digest, ns: Namespace) => `v2/ref/${blobDir(digest)}/${ns}!r`,
  key(digest: Digest, ns: Namespace, link: Link): string {
    const base = `v2/ref/${blobDir(digest)}/${ns}`;
    switch (link.kind) {
      case 'own':
        return `${base}!own`;
      case 'rev':
        return `${base}!r/rev`;
      case 'tag':
        return `${base}!r/tag.${link.tag}`;
      case 'sub':
        return `${base}!r/sub.${digestComponent(link.subject)}`;
      case 'manifest':
        return `${base}!r/${digestComponent(link.manifest)}`;
    }
  },
  /** Parses a key listed under `digest(d)`; undefined for names that do not parse (reported by scrub, never trusted). */
  parse(digest: Digest, key: string): { ns: Namespace; link: Link } | undefined {
    const rest = key.slice(refKeys.digest(digest).length + 1);
    const own = /^(.+)!own$/.exec(rest);
    if (own) return isNamespace(own[1]!) ? { ns: own[1], link: { kind: 'own' } } : undefined;
    const other = /^(.+)!r\/([^/]+)$/.exec(rest);
    if (!other || !isNamespace(other[1]!)) return undefined;
    const ns = other[1];
    const link = parseLink(other[2]!);
    return link ? { ns, link } : undefined;
  },
};

function parseLink(name: string): Link | undefined {
  if (name === 'rev') return { kind: 'rev' };
  if (name.startsWith('tag.')) {
    const tag = name.slice(4);
    return isTag(tag) ? { kind: 'tag', tag } : undefined;
  }
  if (name.startsWith('sub.')) {
    const subject = parseDigestComponent(name.slice(4));
    return subject ? { kind: 'sub', subject } : undefined;
  }
  const manifest = parseDigestComponent(name);
  return manifest ? { kind: 'manifest', manifest } : undefined;
}

export type TagAction = 'set' | 'del';

/** One tag event as named by its key. */
export interface TagEvent {
  ord: string;
  action: TagAction;
  digest: Digest;
}

const MAX_ORD = 2n ** 64n - 2n;
/** Bytes a file name may hold on common filesystems. */
const MAX_FILE_NAME = 255;

/**
 * `<ord>`: 16 hex digits of 2^64 − 2 − unix ms, so an ascending listing yields the newest event first.
 * No timestamp ⇒ all `f`: sorts last and never wins against a timed event.
 */
export function ordOf(authorTimeMs: number | undefined): string {
  if (authorTimeMs === undefined) return 'ffffffffffffffff';
  return (MAX_ORD - BigInt(Math.max(0, Math.trunc(authorTimeMs)))).toString(16).padStart(16, '0');
}

/** The author time encoded in an `<ord>`, undefined for the untimed `ffff…`. */
export function timeOfOrd(ord: string): number | undefined {
  if (ord === 'ffffffffffffffff') return undefined;
  return Number(MAX_ORD - BigInt(`0x${ord}`));
}

export const tagKeys = {
  /** Every event of every tag of the namespace, directly below: `<tag>!<event>`. */
  namespace: (ns: Namespace) => `v2/ns/${ns}!tag`,
  /** The start of the keys of one tag's events; as a `startAfter` bound it lists them first. */
  tag: (ns: Namespace, tag: Tag) => `v2/ns/${ns}!tag/${tag}!`,
  /**
   * `<tag>!<ord>.<action>.<alg>.<hex>`, or, where that would exceed a 255-byte file name (a long tag on a sha512
   * manifest), the hash in base64url: `<tag>!<ord>.<action>.<alg>~<base64url>`. Both parse to the same event.
   */
  event(ns: Namespace, tag: Tag, event: TagEvent): string {
    const name = `${tag}!${event.ord}.${event.action}.${digestComponent(event.digest)}`;
    if (name.length <= MAX_FILE_NAME) return `v2/ns/${ns}!tag/${name}`;
    const compact = `${digestAlgorithm(event.digest)}~${Buffer.from(digestHex(event.digest), 'hex').toString('base64url')}`;
    return `v2/ns/${ns}!tag/${tag}!${event.ord}.${event.action}.${compact}`;
  },
  /** A `startAfter` bound past every event of `tag`: `~` sorts above every byte an event name holds. */
  after: (ns: Namespace, tag: Tag) => `v2/ns/${ns}!tag/${tag}!~`,
  /**
   * The name a key under `namespace(ns)` is filed under (up to its first `!` or `/`), not checked against the tag
   * grammar: how scrub finds keys whose name is no tag. Undefined for a key outside the prefix.
   */
  nameOf(ns: Namespace, key: string): string | undefined {
    const prefix = `${tagKeys.namespace(ns)}/`;
    return key.startsWith(prefix) ? key.slice(prefix.length).split(/[!/]/, 1)[0] : undefined;
  },
  /** The tag and event named by a key under `namespace(ns)`, or undefined. */
  parseEvent(key: string): (TagEvent & { tag: Tag }) | undefined {
    const match = /\/([^/!]+)!([0-9a-f]{16})\.(set|del)\.(sha256\.[0-9a-f]{64}|sha512\.[0-9a-f]{128}|sha512~[A-Za-z0-9_-]{86})$/.exec(key);
    if (!match || !isTag(match[1]!)) return undefined;
    const digest = match[4]!.startsWith('sha512~') ? makeDigest('sha512', Buffer.from(match[4]!.slice(7), 'base64url').toString('hex')) : parseDigestComponent(match[4]!)!;
    return { tag: match[1], ord: match[2]!, action: match[3] as TagAction, digest };
  },
};

export const revisionKeys = {
  namespace: (ns: Namespace) => `v2/ns/${ns}!rev`,
  revision: (ns: Namespace, digest: Digest) => `v2/ns/${ns}!rev/${digestComponent(digest)}`,
  parse(ns: Namespace, key: string): Digest | undefined {
    const prefix = `${revisionKeys.namespace(ns)}/`;
    return key.startsWith(prefix) ? parseDigestComponent(key.slice(prefix.length)) : undefined;
  },
};

export const referrerKeys = {
  /** Every referrer record of the namespace. */
  namespace: (ns: Namespace) => `v2/ns/${ns}!sub`,
  subject: (ns: Namespace, subject: Digest) => `v2/ns/${ns}!sub/${blobDir(subject)}`,
  record: (ns: Namespace, subject: Digest, referrer: Digest) =>
    `v2/ns/${ns}!sub/${blobDir(subject)}/${digestComponent(referrer)}`,
  parse(key: string): Digest | undefined {
    return parseDigestComponent(key.slice(key.lastIndexOf('/') + 1));
  },
  /** The subject and referrer of a key listed under `namespace(ns)`; undefined unless it is exactly such a record's key. */
  parseRecord(ns: Namespace, key: string): { subject: Digest; referrer: Digest } | undefined {
    const prefix = `${referrerKeys.namespace(ns)}/`;
    const subject = key.startsWith(prefix) ? parseBlobDir(key.slice(prefix.length)) : undefined;
    const referrer = referrerKeys.parse(key);
    return subject && referrer && key === referrerKeys.record(ns, subject, referrer) ? { subject, referrer } : undefined;
  },
};

export const claimKeys = {
  /**
   * Claims of one immutable tag while it is in one state (`state`: a hash of the winning event the pusher read,
   * or of its absence). Created with atomic create, so exactly one first push per state wins; `seq` rises when a
   * claim whose push never finished is taken over.
   */
  state: (ns: Namespace, tag: Tag, state: string) => `v2/ns/${ns}!imm/${tag}!${state}`,
  claim: (ns: Namespace, tag: Tag, state: string, seq: number) => `v2/ns/${ns}!imm/${tag}!${state}/${seq.toString(16).padStart(8, '0')}`,
  /** The sequence number of a key under `state(ns, tag, state)`, or undefined. */
  parseSeq(key: string): number | undefined {
    const match = /\/([0-9a-f]{8})$/.exec(key);
    return match ? Number.parseInt(match[1]!, 16) : undefined;
  },
};

export const catalogKeys = {
  root: 'v2/cat',
  entry: (ns: Namespace) => `v2/cat/${ns}!`,
  /** A `startAfter` bound just before `ns`'s entry: `ns` and every name after it in byte order follow it. */
  before: (ns: Namespace) => `v2/cat/${ns}`,
  parse(key: string): Namespace | undefined {
    if (!key.startsWith('v2/cat/') || !key.endsWith('!')) return undefined;
    const ns = key.slice('v2/cat/'.length, -1);
    return isNamespace(ns) ? ns : undefined;
  },
};

export const gcKeys = {
  root: 'v2/gc',
  marker: (id: string) => `v2/gc/${id}`,
};

/** What a recorded pull was of: a tag (a by-tag pull) or a revision (a by-digest pull). */
export type AccessTarget = { kind: 'tag'; tag: Tag } | { kind: 'revision'; digest: Digest };

/** One recorded pull as named by its key: when (`<ord>`) and by whom (`<c8>`, first 8 hex of SHA-256 of the client). */
export interface AccessEntryName {
  ord: string;
  clientHash: string;
}

export const accessKeys = {
  /** Every access entry of the namespace. */
  namespace: (ns: Namespace) => `v2/ns/${ns}!atime`,
  /** Children `<tag>!`: one per tag with recorded pulls. */
  tags: (ns: Namespace) => `v2/ns/${ns}!atime/tag`,
  /** Children `<alg>`, each with children `<hash>!`: one per revision with recorded pulls. */
  revisions: (ns: Namespace) => `v2/ns/${ns}!atime/rev`,
  /**
   * The entries of one target, directly below: `!` closes the tag or hash, so `v1` never lists `v1-rc`'s entries,
   * and the prefix holds only entries (no key is also a directory).
   */
  target(ns: Namespace, target: AccessTarget): string {
    if (target.kind === 'tag') return `${accessKeys.tags(ns)}/${target.tag}!`;
    return `${accessKeys.revisions(ns)}/${digestAlgorithm(target.digest)}/${digestHex(target.digest)}!`;
  },
  /** `<ord>.<c8>`: the same client pulling in the same millisecond writes the same key (a recorded pull dedups). */
  entry: (ns: Namespace, target: AccessTarget, name: AccessEntryName) => `${accessKeys.target(ns, target)}/${name.ord}.${name.clientHash}`,
  /** The name of a key listed under `target(ns, t)`, or undefined. */
  parseEntry(key: string): AccessEntryName | undefined {
    const match = /\/([0-9a-f]{16})\.([0-9a-f]{8})$/.exec(key);
    return match ? { ord: match[1]!, clientHash: match[2]! } : undefined;
  },
  /** The tag of a child of `tags(ns)` (`<tag>!`), or undefined. */
  parseTagChild(child: string): Tag | undefined {
    const match = /^([^/!]+)!$/.exec(child);
    return match && isTag(match[1]!) ? match[1] : undefined;
  },
  /** The revision of a child `<hash>!` of `revisions(ns)/<algorithm>`, or undefined. */
  parseRevisionChild(algorithm: string, child: string): Digest | undefined {
    const match = /^([0-9a-f]+)!$/.exec(child);
    const digest = match ? `${algorithm}:${match[1]!}` : '';
    return isDigest(digest) ? digest : undefined;
  },
};

/** The job queues (src/jobs/): `cache` fills the pull-through cache, `replication` pushes to downstreams. */
export const JOB_QUEUES = ['cache', 'replication'] as const;
export type JobQueueName = (typeof JOB_QUEUES)[number];

export function isJobQueueName(value: string): value is JobQueueName {
  return (JOB_QUEUES as readonly string[]).includes(value);
}

/** `<hex16(not_before ms)>-<uuid>`: a job's name in its queue; ascending byte order is due-time order. */
const STORAGE_KEY = /^([0-9a-f]{16})-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
/** The longest `enc(lock_key)` used as it is; with `.json` it stays well inside a file name's 255 bytes. */
const MAX_ENCODED_LOCK_KEY = 200;

/** Characters a lock key may hold that are unsafe in a file name or S3 key component: `%XX`-escaped by `enc`. */
const LOCK_KEY_UNSAFE = /[/\\:*?"<>|]/g;

/** Unix ms as 16 lowercase hex digits (pre-1970 is 0), so keys sort by time. */
function hex16(ms: number): string {
  return Math.max(0, Math.floor(ms)).toString(16).padStart(16, '0');
}

export const jobKeys = {
  root: '_jobs',
  /** A job's storage key; `notBeforeMs` exists only here, so a listing alone says which jobs are due. */
  storageKey: (notBeforeMs: number, id: string) => `${hex16(notBeforeMs)}-${id}`,
  /** The due time and id of a storage key, or undefined when it is none (a foreign file, a malformed query value). */
  parseStorageKey(storageKey: string): { notBeforeMs: number; id: string } | undefined {
    const match = STORAGE_KEY.exec(storageKey);
    return match ? { notBeforeMs: Number.parseInt(match[1]!, 16), id: match[2]! } : undefined;
  },
  /** The storage-key prefix of every job due at or before `ms`: a listing bound for "ready by then". */
  dueBound: (ms: number) => hex16(ms),
  pendingPrefix: (queue: JobQueueName) => `_jobs/pending/${queue}`,
  failedPrefix: (queue: JobQueueName) => `_jobs/failed/${queue}`,
  pending: (queue: JobQueueName, storageKey: string) => `_jobs/pending/${queue}/${storageKey}.json`,
  failed: (queue: JobQueueName, storageKey: string) => `_jobs/failed/${queue}/${storageKey}.json`,
  /** The storage key of a key listed under `pendingPrefix`/`failedPrefix`, or undefined for anything else there. */
  storageKeyOf(key: string): string | undefined {
    const name = key.slice(key.lastIndexOf('/') + 1);
    if (!name.endsWith('.json')) return undefined;
    const storageKey = name.slice(0, -'.json'.length);
    return STORAGE_KEY.test(storageKey) ? storageKey : undefined;
  },
  /**
   * `/ \ : * ? " < > |` as `%XX`: a lock key (`cache.<ns>:<digest>`) as one file name on every filesystem. Lock keys
   * hold no `%` (refused when a job is built), so the escaping cannot collide.
   */
  enc: (lockKey: string) => {
    const encoded = lockKey.replace(LOCK_KEY_UNSAFE, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
    // A file name holds at most 255 bytes: a longer key (a long namespace, each `/` tripled) keeps a readable head and
    // is told apart by the hash of the whole key.
    if (encoded.length <= MAX_ENCODED_LOCK_KEY) return encoded;
    return `${encoded.slice(0, 120)}~${createHash('sha256').update(lockKey).digest('hex')}`;
  },
  /** Points at the job of a lock key not yet claimed: the only thing enqueues coalesce on. */
  index: (queue: JobQueueName, lockKey: string) => `_jobs/index/${queue}/${jobKeys.enc(lockKey)}.json`,
  /** Held by the drainer running the lock key's job; atomic create makes one drainer per lock key. */
  claim: (lockKey: string) => `_jobs/claims/${jobKeys.enc(lockKey)}.json`,
  /** Not `.probe-<uuid>`: the filesystem store reserves names starting with `.` for its temporary files. */
  probe: (id: string) => `_jobs/claims/probe-${id}`,
};
