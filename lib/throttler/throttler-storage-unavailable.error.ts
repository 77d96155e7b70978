// Nothing here names @nestjs/throttler: nest-tessera/redis reports through this type too.

/**
 * Why a Redis throttler storage let a hit through without counting it: its connection was not
 * ready (`disconnected`: down, reconnecting, or not made yet), Redis gave no answer within the
 * storage's `timeoutMs` (`timeout`: a partition, a stalled server), or it answered with an error
 * (`failed`).
 */
export type ThrottlerStorageUnavailableReason = 'disconnected' | 'timeout' | 'failed';

/**
 * What `RedisThrottlerStorage`'s `onUnavailable` is given when the storage starts letting hits
 * through uncounted (fail open); the error Redis gave, if any, is its `cause`.
 */
export class ThrottlerStorageUnavailableError extends Error {
  constructor(
    /** Why the hit could not be counted. */
    readonly reason: ThrottlerStorageUnavailableReason,
    options?: ErrorOptions,
  ) {
    super(`throttler storage cannot count hits: ${reason}`, options);
    this.name = 'ThrottlerStorageUnavailableError';
  }
}
