import type { OutgoingHttpHeaders } from 'node:http';
import { requestOutcome } from './request-outcome.ts';

/** How one kind of request fared while an attack ran. */
export interface LatencySummary {
  name: string;
  count: number;
  p50: number;
  p95: number;
  max: number;
  /** Answered with the expected status, but later than the bound. */
  slow: number;
  /** A wrong status, a cut connection, or no answer within the hang guard. */
  failed: string[];
}

export interface ProbeTarget {
  name: string;
  path: string;
  headers?: OutgoingHttpHeaders;
  status?: number;
}

const HANG_MS = 15_000;

/**
 * Sends one request every `intervalMs` while an attack runs, without waiting for the previous one (a request stuck
 * behind the attack must not slow the sampling), and records how long each took to be answered.
 */
export class LatencyProbe {
  readonly #url: string;
  readonly #target: ProbeTarget;
  readonly #boundMs: number;
  readonly #latencies: number[] = [];
  readonly #failed: string[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(url: string, target: ProbeTarget, boundMs: number) {
    this.#url = url;
    this.#target = target;
    this.#boundMs = boundMs;
  }

  start(intervalMs: number): this {
    this.#fire();
    this.#timer = setInterval(() => this.#fire(), intervalMs);
    return this;
  }

  async stop(): Promise<LatencySummary> {
    clearInterval(this.#timer);
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    const at = (fraction: number) => Math.round(sorted[Math.floor(fraction * (sorted.length - 1))] ?? 0);
    return {
      name: this.#target.name,
      count: sorted.length + this.#failed.length,
      p50: at(0.5),
      p95: at(0.95),
      max: at(1),
      slow: sorted.filter((latency) => latency > this.#boundMs).length,
      failed: this.#failed,
    };
  }

  #fire(): void {
    const started = performance.now();
    const { name, path, headers, status = 200 } = this.#target;
    const probe = requestOutcome(this.#url, path, { method: 'GET', ...(headers ? { headers } : {}), hangMs: HANG_MS }).then((outcome) => {
      if (outcome.kind !== 'answered') this.#failed.push(`${name}: ${outcome.kind === 'hung' ? `no answer within ${HANG_MS} ms` : outcome.error.message}`);
      else if (outcome.response.status !== status) this.#failed.push(`${name}: ${outcome.response.status} ${outcome.response.body.toString('utf8').slice(0, 200)}`);
      else this.#latencies.push(performance.now() - started);
    });
    const tracked = probe.finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }
}

export function formatSummary(summary: LatencySummary): string {
  const { name, count, p50, p95, max, slow, failed } = summary;
  return `${name}: ${count} requests, p50 ${p50} ms, p95 ${p95} ms, max ${max} ms, ${slow} over the bound, ${failed.length} failed`;
}
