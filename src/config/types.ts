// The validated configuration (docs/configuration.md). Everything is frozen; sizes are bytes, `*Secs` fields
// seconds, `*Ms` fields milliseconds. Every section is parsed here once, defaults filled: consumers read fields.

export interface Config {
  readonly server: ServerConfig;
  readonly global: GlobalConfig;
  readonly blobStore: BlobStoreConfig;
  readonly metadataStore: MetadataStoreConfig;
  /** In file order. A namespace belongs to the entry whose name equals it or prefixes it at a `/`. */
  readonly repositories: readonly RepositoryConfig[];
  readonly ui: UiConfig;
  readonly auth: AuthConfig;
  /** `[auth.webhook.<name>]` in file order; names are unique (they are table keys). */
  readonly authorizationWebhooks: readonly AuthorizationWebhookConfig[];
  readonly cache: CacheConfig;
  /** `[event_webhook.<name>]` in file order; names are unique (they are table keys). */
  readonly eventWebhooks: readonly EventWebhookConfig[];
  readonly observability: ObservabilityConfig;
  /** Warn-level messages (unknown keys, deprecated keys) for the caller to log once logging is up. */
  readonly warnings: readonly string[];
}

export interface ServerConfig {
  readonly bindAddress: string;
  /** 0 lets the OS choose. */
  readonly port: number;
  readonly queryTimeoutSecs: number;
  readonly queryTimeoutGracePeriodSecs: number;
  readonly handshakeTimeoutSecs: number;
  readonly tls: TlsConfig | undefined;
}

export interface TlsConfig {
  /** Paths as written; relative ones resolve against the working directory. */
  readonly serverCertificateBundle: string;
  readonly serverPrivateKey: string;
  readonly clientCaBundle: string | undefined;
  readonly clientAuth: 'optional' | 'required';
}

export interface GlobalConfig {
  readonly maxConcurrentRequests: number;
  readonly maxConcurrentCacheJobs: number;
  readonly maxConcurrentReplicationJobs: number;
  readonly maxManifestSize: number;
  readonly maxBlobSize: number;
  readonly updatePullTime: boolean;
  readonly enableBlobRedirect: boolean;
  readonly enableManifestRedirect: boolean;
  readonly immutableTags: boolean;
  readonly immutableTagsExclusions: readonly RegExp[];
  readonly allowMissingManifestReferences: boolean;
  /** Name of an `[auth.webhook.<name>]`; undefined = none. */
  readonly authorizationWebhook: string | undefined;
  /** Names of `[event_webhook.<name>]` tables. */
  readonly eventWebhooks: readonly string[];
  readonly trustedProxies: readonly TrustedProxy[];
  /** Always present: without `[global.access_policy]` the default `deny` with no rules applies. */
  readonly accessPolicy: AccessPolicyConfig;
  /** `[global.retention_policy]`; undefined = no global retention rules. */
  readonly retentionPolicy: RetentionPolicyConfig | undefined;
  /** `[global.job_queue]`: present = jobs are drained by `angos worker` processes, not by the server. */
  readonly jobQueue: JobQueueConfig | undefined;
  readonly shutdownDrainSecs: number;
  /** Storage lifecycle (docs/operations.md, "Background maintenance"). */
  readonly gc: GcConfig;
  /** Pause between the server's retention passes, when retention rules exist; 0 = only `scrub --retention` applies them. */
  readonly retentionIntervalSecs: number;
}

/** `[global] gc_*` and `atime_audit_window_secs`: what the server's collector and `scrub` share. */
export interface GcConfig {
  /** Bytes and keys younger than this are live; scrub actions wait this long too. */
  readonly graceSecs: number;
  /** Pause between background collector runs; 0 = the server runs none (only `scrub` collects). */
  readonly intervalSecs: number;
  /** Delay from a delete to the collector run it triggers; deletes within it share one run. */
  readonly afterDeleteSecs: number;
  /** Ownership grants no manifest references are revoked by the background run once this old. */
  readonly orphanGrantAgeSecs: number;
  /** Superseded access entries are kept this long (pull history). */
  readonly atimeAuditWindowSecs: number;
}

