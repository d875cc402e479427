// `Link: <url>; rel="next"` of a paginated listing (tags, referrers).

/** The `rel="next"` target of the Link headers, resolved against `base`; undefined when there is none. */
export function nextLink(headers: string | string[] | undefined, base: URL): URL | undefined {
  for (const header of Array.isArray(headers) ? headers : headers === undefined ? [] : [headers]) {
    for (const match of header.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]*)*)/g)) {
      const params = (match[2] ?? '').split(';').map((param) => param.trim());
      const rel = params.find((param) => /^rel\s*=/i.test(param));
      const relations = rel?.slice(rel.indexOf('=') + 1).trim().replace(/^"|"$/g, '').toLowerCase().split(/\s+/) ?? [];
      if (!relations.includes('next')) continue;
      const target = match[1] ?? '';
      return URL.canParse(target, base.href) ? new URL(target, base) : undefined;
    }
  }
  return undefined;
}
