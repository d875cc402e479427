// The `url` of an upstream or downstream (docs/configuration.md): `scheme://host[:port][/path]`. The path is a
// namespace prefix on the remote registry, never an HTTP path prefix, so it must be a valid namespace; a query, a
// fragment or credentials would have no place in the requests built from it and are refused.
import { NAMESPACE } from './namespace-grammar.ts';

// What `URL` would otherwise quietly repair: surrounding blanks, backslashes read as slashes.
const SHAPE = /^https?:\/\/[^/\\\s]+(?:\/[^\\\s]*)?$/i;

export class RemoteUrlError extends Error {}

export interface RemoteUrl {
  /** `scheme://host[:port]`, as `URL` normalises it (lower-case host, no default port). */
  readonly origin: string;
  /** The path without its leading and (ignored) trailing `/`; undefined for a bare host. */
  readonly namespacePath: string | undefined;
}

/** Parses `url`; the error message quotes it (it holds no secret: credentials in it are refused unread). */
export function parseRemoteUrl(url: string): RemoteUrl {
  if (!URL.canParse(url)) throw new RemoteUrlError(`expected an absolute http(s) URL, got '${url}'`);
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new RemoteUrlError(`expected an absolute http(s) URL, got '${url}'`);
  if (parsed.username !== '' || parsed.password !== '') {
    throw new RemoteUrlError('credentials are not accepted in the URL; set username and password instead');
  }
  if (url.includes('?') || url.includes('#')) throw new RemoteUrlError(`'${url}' has a query or fragment; expected scheme://host[:port][/path]`);
  if (!SHAPE.test(url)) throw new RemoteUrlError(`expected scheme://host[:port][/path], got '${url}'`);
  // The path as written: `URL` would resolve `.` and `..` segments into something else than what the operator wrote.
  const afterScheme = url.slice(url.indexOf('//') + 2);
  const slash = afterScheme.indexOf('/');
  const rawPath = slash === -1 ? '' : afterScheme.slice(slash + 1).replace(/\/$/, '');
  if (rawPath === '') return { origin: parsed.origin, namespacePath: undefined };
  if (!NAMESPACE.test(rawPath)) throw new RemoteUrlError(`the path '${rawPath}' of '${url}' is not a valid namespace`);
  return { origin: parsed.origin, namespacePath: rawPath };
}