export interface TrustedProxy {
  /** As written in the configuration, for messages. */
  readonly text: string;
  readonly address: string;
  readonly family: 4 | 6;
  /** 32 or 128 for a single address. */
  readonly prefixLength: number;
}

export interface AccessPolicyConfig {
  readonly default: 'allow' | 'deny';
  /** CEL source strings, non-blank; compiled by the policy layer. */
  readonly rules: readonly string[];
}

/** `retention_policy` tables: CEL rules naming what to keep, each non-blank and compiled at load. */
export interface RetentionPolicyConfig {
  readonly rules: readonly string[];
}

export interface JobQueueConfig {
  /** ≥ 5. */
  readonly pendingRefreshIntervalSecs: number;
  /** Jobs ready within now + this count as pending. */
  readonly pendingReadyHorizonSecs: number;
  readonly maxAttempts: number;
  /** ≥ 1; `retryBackoffMaxMs` ≥ it. */
  readonly retryBackoffMinMs: number;
  readonly retryBackoffMaxMs: number;
  /** 3–86400 (larger values are clamped, with a warning). */
  readonly claimTtlSecs: number;
}

export type BlobStoreConfig = FsStoreConfig | S3StoreConfig;

export interface FsStoreConfig {
  readonly kind: 'fs';
  readonly rootDir: string;
  readonly syncToDisk: boolean;
}

export interface S3StoreConfig {
  readonly kind: 's3';
  readonly settings: S3Settings;
}

/**
 * One `[blob_store.s3]` / `[metadata_store.s3]` table, every default filled: all an `S3ObjectStore` is built from.
 * An inherited metadata store has the blob store's connection, key prefix and capabilities, the rest defaults.
 */
export interface S3Settings {
  /** http(s) URL. */
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  /** Secrets, never logged. */
  readonly accessKeyId: string;
  readonly secretKey: string;
  /** Prepended as `<prefix>/<key>`; a trailing `/` is trimmed by the store. */
  readonly keyPrefix: string;
  /** Bytes per multipart part, 5 MiB–5 GiB: exact in uniform mode, the coalescing unit otherwise. */
  readonly multipartPartSize: number;
  /** Every non-final part exactly `multipartPartSize` instead of the memory-lean default. */
  readonly multipartUniformParts: boolean;
  /** Promotion copies above this many bytes use ranged UploadPartCopy instead of one CopyObject. */
  readonly multipartCopyThreshold: number;
  /** Bytes per ranged UploadPartCopy, 5 MiB–5 GiB. */
  readonly multipartCopyChunkSize: number;
  /** ≥ 1 ranged UploadPartCopy calls in flight at once. */
  readonly multipartCopyJobs: number;
  /** ≥ 1. */
  readonly maxAttempts: number;
  readonly operationTimeoutSecs: number;
  readonly operationAttemptTimeoutSecs: number;
  readonly circuitBreakerThreshold: number;
  /** ≥ 0. */
  readonly circuitBreakerCooldownSecs: number;
  /** Lifetime of presigned redirect URLs. */
  readonly presignTtlSecs: number;
  /** Declared server capabilities (`capabilities` table); undefined = probed at start. */
  readonly capabilities: S3Capabilities | undefined;
}

export interface S3Capabilities {
  readonly putIfNoneMatch: boolean;
  readonly putIfMatch: boolean;
  readonly deleteIfMatch: boolean;
}

export type MetadataStoreConfig =
  | FsStoreConfig
  | (S3StoreConfig & {
      /** No `[metadata_store]`: the blob store's connection (see `S3Settings`). */
      readonly inherited: boolean;
      /** `link_cache_ttl`: seconds resolved links stay in the `[cache]` backend; 0 = no link cache. */
      readonly linkCacheTtlSecs: number;
      /** `access_time_debounce_secs`: 0 = pull times written synchronously. */
      readonly accessTimeDebounceSecs: number;
    });

