import type { RedisBackendConnection } from './redis-backend.js';
import type { ResolvedAuthOptions } from './resolve-auth-options.js';

/**
 * The module instance's own connection to its `redis` backend, opened only when a feature keeps
 * its state there (a feature with its own store or storage does not).
 */
export function openRedisBackend(options: ResolvedAuthOptions): RedisBackendConnection | undefined {
  const { redis, revocation, throttle } = options;
  const used =
    (revocation !== false && revocation.store === undefined) ||
    (throttle !== false && throttle.storage === undefined);
  return redis !== undefined && used ? redis.open() : undefined;
}
