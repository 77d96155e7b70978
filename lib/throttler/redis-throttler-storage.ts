import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { RedisBackend, RedisBackendConnection } from '../options/redis-backend.js';
import type { ThrottlerCounters } from './throttler-counters.js';

/** Options of `RedisThrottlerStorage`. */
export interface RedisThrottlerStorageOptions {
  /**
   * Prefix of the counters' keys; each key's own hash tag follows it, so a prefix without one
   * lets a Cluster spread the counters over its nodes.
   * @default 'tessera:throttle:'
   */
  readonly keyPrefix?: string;
}

/**
 * A `ThrottlerStorage` in Redis, so that a limit holds across every instance sharing it: fixed
 * windows with `@nestjs/throttler`'s blocking (see `ThrottlerCounters`), one atomic Lua script per
 * hit, each counter's keys hash-tagged to one Cluster slot. It opens its own connection on the
 * backend when the application starts and closes what it opened at shutdown; while Redis cannot
 * be reached, requests are let through.
 *
 * It lives in `nest-tessera/throttler` and takes its connection from `redis()` of
 * `nest-tessera/redis`, so that neither entry's declarations need a package the other needs.
 * Build it in `ThrottlerModule.forRootAsync`'s factory: one per application.
 * @example storage: new RedisThrottlerStorage(redis(process.env.REDIS_URL!))
 */
export class RedisThrottlerStorage
  implements ThrottlerStorage, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly connection: RedisBackendConnection;
  private readonly counters: ThrottlerCounters;

  constructor(backend: RedisBackend, options: RedisThrottlerStorageOptions = {}) {
    // Nothing connects yet: an application that fails to start never closes it.
    this.connection = backend.open();
    this.counters = this.connection.throttlerCounters(options);
  }

  /** Counts a hit of `key` for `throttlerName` (times in milliseconds), as throttler asks. */
  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): ReturnType<ThrottlerStorage['increment']> {
    return this.counters.increment(key, ttl, limit, blockDuration, throttlerName);
  }

  /** Connects once the application has started (a hit before that connects first). */
  onApplicationBootstrap(): void {
    this.connection.connect();
  }

  /** Closes what it opened, once the application shuts down. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  /** Closes what it opened: the connection, unless `redis()` was given a client. */
  close(): Promise<void> {
    return this.connection.close();
  }
}
