import {
  MemoryDpopReplayCache,
  MemoryRevocationStore,
  type DpopReplayCache,
  type RevocationStore,
} from 'nest-tessera';
import {
  MemorySessionStore,
  type FirstRefreshToken,
  type RotationRequest,
  type RotationResult,
  type SessionRecord,
  type SessionStore,
} from 'nest-tessera/issuer';
import {
  RedisDpopReplayCache,
  RedisRevocationStore,
  RedisSessionStore,
  type RedisRevocationEvents,
} from 'nest-tessera/redis';
import { redisKeyPrefixes, type SampleConfig } from '../config.js';
import {
  MemoryAttemptCounter,
  RedisAttemptCounter,
  type AttemptCounter,
} from './attempt-counter.js';

/** Where the auth service keeps sessions and publishes revocations. */
export interface AuthStores {
  readonly sessions: SessionStore;
  readonly revocations: RevocationStore;
  /** The counters of the guessing limits (`LoginLimiter`), beside the orders service's. */
  readonly attempts: AttemptCounter;
  /** The DPoP proofs the token endpoints and the guard accepted, shared like the sessions. */
  readonly dpopReplays: DpopReplayCache;
  /** Closes what was opened here; a revocation store passed in stays its owner's. */
  close(): Promise<void>;
}

/** The session store could not be reached (Redis down): a server outage, not the client's fault. */
export class SessionStoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`session store unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'SessionStoreUnavailableError';
  }
}

/**
 * The stores `config` asks for: in memory without a Redis (the revocation store shared with the
 * orders service of the same process when one is passed), else Redis for all, under the key
 * prefixes the orders service reads revocations from and counts requests under.
 */
export function openAuthStores(
  config: SampleConfig,
  options: { shared?: RevocationStore; events?: RedisRevocationEvents } = {},
): AuthStores {
  if (config.redis === undefined) {
    const revocations = options.shared ?? new MemoryRevocationStore();
    return stores(
      new MemorySessionStore(),
      revocations,
      new MemoryAttemptCounter(),
      options.shared === undefined,
      new MemoryDpopReplayCache(),
    );
  }
  const prefixes = redisKeyPrefixes(config);
  const sessions = new RedisSessionStore({
    connection: config.redis,
    keyPrefix: prefixes.session,
  });
  const revocations =
    options.shared ??
    new RedisRevocationStore({
      connection: config.redis,
      keyPrefix: prefixes.revocation,
      events: options.events,
    });
  const attempts = new RedisAttemptCounter(config.redis, prefixes.login);
  const dpopReplays = new RedisDpopReplayCache({
    connection: config.redis,
    keyPrefix: prefixes.dpop,
  });
  return stores(
    new OutageAwareSessionStore(sessions),
    revocations,
    attempts,
    options.shared === undefined,
    dpopReplays,
  );
}

function stores(
  sessions: SessionStore,
  revocations: RevocationStore,
  attempts: AttemptCounter,
  ownsRevocations: boolean,
  dpopReplays: DpopReplayCache,
): AuthStores {
  return {
    sessions,
    revocations,
    attempts,
    dpopReplays,
    close: async () => {
      await Promise.all([
        sessions.close(),
        attempts.close(),
        ownsRevocations ? revocations.close() : undefined,
        dpopReplays.close?.(),
      ]);
    },
  };
}

/**
 * A session store whose failures say what they are: every rejection of the backend becomes a
 * `SessionStoreUnavailableError`, which the auth service answers with 503, not 500.
 */
class OutageAwareSessionStore implements SessionStore {
  constructor(private readonly store: SessionStore) {}

  open(session: SessionRecord, first: FirstRefreshToken): Promise<void> {
    return this.guard(() => this.store.open(session, first));
  }

  rotate(request: RotationRequest): Promise<RotationResult> {
    return this.guard(() => this.store.rotate(request));
  }

  find(sessionId: string): Promise<SessionRecord | undefined> {
    return this.guard(() => this.store.find(sessionId));
  }

  revoke(sessionId: string): Promise<SessionRecord | undefined> {
    return this.guard(() => this.store.revoke(sessionId));
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new SessionStoreUnavailableError(error);
    }
  }
}