export interface RepositoryConfig {
  readonly name: string;
  /** Lower-cased upstream host this repository mirrors for the `ns` query parameter. */
  readonly namespace: string | undefined;
  readonly immutableTags: boolean;
  /** Non-empty replaces the global list. */
  readonly immutableTagsExclusions: readonly RegExp[];
  /** undefined = inherit the global webhook; `''` = no webhook for this repository. */
  readonly authorizationWebhook: string | undefined;
  /** undefined = inherit the global list; present (even empty) replaces it. */
  readonly eventWebhooks: readonly string[] | undefined;
  /** Present only when the repository declares `[repository."<name>".access_policy]`. */
  readonly accessPolicy: AccessPolicyConfig | undefined;
  /** Present only when the repository declares `[repository."<name>".retention_policy]`. */
  readonly retentionPolicy: RetentionPolicyConfig | undefined;
  readonly upstreams: readonly UpstreamConfig[];
  readonly downstreams: readonly DownstreamConfig[];
}

export interface RemoteClientConfig {
  /** As written. */
  readonly url: string;
  /** `scheme://host[:port]` of `url`: where requests go (`<origin>/v2/...`). */
  readonly origin: string;
  /**
   * The path of `url` without its slashes: a valid namespace that local namespaces are mapped under (`team`:
   * `<repo>/x` ↔ `team/x`); undefined for a bare host (`<repo>/x` ↔ `x`). Never an HTTP path prefix.
   */
  readonly namespacePath: string | undefined;
  readonly serverCaBundle: string | undefined;
  readonly clientCertificate: string | undefined;
  readonly clientPrivateKey: string | undefined;
  /** Both set or both undefined (one alone is dropped with a warning). */
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** TCP + TLS establishment bound. */
  readonly connectTimeoutSecs: number;
  /** Longest silence between two reads; there is no whole-transfer deadline. */
  readonly readTimeoutSecs: number;
  /** Redirects followed per request; 0 = any redirect fails it. */
  readonly maxRedirect: number;
}

/** `[[repository."<key>".upstream]]`: the connection keys alone. */
export type UpstreamConfig = RemoteClientConfig;

export type DownstreamMode = 'event+reconcile' | 'event-only' | 'reconcile-only';

export interface DownstreamConfig extends RemoteClientConfig {
  readonly name: string;
  readonly mode: DownstreamMode;
  /** Empty = every namespace of the repository. */
  readonly namespaceFilter: readonly RegExp[];
  readonly maxConcurrentPushes: number;
  readonly prune: boolean;
}

export interface UiConfig {
  readonly enabled: boolean;
  readonly name: string;
}

/** `[auth]` but its authorization webhooks (`Config.authorizationWebhooks`). */
export interface AuthConfig {
  /** `[auth.identity.<id>]` in file order; usernames are unique and name no OIDC provider. */
  readonly identities: readonly BasicIdentityConfig[];
  /** `[auth.oidc.<name>]` in ascending byte order of name: the order providers are tried. */
  readonly oidcProviders: readonly OidcProviderConfig[];
  /** `[auth.token_service]`; undefined = `GET /token` answers 404 and challenges stay Basic. */
  readonly tokenService: TokenServiceConfig | undefined;
}

export type OidcAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'EdDSA';

export interface OidcProviderConfig {
  /** The table key: the Basic username selecting it, `identity.oidc.provider_name`. */
  readonly name: string;
  readonly provider: 'generic' | 'github';
  /** `identity.oidc.provider_type`: `GitHub Actions` or `Generic OIDC`. */
  readonly providerType: string;
  /** Compared exactly with `iss`. */
  readonly issuer: string;
  /** undefined = read from `<issuer>/.well-known/openid-configuration`. */
  readonly jwksUri: string | undefined;
  readonly jwksRefreshIntervalSecs: number;
  readonly requiredAudience: string | undefined;
  readonly clockSkewToleranceSecs: number;
  readonly allowedAlgorithms: readonly OidcAlgorithm[];
  /** Claims that must be present and non-null (the github preset's included). */
  readonly requiredClaims: readonly string[];
  readonly httpRequestTimeoutSecs: number;
  readonly jwksRefreshTimeoutSecs: number;
  /** A file holding a bearer token for the issuer's own origin, re-read per fetch; undefined = none. */
  readonly bearerTokenFile: string | undefined;
  /** Extra roots for this provider's discovery and JWKS fetches, added to the default ones. */
  readonly serverCaBundle: string | undefined;
  /** Client certificate for those fetches: both set or both undefined. */
  readonly clientCertificateBundle: string | undefined;
  readonly clientPrivateKey: string | undefined;
}

