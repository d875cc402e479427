import type { IncomingMessage } from 'node:http';
import { parseSourceTimestamp, type SourceTimestamp } from '../oci/source-timestamp.ts';

/** `X-Angos-No-Redirect` with a value other than empty, `0` or `false` asks for an inline body (docs/api.md, "Redirects"). */
export function redirectSuppressed(req: IncomingMessage): boolean {
  const value = req.headers['x-angos-no-redirect'];
  if (typeof value !== 'string') return false;
  const normalized = value.trim().toLowerCase();
  return normalized !== '' && normalized !== '0' && normalized !== 'false';
}

/** `X-Angos-Source-Timestamp`; missing, or anything but RFC 3339 with an offset ⇒ undefined: an ordinary write. */
export function sourceTimestamp(req: IncomingMessage): SourceTimestamp | undefined {
  const value = req.headers['x-angos-source-timestamp'];
  return typeof value === 'string' ? parseSourceTimestamp(value) : undefined;
}
