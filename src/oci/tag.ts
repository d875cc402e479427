/** A tag (docs/api.md, "Routing"): ASCII, at most 128 characters. Only `parseTag` produces one. */
export type Tag = string & { readonly __brand: 'Tag' };

const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

export function isTag(value: string): value is Tag {
  return TAG.test(value);
}

export function parseTag(value: string): Tag | undefined {
  return isTag(value) ? value : undefined;
}
