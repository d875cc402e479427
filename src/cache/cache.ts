/**
 * The registry cache (`[cache]`): JWKS and discovery documents, authorization-webhook decisions, token-related
 * state. In memory per process by default; Redis when configured, shared by replicas. Values are strings
 * (callers serialize); a read failure is the caller's miss, never a crash.
 */
export interface Cache {
  get(key: string): Promise<string | undefined>;
  /** Stores with a time to live in seconds (> 0). */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Releases connections (Redis); a no-op in memory. */
  close(): Promise<void>;
}
