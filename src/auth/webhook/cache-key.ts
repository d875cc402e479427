import { createHash } from 'node:crypto';
import type { HeaderList } from './headers.ts';

/**
 * The decision-cache key (`cache_ttl`, docs/configuration.md): `webhook:<name>:` and a SHA-256 over every header
 * sent but the webhook's own credentials, so a decision is reused only for an identical forwarded context. Pairs
 * are sorted by name then value and each part is length-prefixed, so no two different header sets hash alike.
 */
export function decisionCacheKey(webhookName: string, headers: HeaderList): string {
  const pairs = headers.map(([name, value]) => [Buffer.from(name.toLowerCase(), 'latin1'), Buffer.from(value, 'latin1')] as const);
  pairs.sort(([nameA, valueA], [nameB, valueB]) => Buffer.compare(nameA, nameB) || Buffer.compare(valueA, valueB));
  const hash = createHash('sha256');
  const length = Buffer.alloc(8);
  for (const [name, value] of pairs) {
    for (const part of [name, value]) {
      length.writeBigUInt64BE(BigInt(part.length));
      hash.update(length);
      hash.update(part);
    }
  }
  return `webhook:${webhookName}:${hash.digest('hex')}`;
}
