// `global.trusted_proxies` entries: an IP literal or a CIDR block (docs/configuration.md). Host names are refused
// because a proxy's identity is its peer address; resolving names would make trust depend on DNS.
import { isIP } from 'node:net';
import type { TrustedProxy } from './types.ts';

export function parseTrustedProxy(text: string): TrustedProxy {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family !== 4 && family !== 6) throw new Error(`invalid trusted proxy '${text}'`);
  const maxPrefix = family === 4 ? 32 : 128;
  let prefixLength = maxPrefix;
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    prefixLength = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
    if (!(prefixLength <= maxPrefix)) throw new Error(`invalid trusted proxy '${text}'`);
  }
  return { text, address, family, prefixLength };
}
