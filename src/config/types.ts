// The validated configuration (chapter 02 §3). Everything is frozen; sizes are bytes, `*Secs`
// fields seconds. Sections owned by later work are kept raw in `later` as parsed TOML values
// (integers are `bigint`, tables null-prototype objects) until their own validators exist.

export type RawTable = Readonly<Record<string, unknown>>;

export interface Config {
  readonly server: ServerConfig;
  readonly global: GlobalConfig;
  readonly blobStore: BlobStoreConfig;
  readonly metadataStore: MetadataStoreConfig;
  /** In file order. A namespace belongs to the entry whose name equals it or prefixes it at a `/`. */
  readonly repositories: readonly RepositoryConfig[];
  readonly ui: UiConfig;
  readonly auth: AuthConfig;
  readonly later: LaterSections;
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
  readonly shutdownDrainSecs: number;
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

export type BlobStoreConfig = FsStoreConfig | S3StoreConfig;

export interface FsStoreConfig {
  readonly kind: 'fs';
  readonly rootDir: string;
  readonly syncToDisk: boolean;
}

export interface S3StoreConfig {
  readonly kind: 's3';
  /** The `[blob_store.s3]` / `[metadata_store.s3]` table, required connection keys checked to be strings. */
  readonly settings: RawTable;
}

export type MetadataStoreConfig =
  | (FsStoreConfig & { readonly lockStrategy: LockStrategy })
  | (S3StoreConfig & { readonly lockStrategy: LockStrategy; readonly inherited: boolean });

/** `'memory'`, or the raw `{ redis: {...} }` / `{ s3: {...} }` table (legacy `redis` key folded in). */
export type LockStrategy = 'memory' | { readonly redis: RawTable } | { readonly s3: RawTable };

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
  readonly retentionPolicy: RawTable | undefined;
  readonly upstreams: readonly UpstreamConfig[];
  readonly downstreams: readonly DownstreamConfig[];
}

export interface RemoteClientConfig {
  readonly url: string;
  readonly serverCaBundle: string | undefined;
  readonly clientCertificate: string | undefined;
  readonly clientPrivateKey: string | undefined;
  /** Both set or both undefined (one alone is dropped with a warning). */
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly connectTimeoutSecs: number;
  readonly readTimeoutSecs: number;
}

export interface UpstreamConfig extends RemoteClientConfig {
  readonly maxRedirect: number;
}

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

/** The validated parts of `[auth]`; the rest stays raw in `later.auth`. */
export interface AuthConfig {
  /** `[auth.identity.<id>]` in file order; usernames are unique and name no OIDC provider. */
  readonly identities: readonly BasicIdentityConfig[];
}

export interface BasicIdentityConfig {
  /** The table key, `identity.id` to policies. */
  readonly id: string;
  readonly username: string;
  /** An Argon2 PHC string, checked at load; a secret, never logged. */
  readonly passwordHash: string;
}

/** Sections validated by later work; present only when configured. */
export interface LaterSections {
  readonly auth: RawTable | undefined;
  readonly cache: RawTable | undefined;
  readonly eventWebhook: RawTable | undefined;
  readonly observability: RawTable | undefined;
  /** `[global.job_queue]`: present = jobs are drained by `angos worker`. */
  readonly jobQueue: RawTable | undefined;
  readonly retentionPolicy: RawTable | undefined;
}
