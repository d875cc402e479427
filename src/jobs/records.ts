// Building and reading the queue's JSON records (docs/operations.md, "Job queue"): envelopes, dead letters, index
// entries. A record that does not parse is reported as undefined, never thrown: the queue decides what to do with it.
import { randomUUID } from 'node:crypto';
import { isJobQueueName } from '../registry/keys.ts';
import type { DeadLetter, JobEnvelope, QueueName } from './queue.ts';

/** A new envelope; throws when `lockKey` is empty or holds `%` (it would not escape to a unique file name). */
export function newEnvelope(queue: QueueName, kind: string, lockKey: string, payload: Record<string, unknown>, maxAttempts: number, now: number): JobEnvelope {
  if (lockKey === '' || lockKey.includes('%')) throw new Error(`invalid job lock key ${JSON.stringify(lockKey)}: it must be non-empty and hold no '%'`);
  return { id: randomUUID(), queue, kind, lock_key: lockKey, created_at: new Date(now).toISOString(), attempts: 0, max_attempts: maxAttempts, payload };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An envelope (or the envelope part of a dead letter); `max_attempts` missing takes `defaultMaxAttempts`. */
export function parseEnvelope(bytes: Buffer, defaultMaxAttempts: number): JobEnvelope | undefined {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(value)) return undefined;
  const { id, queue, kind, lock_key, created_at, attempts, max_attempts, payload } = value;
  if (typeof id !== 'string' || typeof queue !== 'string' || !isJobQueueName(queue) || typeof kind !== 'string') return undefined;
  if (typeof lock_key !== 'string' || lock_key === '' || typeof created_at !== 'string' || !isObject(payload)) return undefined;
  if (attempts !== undefined && (typeof attempts !== 'number' || !Number.isInteger(attempts) || attempts < 0)) return undefined;
  if (max_attempts !== undefined && (typeof max_attempts !== 'number' || !Number.isInteger(max_attempts) || max_attempts < 0)) return undefined;
  return { id, queue, kind, lock_key, created_at, attempts: attempts ?? 0, max_attempts: max_attempts ?? defaultMaxAttempts, payload };
}

export function parseDeadLetter(bytes: Buffer, defaultMaxAttempts: number): DeadLetter | undefined {
  const envelope = parseEnvelope(bytes, defaultMaxAttempts);
  if (envelope === undefined) return undefined;
  const value = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  const lastError = typeof value.last_error === 'string' ? value.last_error : '';
  const failedAt = typeof value.failed_at === 'string' ? value.failed_at : envelope.created_at;
  return { ...envelope, last_error: lastError, failed_at: failedAt };
}

/** Only the envelope's own fields, in their documented order (a dead letter's extra fields dropped). */
export function envelopeOf(job: JobEnvelope): JobEnvelope {
  const { id, queue, kind, lock_key, created_at, attempts, max_attempts, payload } = job;
  return { id, queue, kind, lock_key, created_at, attempts, max_attempts, payload };
}

export function encodeRecord(record: object): string {
  return JSON.stringify(record);
}

/** `{"storage_key":"…"}`: the index entry of a lock key. Undefined when unparsable. */
export function parseIndex(bytes: Buffer): string | undefined {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return isObject(value) && typeof value.storage_key === 'string' ? value.storage_key : undefined;
  } catch {
    return undefined;
  }
}

export function encodeIndex(storageKey: string): string {
  return JSON.stringify({ storage_key: storageKey });
}
