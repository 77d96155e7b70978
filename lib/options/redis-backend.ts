import type { DpopReplayCache } from '../dpop/dpop-replay-cache.js';
import type { RedisRevocationEvents } from '../revocation/redis-revocation-events.js';
import type { RevocationStore } from '../revocation/revocation-store.js';
import type {
  RedisThrottlerStorageOptions,
  ThrottlerCounters,
} from '../throttler/throttler-counters.js';

// Nothing here names ioredis: the main entry's declarations must compile for an application that
// never installs it (ioredis is an optional peer; `redis()` lives in `nest-tessera/redis`).

/**
 * Redis for what can share state between instances: `AuthModule`'s `redis` option (the revocation
 * list) and `RedisThrottlerStorage` of `nest-tessera/throttler`, made by `redis(connection)` from
 * `nest-tessera/redis`. Each module instance or storage that puts state in Redis opens it once,
 * when the application has started, and closes what that opened at shutdown, so two applications
 * in one process never share a connection through it.
 */
export interface RedisBackend {
  /** What it is: only `redis()` makes one. */
  readonly kind: 'redis';
  /**
   * @internal One connection for one module instance or storage (a new one on every call), or
   * the client the backend was given.
   */
  open(): RedisBackendConnection;
}

/** One Redis connection and the features built on it. */
export interface RedisBackendConnection {
  /** The revocation list on this connection, plus the pub/sub connection its local view needs. */
  revocationStore(options: RedisBackendRevocationOptions): RevocationStore;
  /** The DPoP replay cache on this connection, under `keyPrefix`. */
  dpopReplayCache(options: { readonly keyPrefix: string }): DpopReplayCache;
  /** Throttler counters on this connection, for `nest-tessera/throttler`'s Redis storage. */
  throttlerCounters(options: RedisThrottlerStorageOptions): ThrottlerCounters;
  /**
   * Opens the connections, which nothing opened before (a command sent earlier opens the one it
   * needs): the module, or `RedisThrottlerStorage`, calls it once the application has started,
   * so that an application that fails to start leaves nothing open.
   */
  connect(): void;
  /**
   * Closes what was built on it, then the connection if it was opened from a URL or options; a
   * client given to `redis()` stays its owner's to close.
   */
  close(): Promise<void>;
}

/** What the module asks of the revocation store it builds on the backend. */
export interface RedisBackendRevocationOptions {
  /** Prefix of the Redis keys and channel. @default '{tessera}:revocation:' */
  readonly keyPrefix?: string;
  /** Seconds an entry is kept past the `until` it is given (the verifier's clock tolerance). */
  readonly clockToleranceSeconds: number;
  readonly events?: RedisRevocationEvents;
  /** Epoch seconds. */
  readonly now?: () => number;
}
