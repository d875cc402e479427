// The `Authorization` header (docs/api.md, "Request processing"). Anything malformed is "no credentials": the
// caller is anonymous and the policy decides, rather than a 401 that would make clients loop on a header they
// cannot fix.

export type Credentials =
  | { readonly scheme: 'basic'; readonly username: string; readonly password: string }
  | { readonly scheme: 'bearer'; readonly token: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `header` is the first `Authorization` header only (a repeated one is ignored). */
export function parseAuthorization(header: string | undefined): Credentials | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.replace(/^[ \t]+/, '');
  const match = /^([^ \t]+)[ \t]+(.*)$/s.exec(trimmed);
  if (!match) return undefined;
  const [, scheme, rest] = match as unknown as [string, string, string];
  const parameter = rest.replace(/^[ \t]+/, '');
  if (parameter === '') return undefined;
  switch (scheme.toLowerCase()) {
    case 'basic':
      return parseBasic(parameter);
    case 'bearer':
      return { scheme: 'bearer', token: parameter };
    default:
      return undefined;
  }
}

/** Padded standard base64 of UTF-8 `user:password`; the password may itself contain `:`. */
function parseBasic(parameter: string): Credentials | undefined {
  const bytes = Buffer.from(parameter, 'base64');
  // Node decodes leniently (URL alphabet, missing padding, stray characters); only the canonical form is accepted.
  if (bytes.toString('base64') !== parameter) return undefined;
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return undefined;
  }
  const colon = text.indexOf(':');
  if (colon === -1) return undefined;
  return { scheme: 'basic', username: text.slice(0, colon), password: text.slice(colon + 1) };
}
