import { isDigest, type Digest } from './digest.ts';
import { isTag, type Tag } from './tag.ts';

/** A manifest reference: a digest when it contains `:`, else a tag. */
export type Reference = { readonly kind: 'digest'; readonly digest: Digest } | { readonly kind: 'tag'; readonly tag: Tag };

export function parseReference(value: string): Reference | undefined {
  if (value.includes(':')) return isDigest(value) ? { kind: 'digest', digest: value } : undefined;
  return isTag(value) ? { kind: 'tag', tag: value } : undefined;
}

export function referenceString(reference: Reference): string {
  return reference.kind === 'digest' ? reference.digest : reference.tag;
}
