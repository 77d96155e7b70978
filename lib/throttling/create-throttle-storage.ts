import type { RedisBackendConnection } from '../options/redis-backend.js';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import { MemoryThrottleStorage } from './memory-throttle-storage.js';
import type { ThrottleStorage } from './throttle-storage.js';

/**
 * The counters the options ask for, and whether whoever created them here must close them: a
 * storage given in the options is its owner's, and one built on the module's Redis connection is
 * closed with it.
 */
export function createThrottleStorage(
  options: ResolvedAuthOptions,
  redis: RedisBackendConnection | undefined,
): { storage: ThrottleStorage; owned: boolean } | undefined {
  const throttle = options.throttle;
  if (throttle === false) return undefined;
  if (throttle.storage !== undefined) return { storage: throttle.storage, owned: false };
  if (redis !== undefined) {
    return { storage: redis.throttleStorage({ keyPrefix: throttle.keyPrefix }), owned: false };
  }
  return { storage: new MemoryThrottleStorage(), owned: true };
}