export interface TokenServiceConfig {
  /** Standard base64 of at least 32 bytes, as configured; a secret, never logged. */
  readonly secretKey: string;
  /** From `realm` with userinfo, query and fragment dropped; undefined = derived per request. */
  readonly realm: { readonly url: string; readonly service: string } | undefined;
  readonly ttlSecs: number;
}

export interface BasicIdentityConfig {
  /** The table key, `identity.id` to policies. */
  readonly id: string;
  readonly username: string;
  /** An Argon2 PHC string, checked at load; a secret, never logged. */
  readonly passwordHash: string;
}

/** `[auth.webhook.<name>]` (docs/configuration.md). */
export interface AuthorizationWebhookConfig {
  readonly name: string;
  /** Absolute http(s) URL, called verbatim (query kept). */
  readonly url: string;
  /** Limit on the whole call, from connecting to the response head. */
  readonly timeoutMs: number;
  /** Secrets, never logged. */
  readonly credentials: WebhookCredentials | undefined;
  /** Both set or both undefined. */
  readonly clientCertificateBundle: string | undefined;
  readonly clientPrivateKey: string | undefined;
  /** Added to the system roots. */
  readonly serverCaBundle: string | undefined;
  /** Lower-cased client header names; never `X-Forwarded-*`, `X-Registry-*` or connection headers. */
  readonly forwardHeaders: readonly string[];
  /** 0 = decisions are not cached. */
  readonly cacheTtlSecs: number;
}

export type WebhookCredentials =
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string };

/** `[cache]`: memory per process (the default), or Redis shared by replicas. */
export type CacheConfig =
  | { readonly kind: 'memory' }
  /** `url` is redis://, rediss://, unix:// or redis+unix://, checked at load; it may hold a password. */
  | { readonly kind: 'redis'; readonly url: string; readonly keyPrefix: string };

export type EventKind = 'manifest.push' | 'manifest.delete' | 'blob.push' | 'tag.create' | 'tag.delete' | 'manifest.pull' | 'blob.pull';

/** `required` gates the write on delivery; `optional` waits but only warns; `async` does not wait. */
export type EventWebhookPolicy = 'required' | 'optional' | 'async';

/** `[event_webhook.<name>]`. */
export interface EventWebhookConfig {
  readonly name: string;
  /** Absolute http(s) URL. */
  readonly url: string;
  readonly policy: EventWebhookPolicy;
  /** At least one, each once, in the order written. */
  readonly events: readonly [EventKind, ...EventKind[]];
  /** Bearer token and HMAC key, non-empty; a secret, never logged. */
  readonly token: string | undefined;
  /** Per-attempt limit, ≥ 1. */
  readonly timeoutMs: number;
  /** Retries after the first attempt, 0–16; unset: 3 for `required`, 0 otherwise. */
  readonly maxRetries: number;
  /** Matched against the event's repository key; undefined = every repository, `[]` = none. */
  readonly repositoryFilter: readonly RegExp[] | undefined;
}

export interface ObservabilityConfig {
  /** `[observability.tracing]`; undefined = no traces exported. */
  readonly tracing: TracingConfig | undefined;
}

export interface TracingConfig {
  /** OTLP/gRPC collector, http(s) URL. */
  readonly endpoint: string;
  /** Trace-id ratio, finite, 0–1. */
  readonly samplingRate: number;
}
