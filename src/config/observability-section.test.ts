import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFailure as failure, loadConfig as load } from '../../test/support/config-validation.ts';

const TRACING = '[observability.tracing]\nendpoint = "http://otel-collector:4317"\n';

test('tracing: endpoint and sampling rate; absent means no tracing', () => {
  assert.deepEqual(load('').observability, { tracing: undefined });
  assert.deepEqual(load('[observability]\n').observability, { tracing: undefined });
  assert.deepEqual(load(`${TRACING}sampling_rate = 0.05\n`).observability.tracing, { endpoint: 'http://otel-collector:4317', samplingRate: 0.05 });
});

test('sampling_rate = 1.5 fails naming the range; 1 and 0 load', () => {
  assert.equal(failure(`${TRACING}sampling_rate = 1.5\n`), 'observability.tracing.sampling_rate: sampling_rate must be a finite number in [0.0, 1.0], got 1.5');
  assert.equal(failure(`${TRACING}sampling_rate = -0.1\n`), 'observability.tracing.sampling_rate: sampling_rate must be a finite number in [0.0, 1.0], got -0.1');
  assert.match(failure(`${TRACING}sampling_rate = nan\n`), /sampling_rate must be a finite number in \[0\.0, 1\.0\], got NaN$/);
  assert.match(failure(`${TRACING}sampling_rate = inf\n`), /sampling_rate must be a finite number in \[0\.0, 1\.0\], got Infinity$/);
  assert.equal(load(`${TRACING}sampling_rate = 1\n`).observability.tracing?.samplingRate, 1);
  assert.equal(load(`${TRACING}sampling_rate = 0\n`).observability.tracing?.samplingRate, 0);
});

test('both keys are required; the endpoint is an http(s) URL; the rate a number', () => {
  assert.equal(failure(TRACING), "observability.tracing: missing field 'sampling_rate'");
  assert.equal(failure('[observability.tracing]\nsampling_rate = 0.5\n'), "observability.tracing: missing field 'endpoint'");
  assert.equal(failure('[observability.tracing]\nendpoint = "otel:4317"\nsampling_rate = 0.5\n'), "observability.tracing.endpoint: expected an http(s) URL, got 'otel:4317'");
  assert.equal(failure(`${TRACING}sampling_rate = "0.5"\n`), 'observability.tracing.sampling_rate: invalid type: expected a float, found string "0.5"');
});
