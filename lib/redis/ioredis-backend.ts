import { AuthConfigError } from '../errors/auth-errors.js';
import type { RedisBackend, RedisBackendConnection } from '../options/redis-backend.js';
import { openRedis, type RedisConnection } from '../revocation/redis-connection.js';
import { RedisRevocationStore } from '../revocation/redis-revocation-store.js';
import { RedisThrottleStorage } from '../throttling/redis-throttle-storage.js';

/**
 * Redis for `AuthModule`'s `redis` option: the revocation list and the throttle counters on one
 * connection per module instance (the revocation list adds its pub/sub connection). A URL or
 * options open a connection that the module closes at shutdown; a client is used as it is and
 * stays yours to close.
 * @example AuthModule.forRoot({ issuers, audience, redis: redis('redis://127.0.0.1:6379') })
 */
export function redis(connection: RedisConnection): RedisBackend {
  if (connection === null || (typeof connection !== 'string' && typeof connection !== 'object')) {
    throw new AuthConfigError(
      `redis: give a URL, ioredis options, { cluster } or a client, got ${String(connection)}`,
    );
  }
  return { open: () => openBackend(connection) };
}

function openBackend(connection: RedisConnection): RedisBackendConnection {
  const { client, owned } = openRedis(connection);
  const built: { close(): Promise<void> }[] = [];
  const keep = <T extends { close(): Promise<void> }>(part: T): T => {
    built.push(part);
    return part;
  };
  return {
    revocationStore: (options) =>
      keep(new RedisRevocationStore({ ...options, connection: client })),
    throttleStorage: (options) =>
      keep(new RedisThrottleStorage({ ...options, connection: client })),
    close: async () => {
      await Promise.all(built.map((part) => part.close()));
      if (owned) client.disconnect();
    },
  };
}
