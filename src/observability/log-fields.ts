// Structured log fields as JSON. Logging must never throw, whatever callers hand it.

interface ErrorLike {
  name?: string;
  message: string;
  code?: unknown;
  cause?: unknown;
}

// Errors carry their useful parts in non-enumerable properties, which JSON.stringify would drop.
// Only name, message, code and the cause chain are kept: stacks are noise in structured logs and
// arbitrary own properties (request options, headers) may hold credentials.
function describeError(error: Error, depth: number): ErrorLike {
  const described: ErrorLike = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') described.code = code;
  if (error.cause !== undefined && depth < 3) {
    described.cause = error.cause instanceof Error ? describeError(error.cause, depth + 1) : String(error.cause);
  }
  return described;
}

function replacer(this: unknown, key: string, value: unknown): unknown {
  if (value instanceof Error) return describeError(value, 0);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  return value;
}

/** `,"k":v,...` ready to follow `"message":…`, or `''`; a `message` field would shadow the message, so it is dropped. */
export function encodeFields(fields: Record<string, unknown> | undefined): string {
  if (fields === undefined) return '';
  let encoded: string | undefined;
  try {
    const copy: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(fields)) if (key !== 'message') copy[key] = fields[key];
    encoded = JSON.stringify(copy, replacer);
  } catch (error) {
    // Circular structures and throwing getters: keep the line, say why the fields are missing.
    encoded = JSON.stringify({ log_fields_error: error instanceof Error ? error.message : String(error) });
  }
  return encoded === undefined || encoded === '{}' ? '' : `,${encoded.slice(1, -1)}`;
}
