import type { RedisBackendConnection } from './redis-backend.js';
import type { ResolvedAuthOptions } from './resolve-auth-options.js';

/**
 * The module instance's own connection to its `redis` backend, opened only when the revocation
 * list or the DPoP replay cache keeps its state there (a store of its own does not).
 */
export function openRedisBackend(options: ResolvedAuthOptions): RedisBackendConnection | undefined {
  const { redis, revocation, dpop } = options;
  const used =
    (revocation !== false && revocation.store === undefined) ||
    (dpop !== false && dpop.replayCache === undefined);
  return redis !== undefined && used ? redis.open() : undefined;
}
