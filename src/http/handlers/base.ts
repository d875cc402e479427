import type { HttpContext } from '../context.ts';
import { sendBytes, sendEmpty, sendJson } from '../respond.ts';
import { metricsRegistry } from '../../observability/metrics.ts';
import { logger } from '../../observability/logging.ts';

const log = logger('angos::http::handlers::base');

export function apiVersion({ res }: HttpContext): void {
  sendEmpty(res, 200, { 'docker-distribution-api-version': 'registry/2.0', 'x-powered-by': 'Angos' });
}

export function healthz({ req, res }: HttpContext): void {
  sendJson(req, res, 200, { status: 'ok' });
}

/** Ready when one bounded metadata-store probe answers (docs/api.md, "Operational endpoints"). */
export async function readyz({ req, res, registry }: HttpContext): Promise<void> {
  try {
    await withTimeout(registry.probe(), 5000);
    sendJson(req, res, 200, { status: 'ready' });
  } catch (err) {
    log.warn('readiness probe failed', { error: String(err) });
    sendJson(req, res, 503, { status: 'not_ready', error: `storage backend not ready: ${String(err)}` });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** Prometheus text exposition (docs/operations.md, "Metrics"). */
export async function metrics({ req, res }: HttpContext): Promise<void> {
  const body = Buffer.from(await metricsRegistry.metrics());
  sendBytes(req, res, 200, body, { 'content-type': metricsRegistry.contentType });
}
