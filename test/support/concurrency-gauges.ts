import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from './http.ts';

/** The two pools of `max_concurrent_requests` (docs/configuration.md): bodies streaming in, and everything else. */
export type Pool = 'uploads' | 'requests';
export type ConcurrencyGauge = 'angos_http_concurrency_in_use' | 'angos_http_concurrency_waiting';

/** One gauge of one pool, from `/metrics` (which never waits for a slot). */
export async function gauge(url: string, name: ConcurrencyGauge, pool: Pool): Promise<number> {
  const metrics = (await request(url, '/metrics')).body.toString('utf8');
  const match = new RegExp(`^${name}\\{pool="${pool}"\\} (\\d+)$`, 'm').exec(metrics);
  assert.ok(match, `${name}{pool="${pool}"} is exported`);
  return Number(match[1]);
}

/** Polls until the gauge reads `value` (the server notices closed sockets asynchronously); fails after `withinMs`. */
export async function gaugeReaches(url: string, name: ConcurrencyGauge, pool: Pool, value: number, withinMs = 15_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  let last = await gauge(url, name, pool);
  while (last !== value) {
    assert.ok(Date.now() < deadline, `${name}{pool="${pool}"} reaches ${value} (still ${last} after ${withinMs} ms)`);
    await sleep(50);
    last = await gauge(url, name, pool);
  }
}
