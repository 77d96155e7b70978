import { MemoryRevocationStore } from '../revocation/memory-revocation-store.js';
import type { RevocationStore } from '../revocation/revocation-store.js';
import type { RedisBackendConnection } from './redis-backend.js';
import type { ResolvedAuthOptions } from './resolve-auth-options.js';

/**
 * The store the options ask for, and whether whoever created it here must close it: a store given
 * in the options is its owner's, and one built on the module's Redis connection is closed with it.
 */
export function createRevocationStore(
  options: ResolvedAuthOptions,
  redis: RedisBackendConnection | undefined,
): { store: RevocationStore; owned: boolean } | undefined {
  const revocation = options.revocation;
  if (!revocation) return undefined;
  if (revocation.store !== undefined) return { store: revocation.store, owned: false };
  // Entries outlive their `until` by as long as the verifier accepts a token past its `exp`.
  const { clockToleranceSeconds } = options;
  if (redis !== undefined) {
    const store = redis.revocationStore({
      keyPrefix: revocation.keyPrefix,
      events: options.events,
      now: options.now,
      clockToleranceSeconds,
    });
    return { store, owned: false };
  }
  return {
    store: new MemoryRevocationStore({ now: options.now, clockToleranceSeconds }),
    owned: true,
  };
}
