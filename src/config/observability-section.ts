// `[observability]` (docs/configuration.md): only `[observability.tracing]` so far.
import { ConfigValueError, type TableReader } from './table-reader.ts';
import type { ObservabilityConfig, TracingConfig } from './types.ts';

function readTracing(tracing: TableReader): TracingConfig {
  const endpoint = tracing.requiredString('endpoint');
  if (!URL.canParse(endpoint) || !['http:', 'https:'].includes(new URL(endpoint).protocol)) {
    tracing.fail('endpoint', `expected an http(s) URL, got '${endpoint}'`);
  }
  const samplingRate = tracing.float('sampling_rate') ?? tracing.missing('sampling_rate');
  if (!Number.isFinite(samplingRate) || samplingRate < 0 || samplingRate > 1) {
    throw new ConfigValueError(`${tracing.pathOf('sampling_rate')}: sampling_rate must be a finite number in [0.0, 1.0], got ${samplingRate}`);
  }
  tracing.finish();
  return { endpoint, samplingRate };
}

export function readObservability(root: TableReader): ObservabilityConfig {
  const observability = root.table('observability');
  const tracing = observability?.table('tracing');
  observability?.finish();
  return { tracing: tracing === undefined ? undefined : readTracing(tracing) };
}
