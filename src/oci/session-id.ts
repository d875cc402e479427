import { randomUUID } from 'node:crypto';

/** An upload session id: canonical lower-case hyphenated UUID. Only `parseSessionId`/`newSessionId` produce one. */
export type SessionId = string & { readonly __brand: 'SessionId' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function parseSessionId(value: string): SessionId | undefined {
  return UUID.test(value) ? (value as SessionId) : undefined;
}

export function newSessionId(): SessionId {
  return randomUUID() as SessionId;
}
