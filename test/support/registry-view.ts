import { isDeepStrictEqual } from 'node:util';
import { jsonBody, request } from './http.ts';
import type { Content, Manifest } from './oci.ts';
import type { Tally } from './tally.ts';

/**
 * What the shared-storage tests count; every one must stay 0. `disagreements`: two servers on one storage answer
 * differently. `halfVisible`: a tag that resolves (or is listed) without its manifest, a manifest whose blobs do not
 * read back, a listed tag that does not resolve. `illegalOutcomes`: a state no order of the racing requests explains.
 * `serverErrors`: 5xx, or a status the step does not expect.
 */
export const SHARED_COUNTS = ['disagreements', 'halfVisible', 'illegalOutcomes', 'serverErrors'] as const;
export type SharedCount = (typeof SHARED_COUNTS)[number];

/** What a race touched in one namespace. */
export interface RaceSubject {
  ns: string;
  tags: readonly string[];
  manifests: readonly Manifest[];
  blobs: readonly Content[];
}

/** What one server answers about a race's subject once the race is over. */
export interface RegistryView {
  /** Tag → the digest it resolves to, or null (404). */
  tags: Record<string, string | null>;
  /** Manifest digest → whether GET by digest answers 200 with the pushed bytes. */
  manifests: Record<string, boolean>;
  /** Blob digest → whether GET answers 200 with the pushed bytes. */
  blobs: Record<string, boolean>;
  /** The subject's tags that the tags list names. */
  listed: string[];
}

/** Reads the subject through one server, flagging every half-visible state and unexpected answer it sees. */
export async function readView(url: string, subject: RaceSubject, tally: Tally<SharedCount>, what: string): Promise<RegistryView> {
  const { ns } = subject;
  const view: RegistryView = { tags: {}, manifests: {}, blobs: {}, listed: [] };
  const at = `${what} via ${url}`;
  for (const tag of subject.tags) {
    const response = await request(url, `/v2/${ns}/manifests/${tag}`);
    if (response.status === 200) view.tags[tag] = String(response.headers['docker-content-digest']);
    else if (response.status === 404) view.tags[tag] = null;
    else tally.flag('serverErrors', `${at}: GET tag ${tag} answered ${response.status}`);
  }
  for (const manifest of subject.manifests) view.manifests[manifest.digest] = await readsBack(url, `/v2/${ns}/manifests/${manifest.digest}`, manifest.bytes, tally, at);
  for (const blob of subject.blobs) view.blobs[blob.digest] = await readsBack(url, `/v2/${ns}/blobs/${blob.digest}`, blob.bytes, tally, at);
  const listing = await request(url, `/v2/${ns}/tags/list`);
  if (listing.status === 200) {
    const listed = new Set((jsonBody(listing) as { tags: string[] | null }).tags ?? []);
    view.listed = subject.tags.filter((tag) => listed.has(tag));
  } else if (listing.status !== 404) {
    tally.flag('serverErrors', `${at}: tags list answered ${listing.status}`);
  }

  for (const [tag, digest] of Object.entries(view.tags)) {
    if (digest !== null && view.manifests[digest] === false) tally.flag('halfVisible', `${at}: ${tag} resolves to ${digest}, which GET by digest does not serve`);
    if ((digest !== null) !== view.listed.includes(tag)) tally.flag('halfVisible', `${at}: ${tag} ${digest === null ? 'is listed but does not resolve' : 'resolves but is not listed'}`);
  }
  for (const manifest of subject.manifests) {
    if (!view.manifests[manifest.digest]) continue;
    for (const digest of referencedDigests(manifest)) {
      if (view.blobs[digest] === false) tally.flag('halfVisible', `${at}: manifest ${manifest.digest} is served, its blob ${digest} is not`);
    }
  }
  return view;
}

/** Flags a disagreement when the servers' views differ. */
export function expectAgreement(views: readonly RegistryView[], tally: Tally<SharedCount>, what: string): void {
  for (const other of views.slice(1)) {
    if (!isDeepStrictEqual(views[0], other)) tally.flag('disagreements', `${what}: ${JSON.stringify(views[0])} vs ${JSON.stringify(other)}`);
  }
}

/** The config and layer (or child manifest) digests a manifest references. */
export function referencedDigests(manifest: Manifest): string[] {
  const json = manifest.json as { config?: { digest: string }; layers?: Array<{ digest: string }>; manifests?: Array<{ digest: string }> };
  return [...(json.config ? [json.config] : []), ...(json.layers ?? []), ...(json.manifests ?? [])].map((descriptor) => descriptor.digest);
}

async function readsBack(url: string, path: string, bytes: Buffer, tally: Tally<SharedCount>, at: string): Promise<boolean> {
  const response = await request(url, path);
  if (response.status === 404) return false;
  if (response.status !== 200) tally.flag('serverErrors', `${at}: GET ${path} answered ${response.status}`);
  else if (!response.body.equals(bytes)) tally.flag('halfVisible', `${at}: GET ${path} serves ${response.body.length} bytes that differ from those pushed`);
  return response.status === 200;
}
