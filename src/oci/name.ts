/** An OCI repository name (docs/api.md, "Routing"), e.g. `library/nginx`. Only `parseNamespace` produces one. */
export type Namespace = string & { readonly __brand: 'Namespace' };

const COMPONENT = '[a-z0-9]+(?:(?:__|[._]|-+)[a-z0-9]+)*';
const NAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
export const MAX_NAME_LENGTH = 255;

export function isNamespace(value: string): value is Namespace {
  return value.length <= MAX_NAME_LENGTH && NAME.test(value);
}

export function parseNamespace(value: string): Namespace | undefined {
  return isNamespace(value) ? value : undefined;
}
