// Accept forwarding (spec §2.4): the media types a client accepts go upstream as separate `Accept` headers, most
// wanted first, so a remote that reads only the first header value still picks what the client prefers.

// `1`, `1.`, `1.0`…`1.000`, `0`, `0.`, `0.d`…`0.ddd` (RFC 9110 qvalue); anything else counts as 0.
const QVALUE = /^(?:1(?:\.0{0,3})?|0(?:\.\d{0,3})?)$/;

/** The quality of one Accept item: its `q` parameter, 1 when absent, 0 when malformed. */
export function acceptQuality(item: string): number {
  const params = item.split(';').slice(1);
  for (const param of params) {
    const equals = param.indexOf('=');
    if (equals === -1 || param.slice(0, equals).trim().toLowerCase() !== 'q') continue;
    const value = param.slice(equals + 1).trim();
    return QVALUE.test(value) ? Number(value) : 0;
  }
  return 1;
}

/**
 * Splits client Accept headers into the ordered list to forward: every header split on `,`, items trimmed,
 * empty ones dropped, parameters kept verbatim; stable sort by quality, highest first. No header → [].
 */
export function forwardedAccept(headers: string | string[] | undefined): string[] {
  if (headers === undefined) return [];
  const items = (Array.isArray(headers) ? headers : [headers])
    .flatMap((header) => header.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return items
    .map((item, index) => ({ item, index, quality: acceptQuality(item) }))
    .sort((a, b) => b.quality - a.quality || a.index - b.index)
    .map(({ item }) => item);
}
