// JSON of JWT payloads as policies see it (`identity.oidc.claims`): an integer is a CEL int, so it must come out as
// a `bigint`, and stay an integer (not `1e21`, not rounded) when a registry token carries the claims on.

interface SourceContext {
  readonly source?: string;
}

// `JSON.rawJSON` exists in Node 24 but not in the ES2023 library typings.
const { rawJSON } = JSON as unknown as { rawJSON(text: string): unknown };

/** `JSON.parse`, with every integer literal (no fraction, no exponent) as a `bigint`. */
export function parseJson(text: string): unknown {
  return JSON.parse(text, function (this: unknown, _key: string, value: unknown, context?: SourceContext) {
    const source = context?.source;
    return typeof value === 'number' && source !== undefined && /^-?\d+$/.test(source) ? BigInt(source) : value;
  } as (key: string, value: unknown) => unknown);
}

/** `JSON.stringify` writing a `bigint` as the integer it is. */
export function stringifyJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? rawJSON(item.toString()) : item));
}

/** A number of seconds from a parsed claim (`bigint` or `number`), or undefined when it is not one. */
export function numericClaim(value: unknown): number | undefined {
  if (typeof value === 'bigint') return Number(value);
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
