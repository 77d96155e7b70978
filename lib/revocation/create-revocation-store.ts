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
  if (revocation.redis !== undefined) {
    const store = new RedisRevocationStore({
      connection: revocation.redis,
      keyPrefix: revocation.keyPrefix,
      events: options.events,
      now: options.now,
      leewaySeconds: options.clockToleranceSeconds,
    });
    return { store, owned: true };
  }
  const leewaySeconds = options.clockToleranceSeconds;
  return { store: new MemoryRevocationStore({ now: options.now, leewaySeconds }), owned: true };
}
