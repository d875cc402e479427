// Attempts to reach what an access policy refuses, and the bypasses among them. docs/configuration.md
// (`[global.access_policy]`) fixes the refusal: 401 for an anonymous caller (or a presented credential that is
// wrong), 403 for an authenticated one; a request that matches no route is refused before authentication
// (docs/api.md, "Routing"). Any other answer where a refusal is due is a bypass.
import { jsonBody, type HttpResponse } from './http.ts';

/** Answers an attempt may get: a status (`202`), or a status and OCI code (`404 NAME_UNKNOWN`). */
export type Accepted = readonly string[];

export const ANONYMOUS_REFUSAL: Accepted = ['401 UNAUTHORIZED'];
export const AUTHENTICATED_REFUSAL: Accepted = ['403 DENIED'];
/** What the router answers a request it cannot match: 404 for a GET or HEAD, 400 otherwise. */
export const UNROUTED: Accepted = ['404 NAME_UNKNOWN', '400 UNSUPPORTED', '400 NAME_INVALID'];

/** The OCI error code of an answer, if it has one. */
export function errorCodeOf(response: HttpResponse): string | undefined {
  try {
    const body = jsonBody(response) as { errors?: Array<{ code?: unknown }> };
    const code = body.errors?.[0]?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

export function describeAnswer(response: HttpResponse | undefined): string {
  if (response === undefined) return 'no answer';
  return `${response.status} ${errorCodeOf(response) ?? ''} ${response.body.toString('utf8').slice(0, 160)}`.trim();
}

/** Every attempt by kind, and every bypass with what was sent and what came back. */
export class AttemptLedger {
  readonly attempts = new Map<string, number>();
  readonly bypasses: string[] = [];
  #forbidden: Buffer[] = [];

  /** Bytes no attempt may ever receive (the content the attempts are after). */
  forbid(markers: Buffer[]): void {
    this.#forbidden = markers;
  }

  /** Sends one attempt and records a bypass unless its answer is one of `accepted` and carries no forbidden bytes. */
  async attempt(kind: string, label: string, accepted: Accepted, exchange: () => Promise<HttpResponse | undefined>): Promise<HttpResponse | undefined> {
    this.count(kind);
    let response: HttpResponse | undefined;
    try {
      response = await exchange();
    } catch {
      response = undefined;
    }
    const status = response === undefined ? 'none' : `${response.status}`;
    const coded = response === undefined ? 'none' : `${response.status} ${errorCodeOf(response) ?? ''}`.trim();
    const leaked = response !== undefined && this.#forbidden.some((marker) => response.body.includes(marker));
    if ((!accepted.includes(status) && !accepted.includes(coded)) || leaked) {
      this.bypass(kind, `${label}: got ${describeAnswer(response)}${leaked ? ' (with forbidden content)' : ''}, expected ${accepted.join(' or ')}`);
    }
    return response;
  }

  count(kind: string): void {
    this.attempts.set(kind, (this.attempts.get(kind) ?? 0) + 1);
  }

  /** A bypass found by a check after the attempts (a write that landed, a key fetched from an attacker). */
  bypass(kind: string, what: string): void {
    this.bypasses.push(`[${kind}] ${what}`);
  }

  summary(): string[] {
    const total = [...this.attempts.values()].reduce((sum, count) => sum + count, 0);
    return [
      `attempts: ${total} (${[...this.attempts].map(([kind, count]) => `${kind} ${count}`).join(', ')})`,
      `bypasses: ${this.bypasses.length}`,
      ...this.bypasses.map((bypass) => `bypass: ${bypass}`),
    ];
  }
}
