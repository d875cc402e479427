// `identity.client_ip` (`trusted_proxies`, docs/configuration.md): the TCP peer, unless the peer is a trusted
// proxy, whose forwarding headers are then believed. Headers from anyone else are ignored: they are client-chosen.
import { BlockList, isIP } from 'node:net';
import type { TrustedProxy } from '../config/types.ts';
import { peerIp } from '../policy/identity.ts';

/** Every value of each header, as `IncomingMessage.headersDistinct` gives them. */
export type DistinctHeaders = Readonly<Record<string, readonly string[] | undefined>>;

// Configurations are frozen and replaced whole on reload, so the list object identifies its block list.
const blockLists = new WeakMap<readonly TrustedProxy[], BlockList>();

function trustList(proxies: readonly TrustedProxy[]): BlockList {
  let list = blockLists.get(proxies);
  if (list === undefined) {
    list = new BlockList();
    for (const proxy of proxies) list.addSubnet(proxy.address, proxy.prefixLength, proxy.family === 4 ? 'ipv4' : 'ipv6');
    blockLists.set(proxies, list);
  }
  return list;
}

/** A plain IP (IPv4-mapped IPv6 shown as IPv4), or undefined for anything else (ports, names, garbage). */
function normalizeIp(text: string): string | undefined {
  const ip = peerIp(text.trim()) ?? '';
  return isIP(ip) === 0 ? undefined : ip;
}

function isTrusted(list: BlockList, ip: string): boolean {
  return list.check(ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6');
}

/** Whether the TCP peer is a trusted proxy, whose forwarding headers (`X-Forwarded-Proto` too) are believed. */
export function isTrustedPeer(peerAddress: string | undefined, proxies: readonly TrustedProxy[]): boolean {
  const peer = peerIp(peerAddress);
  if (peer === null || proxies.length === 0 || isIP(peer) === 0) return false;
  return isTrusted(trustList(proxies), peer);
}

export function resolveClientIp(peerAddress: string | undefined, headers: DistinctHeaders, proxies: readonly TrustedProxy[]): string | null {
  const peer = peerIp(peerAddress);
  if (peer === null || proxies.length === 0) return peer;
  const list = trustList(proxies);
  if (isIP(peer) === 0 || !isTrusted(list, peer)) return peer;
  // Each proxy appends the address it received from; walking right to left past our own proxies finds the first
  // hop we did not put there ourselves. Only the first header counts.
  const forwarded = headers['x-forwarded-for']?.[0]?.split(',') ?? [];
  for (let index = forwarded.length - 1; index >= 0; index--) {
    const ip = normalizeIp(forwarded[index]!);
    if (ip !== undefined && !isTrusted(list, ip)) return ip;
  }
  const realIp = headers['x-real-ip']?.[0];
  return (realIp === undefined ? undefined : normalizeIp(realIp)) ?? peer;
}
