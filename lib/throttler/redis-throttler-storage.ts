import { Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { RedisBackend, RedisBackendConnection } from '../options/redis-backend.js';
import type { RedisThrottlerStorageOptions, ThrottlerCounters } from './throttler-counters.js';
import type { ThrottlerStorageUnavailableError } from './throttler-storage-unavailable.error.js';

const logger = new Logger('RedisThrottlerStorage');

/** What an outage says when the application does not listen for it: one warning per outage. */
function warnUnavailable(error: ThrottlerStorageUnavailableError): void {
  logger.warn(
    `Redis cannot count requests (${error.reason}): they are let through unthrottled until it answers again`,
  );
}

/**
 * A `ThrottlerStorage` in Redis, so that a limit holds across every instance sharing it: fixed
 * windows with `@nestjs/throttler`'s blocking (see `ThrottlerCounters`), one atomic Lua script per
 * hit, each counter's keys hash-tagged to one Cluster slot. It opens its own connection on the
 * backend when the application starts and closes what it opened at shutdown. While Redis cannot
 * count, requests are let through at once, never held up: `available` and `onUnavailable` say so.
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
    this.counters = this.connection.throttlerCounters({
      ...options,
      onUnavailable: options.onUnavailable ?? warnUnavailable,
    });
  }

  /**
   * Whether hits are being counted in Redis: false while they are let through uncounted, from the
   * first such hit (or the connection's loss) until one is counted again or the connection is
   * made again; false before the first connection. For a health check.
   */
  get available(): boolean {
    return this.counters.available;
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
