import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Every metric the server exports at `/metrics` (docs/operations.md, "Metrics"); process-wide, created once. */
export const metricsRegistry = new Registry();

const MS_BUCKETS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export const httpRequestsTotal = new Counter({
  name: 'http_requests_total',
  help: 'HTTP requests by method, route (action name) and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [metricsRegistry],
});

export const httpRequestDurationMs = new Histogram({
  name: 'http_request_duration_ms',
  help: 'Time from receiving a request to sending its response head, in milliseconds',
  labelNames: ['method', 'route'] as const,
  buckets: MS_BUCKETS,
  registers: [metricsRegistry],
});

export const httpRequestsInFlight = new Gauge({
  name: 'http_requests_in_flight',
  help: 'Requests being handled',
  registers: [metricsRegistry],
});

export const authAttemptsTotal = new Counter({
  name: 'auth_attempts_total',
  help: 'Authentication attempts by method (basic, mtls, oidc, token) and result (success, failed); anonymous requests are not counted',
  labelNames: ['method', 'result'] as const,
  registers: [metricsRegistry],
});

export const webhookAuthorizationRequestsTotal = new Counter({
  name: 'webhook_authorization_requests_total',
  help: 'Authorization webhook decisions by webhook and result (allow, deny, unavailable, transport_error, cached_allow, cached_deny)',
  labelNames: ['webhook', 'result'] as const,
  registers: [metricsRegistry],
});

export const webhookAuthorizationDurationSeconds = new Histogram({
  name: 'webhook_authorization_duration_seconds',
  help: 'Duration of authorization webhook calls (cached decisions excluded), in seconds',
  labelNames: ['webhook'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

export const httpConcurrencyInUse = new Gauge({
  name: 'angos_http_concurrency_in_use',
  help: 'Concurrency slots held by requests being handled, per pool (uploads: requests streaming a body; requests: all others)',
  labelNames: ['pool'] as const,
  registers: [metricsRegistry],
});

export const httpConcurrencyWaiting = new Gauge({
  name: 'angos_http_concurrency_waiting',
  help: 'Requests queued for a concurrency slot, per pool',
  labelNames: ['pool'] as const,
  registers: [metricsRegistry],
});

export const gcRunsTotal = new Counter({
  name: 'angos_gc_runs_total',
  help: 'Collector runs (the server in the background, or scrub), by trigger and outcome (ok: every digest examined without error)',
  labelNames: ['trigger', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const gcDigestsTotal = new Counter({
  name: 'angos_gc_digests_total',
  help: 'Digests the collector examined, by result: reclaimed, live (skipped as still referenced or young), error',
  labelNames: ['trigger', 'result'] as const,
  registers: [metricsRegistry],
});

export const gcBytesReclaimedTotal = new Counter({
  name: 'angos_gc_bytes_reclaimed_total',
  help: 'Blob bytes the collector deleted',
  labelNames: ['trigger'] as const,
  registers: [metricsRegistry],
});

export const gcGrantsRevokedTotal = new Counter({
  name: 'angos_gc_grants_revoked_total',
  help: 'Orphaned blob-ownership grants revoked before collection',
  labelNames: ['trigger'] as const,
  registers: [metricsRegistry],
});

export const jobQueueEnqueuedTotal = new Counter({
  name: 'angos_job_queue_enqueued_total',
  help: 'Jobs enqueued, by queue and dedup (miss: a new job; hit: coalesced onto a waiting job of the same lock key)',
  labelNames: ['queue', 'dedup'] as const,
  registers: [metricsRegistry],
});

export const jobQueueEnqueueFailuresTotal = new Counter({
  name: 'angos_job_queue_enqueue_failures_total',
  help: 'Enqueues that failed (a job store error), by queue',
  labelNames: ['queue'] as const,
  registers: [metricsRegistry],
});

// The two gauges are registered only by a server with [global.job_queue] (`publishJobQueueGauges`): without it the
// server drains in-process and publishes none (docs/operations.md, "Job queue").
export const jobQueuePending = new Gauge({
  name: 'angos_job_queue_pending',
  help: 'Pending jobs due within pending_ready_horizon_secs (running jobs included), by queue; saturates at 10000',
  labelNames: ['queue'] as const,
  registers: [],
});

export const jobQueueFailed = new Gauge({
  name: 'angos_job_queue_failed',
  help: 'Dead-lettered jobs, by queue; saturates at 10000',
  labelNames: ['queue'] as const,
  registers: [],
});

export function publishJobQueueGauges(): void {
  const gauges: Array<[string, Gauge<'queue'>]> = [['angos_job_queue_pending', jobQueuePending], ['angos_job_queue_failed', jobQueueFailed]];
  for (const [name, gauge] of gauges) if (metricsRegistry.getSingleMetric(name) === undefined) metricsRegistry.registerMetric(gauge);
}
