import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Verifies an AWS Signature Version 4 request (header or presigned-URL form) against one key pair. s3rver checks
 * only the access key of V4 requests, so the test fixture recomputes the signature itself: a store configured with
 * a wrong secret is then refused as S3 refuses it. Returns the reason for a refusal, undefined when valid.
 */
export function sigV4Problem(req: IncomingMessage, accessKeyId: string, secretKey: string): string | undefined {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const fromQuery = url.searchParams.has('X-Amz-Signature');
  const auth = fromQuery ? undefined : parseAuthorization(req.headers.authorization ?? '');
  const credential = fromQuery ? url.searchParams.get('X-Amz-Credential') ?? '' : (auth?.credential ?? '');
  const signedHeaders = (fromQuery ? url.searchParams.get('X-Amz-SignedHeaders') : auth?.signedHeaders) ?? '';
  const provided = (fromQuery ? url.searchParams.get('X-Amz-Signature') : auth?.signature) ?? '';
  const amzDate = (fromQuery ? url.searchParams.get('X-Amz-Date') : header(req, 'x-amz-date')) ?? '';
  const [key, date, region, service, terminator] = credential.split('/');
  if (key !== accessKeyId) return 'InvalidAccessKeyId';
  if (!date || !region || !service || terminator !== 'aws4_request' || !amzDate.startsWith(date)) return 'AuthorizationQueryParametersError';

  const query = [...url.searchParams.entries()]
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => [encode(name), encode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const names = signedHeaders.split(';');
  const headers = names.map((name) => `${name}:${(header(req, name) ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const payload = fromQuery ? 'UNSIGNED-PAYLOAD' : (header(req, 'x-amz-content-sha256') ?? 'UNSIGNED-PAYLOAD');
  const canonical = [req.method, url.pathname, query, headers, signedHeaders, payload].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  let signingKey: Buffer = Buffer.from(`AWS4${secretKey}`);
  for (const part of [date, region, service, 'aws4_request']) signingKey = createHmac('sha256', signingKey).update(part).digest();
  const expected = createHmac('sha256', signingKey).update(toSign).digest();
  const given = Buffer.from(provided, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) ? undefined : 'SignatureDoesNotMatch';
}

function parseAuthorization(value: string): { credential: string; signedHeaders: string; signature: string } | undefined {
  const match = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)$/.exec(value.trim());
  return match ? { credential: match[1]!, signedHeaders: match[2]!, signature: match[3]! } : undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters, upper-case hex. */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
