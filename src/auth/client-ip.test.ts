import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrustedProxy } from '../config/trusted-proxy.ts';
import { resolveClientIp, type DistinctHeaders } from './client-ip.ts';

const proxies = (...entries: string[]) => entries.map(parseTrustedProxy);
const xff = (...values: string[]): DistinctHeaders => ({ 'x-forwarded-for': values });

test('from a trusted peer the rightmost untrusted X-Forwarded-For entry wins', () => {
  const trusted = proxies('10.0.0.0/8');
  assert.equal(resolveClientIp('10.1.2.3', xff('203.0.113.9, 10.9.9.9'), trusted), '203.0.113.9');
  assert.equal(resolveClientIp('192.0.2.1', xff('203.0.113.9, 10.9.9.9'), trusted), '192.0.2.1');
});

test('trusted peer 10.0.0.5 vs untrusted 192.0.2.9', () => {
  const trusted = proxies('10.0.0.0/8');
  assert.equal(resolveClientIp('10.0.0.5', xff('1.2.3.4, 10.0.0.7'), trusted), '1.2.3.4');
  assert.equal(resolveClientIp('192.0.2.9', xff('1.2.3.4, 10.0.0.7'), trusted), '192.0.2.9');
});

test('a client cannot spoof its address through a trusted proxy: entries left of its own are not reached', () => {
  // The client sent "6.6.6.6"; the proxy appended the real peer 198.51.100.7.
  assert.equal(resolveClientIp('10.0.0.1', xff('6.6.6.6, 198.51.100.7'), proxies('10.0.0.0/8')), '198.51.100.7');
});

test('empty and non-IP entries are skipped; only the first X-Forwarded-For header is read', () => {
  const trusted = proxies('10.0.0.0/8');
  assert.equal(resolveClientIp('10.0.0.1', xff('203.0.113.5, proxy.local, , 1.2.3.4:80, 10.0.0.2'), trusted), '203.0.113.5');
  assert.equal(resolveClientIp('10.0.0.1', xff('203.0.113.5', '198.51.100.1'), trusted), '203.0.113.5');
});

test('no usable X-Forwarded-For entry: X-Real-IP (trimmed), else the peer', () => {
  const trusted = proxies('10.0.0.0/8');
  assert.equal(resolveClientIp('10.0.0.1', { 'x-forwarded-for': ['10.0.0.9'], 'x-real-ip': [' 203.0.113.77 '] }, trusted), '203.0.113.77');
  assert.equal(resolveClientIp('10.0.0.1', { 'x-real-ip': ['2001:db8::5'] }, trusted), '2001:db8::5');
  assert.equal(resolveClientIp('10.0.0.1', { 'x-real-ip': ['not an ip'] }, trusted), '10.0.0.1');
  assert.equal(resolveClientIp('10.0.0.1', {}, trusted), '10.0.0.1');
  // An untrusted peer's X-Real-IP is ignored as well.
  assert.equal(resolveClientIp('192.0.2.1', { 'x-real-ip': ['203.0.113.77'] }, trusted), '192.0.2.1');
});

test('IPv4-mapped peers and entries are plain IPv4, also when matching proxies; IPv4 ranges never match IPv6', () => {
  const trusted = proxies('10.0.0.0/8', 'fd00::/8');
  assert.equal(resolveClientIp('::ffff:10.0.0.5', xff('::ffff:203.0.113.1'), trusted), '203.0.113.1');
  assert.equal(resolveClientIp('fd00::1', xff('2001:db8::9, fd12::3'), trusted), '2001:db8::9');
  assert.equal(resolveClientIp('2001:db8::1', xff('1.2.3.4'), proxies('0.0.0.0/0')), '2001:db8::1');
  assert.equal(resolveClientIp('::ffff:192.0.2.9', xff('1.2.3.4'), [])!, '192.0.2.9');
});

test('without trusted proxies every header is ignored; an unknown peer is null', () => {
  assert.equal(resolveClientIp('127.0.0.1', { 'x-forwarded-for': ['1.2.3.4'], 'x-real-ip': ['5.6.7.8'] }, []), '127.0.0.1');
  assert.equal(resolveClientIp(undefined, xff('1.2.3.4'), proxies('10.0.0.0/8')), null);
});

test('a configuration reload with other proxies is honoured (no stale trust list)', () => {
  const headers = xff('203.0.113.9');
  assert.equal(resolveClientIp('10.0.0.1', headers, proxies('10.0.0.0/8')), '203.0.113.9');
  assert.equal(resolveClientIp('10.0.0.1', headers, proxies('192.168.0.0/16')), '10.0.0.1');
});
