import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import { MemoryRevocationStore } from './memory-revocation-store.js';
import { RedisRevocationStore } from './redis-revocation-store.js';
import type { RevocationStore } from './revocation-store.js';

/** The store the options ask for, and whether whoever created it here must close it. */
export function createRevocationStore(
  options: ResolvedAuthOptions,
): { store: RevocationStore; owned: boolean } | undefined {
  const revocation = options.revocation;
  if (revocation === false) return undefined;
  if (revocation.store !== undefined) return { store: revocation.store, owned: false };
  // Entries outlive their `until` by as long as the verifier accepts a token past its `exp`.
  const leewaySeconds = options.clockToleranceSeconds;
  if (revocation.redis !== undefined) {
    const store = new RedisRevocationStore({
      connection: revocation.redis,
      keyPrefix: revocation.keyPrefix,
      events: options.events,
      now: options.now,
      leewaySeconds,
    });
    return { store, owned: true };
  }
  return { store: new MemoryRevocationStore({ now: options.now, leewaySeconds }), owned: true };
}
