import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** A body-less response: `Content-Length: 0` always (docs/api.md, "Common response rules"). */
export function sendEmpty(res: ServerResponse, status: number, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { ...headers, 'content-length': 0 });
  res.end();
}

/** A JSON body (omitted for HEAD, with the length it would have had). */
export function sendJson(req: IncomingMessage, res: ServerResponse, status: number, value: unknown, headers: OutgoingHttpHeaders = {}): void {
  sendBytes(req, res, status, Buffer.from(JSON.stringify(value)), { 'content-type': 'application/json', ...headers });
}

export function sendBytes(req: IncomingMessage, res: ServerResponse, status: number, body: Buffer, headers: OutgoingHttpHeaders): void {
  res.writeHead(status, { ...headers, 'content-length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** `Range` value of upload responses: `0-<size-1>`, or `0-0` for an empty session. */
export function uploadRange(size: number): string {
  return `0-${Math.max(0, size - 1)}`;
}
