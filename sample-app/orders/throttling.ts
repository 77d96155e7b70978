import type { DynamicModule, Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { seconds, ThrottlerModule } from '@nestjs/throttler';
import type { RedisBackend } from 'nest-tessera';
import {
  ConsumerThrottlerGuard,
  MemoryThrottlerStorage,
  RedisThrottlerStorage,
} from 'nest-tessera/throttler';
import type { OrdersServiceConfig } from '../config.js';

/** Where the orders service keeps its throttle counters. */
export interface ThrottlingLinks {
  /** Redis shared by every instance; unset: in memory, per instance. */
  readonly redis?: RedisBackend;
  /** Prefix of the counters' keys in Redis. */
  readonly keyPrefix?: string;
}

/**
 * CONTRACT.md's throttling: `THROTTLE_LIMIT` requests per consumer (the verified `sub`, or
 * `client_id` for a service client; the client IP without a valid token) in a fixed window of
 * `THROTTLE_TTL` seconds, across every route, then 429 with `Retry-After` until the window ends.
 * The counters live in Redis when it is configured. `THROTTLE_LIMIT=0`: nothing is registered.
 *
 * What goes into the module that imports `AuthModule`: the guard must be an `APP_GUARD` of the
 * root module, so that it runs before the bearer guard and counts the requests it refuses.
 */
export function throttling(
  config: OrdersServiceConfig,
  links: ThrottlingLinks,
): { imports: DynamicModule[]; providers: Provider[] } {
  const { limit, ttlSeconds } = config.throttle;
  if (limit === 0) return { imports: [], providers: [] };
  return {
    imports: [
      // The factory runs once per application: each gets a storage (and connection) of its own.
      ThrottlerModule.forRootAsync({
        useFactory: () => ({
          // blockDuration 0: refused until the window ends, not for a block of its own.
          throttlers: [{ limit, ttl: seconds(ttlSeconds), blockDuration: 0 }],
          // One budget per consumer for the whole service (throttler's default is one per route).
          generateKey: (_context, tracker) => tracker,
          storage:
            links.redis === undefined
              ? new MemoryThrottlerStorage()
              : new RedisThrottlerStorage(links.redis, { keyPrefix: links.keyPrefix }),
          // The body of a 429: {"statusCode":429,"message":"Too Many Requests"}.
          errorMessage: 'Too Many Requests',
          // CONTRACT.md's answers carry no X-RateLimit-* headers; a 429 keeps its Retry-After.
          setHeaders: false,
        }),
      }),
    ],
    providers: [{ provide: APP_GUARD, useClass: ConsumerThrottlerGuard }],
  };
}
