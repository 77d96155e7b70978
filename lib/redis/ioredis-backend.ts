import { AuthConfigError } from '../errors/auth-errors.js';
import type { RedisBackend, RedisBackendConnection } from '../options/redis-backend.js';
import { connectOnce, openRedis, type RedisConnection } from '../revocation/redis-connection.js';
import { startLater } from '../revocation/redis-revocation-store.js';
import { RedisDpopReplayCache } from './redis-dpop-replay-cache.js';
import { RedisThrottlerCounters } from './redis-throttler-counters.js';

/**
 * Redis for `AuthModule`'s `redis` option (the revocation list, which adds its pub/sub
 * connection) and for `RedisThrottlerStorage` of `nest-tessera/throttler`: one connection each
 * time one of them opens it, once the application has started. A URL or options open a
 * connection that its user closes at shutdown; a client is used as it is and stays yours to close.
 * @example AuthModule.forRoot({ issuers, audience, redis: redis('redis://127.0.0.1:6379') })
 */
export function redis(connection: RedisConnection): RedisBackend {
  if (connection === null || (typeof connection !== 'string' && typeof connection !== 'object')) {
    throw new AuthConfigError(
      `redis: give a URL, ioredis options, { cluster } or a client, got ${String(connection)}`,
    );
  }
  return { kind: 'redis', open: () => openBackend(connection) };
}

function openBackend(connection: RedisConnection): RedisBackendConnection {
  // Nothing connects before `connect()`: the module (or the throttler storage) builds this while
  // the application is being created, and an application that then fails to start never closes it.
  const { client, owned } = openRedis(connection, { lazy: true });
  const built: { close(): Promise<void> }[] = [];
  const starts: (() => void)[] = [];
  const keep = <T extends { close(): Promise<void> }>(part: T): T => {
    built.push(part);
    return part;
  };
  return {
    revocationStore: (options) => {
      const { store, start } = startLater({ ...options, connection: client });
      starts.push(start);
      return keep(store);
    },
    dpopReplayCache: (options) =>
      keep(new RedisDpopReplayCache({ ...options, connection: client })),
    throttlerCounters: (options) => keep(new RedisThrottlerCounters({ ...options, client })),
    connect: () => {
      if (owned) connectOnce(client);
      for (const start of starts) start();
    },
    close: async () => {
      await Promise.all(built.map((part) => part.close()));
      if (owned) client.disconnect();
    },
  };
}
