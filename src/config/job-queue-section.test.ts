import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFailure as failure, loadConfig as load } from '../../test/support/config-validation.ts';

const queue = (keys: string) => `[global.job_queue]\n${keys}`;

test('defaults of every key; absent means jobs are drained in the server', () => {
  assert.equal(load('').global.jobQueue, undefined);
  assert.deepEqual(load(queue('')).global.jobQueue, {
    pendingRefreshIntervalSecs: 15,
    pendingReadyHorizonSecs: 600,
    maxAttempts: 5,
    retryBackoffMinMs: 100,
    retryBackoffMaxMs: 10_000,
    claimTtlSecs: 60,
  });
  const set = load(queue('pending_refresh_interval_secs = 5\npending_ready_horizon_secs = 0\nmax_attempts = 0\nretry_backoff_min_ms = 50\nretry_backoff_max_ms = 50\nclaim_ttl_secs = 3\n'));
  assert.deepEqual(set.global.jobQueue, {
    pendingRefreshIntervalSecs: 5,
    pendingReadyHorizonSecs: 0,
    maxAttempts: 0,
    retryBackoffMinMs: 50,
    retryBackoffMaxMs: 50,
    claimTtlSecs: 3,
  });
});

test('claim_ttl_secs = 2 is refused; above a day it is clamped with a warning', () => {
  assert.equal(failure(queue('claim_ttl_secs = 2\n')), 'global.job_queue.claim_ttl_secs: claim_ttl_secs must be at least 3, got 2');
  const clamped = load(queue('claim_ttl_secs = 90000\n'));
  assert.equal(clamped.global.jobQueue?.claimTtlSecs, 86_400);
  assert.deepEqual(clamped.warnings, ['global.job_queue.claim_ttl_secs = 90000 is above 86400; using 86400']);
});

test('ranges: refresh interval ≥ 5, backoff max ≥ min ≥ 1, counts not negative', () => {
  assert.equal(failure(queue('pending_refresh_interval_secs = 4\n')), 'global.job_queue.pending_refresh_interval_secs: pending_refresh_interval_secs must be at least 5, got 4');
  assert.equal(failure(queue('retry_backoff_min_ms = 0\n')), 'global.job_queue.retry_backoff_min_ms: retry_backoff_min_ms must be at least 1, got 0');
  assert.equal(failure(queue('retry_backoff_min_ms = 500\nretry_backoff_max_ms = 400\n')), 'global.job_queue.retry_backoff_max_ms must be at least retry_backoff_min_ms (500), got 400');
  assert.equal(failure(queue('max_attempts = -1\n')), 'global.job_queue.max_attempts must not be negative, got -1');
  assert.equal(failure(queue('pending_ready_horizon_secs = -1\n')), 'global.job_queue.pending_ready_horizon_secs must not be negative, got -1');
  assert.deepEqual(load(queue('shards = 4\n')).warnings, ['Unknown configuration keys ignored: global.job_queue.shards']);
});

test('no lock service is needed: the section loads on the default store; a lock-era lock_strategy only warns', () => {
  assert.equal(load('[global.job_queue]\n').global.jobQueue?.claimTtlSecs, 60);
  const legacy = load('[global.job_queue]\n[metadata_store.fs]\nlock_strategy = "memory"\n');
  assert.ok(legacy.global.jobQueue !== undefined);
  assert.deepEqual(legacy.warnings, [
    "metadata_store.fs.lock_strategy is deprecated and ignored: the registry needs no lock service (job claims use the metadata store's atomic create)",
  ]);
});
