import type { IncomingMessage } from 'node:http';

/** `X-Angos-No-Redirect` with a value other than empty, `0` or `false` asks for an inline body (chapter 01 §4.4). */
export function redirectSuppressed(req: IncomingMessage): boolean {
  const value = req.headers['x-angos-no-redirect'];
  if (typeof value !== 'string') return false;
  const normalized = value.trim().toLowerCase();
  return normalized !== '' && normalized !== '0' && normalized !== 'false';
}

/** `X-Angos-Source-Timestamp` (RFC 3339) in unix ms; missing or unreadable ⇒ undefined, a plain write. */
export function sourceTimestamp(req: IncomingMessage): number | undefined {
  const value = req.headers['x-angos-source-timestamp'];
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
