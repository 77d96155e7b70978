import { AuthConfigError } from '../errors/auth-errors.js';
import type { ThrottlerStorageUnavailableError } from './throttler-storage-unavailable.error.js';

// Nothing here names @nestjs/throttler: nest-tessera/redis builds its counters on these types,
// and its declarations must compile for an application that never installs that package.

/** One hit's outcome, shaped as `@nestjs/throttler`'s `ThrottlerStorageRecord`. */
export interface ThrottlerCount {
  /** Hits counted in the key's current window, this one included. */
  readonly totalHits: number;
  /** Whole seconds until the window ends. */
  readonly timeToExpire: number;
  /** Whether this hit is refused. */
  readonly isBlocked: boolean;
  /** Whole seconds until a hit is accepted again (the answer's `Retry-After`); 0 when accepted. */
  readonly timeToBlockExpire: number;
}

/**
 * Hit counters in fixed windows, with `@nestjs/throttler`'s blocking; what both storages of
 * `nest-tessera/throttler` do, one key per throttler name and tracker key:
 *
 * - A window starts with a key's first hit and lasts `ttlMs`; hits in it are counted.
 * - A hit over `limit` is refused. With `blockDurationMs` > 0 it blocks the key for that long:
 *   hits meanwhile are refused without being counted, and a new window starts when the block
 *   ends. With `blockDurationMs` <= 0 hits are refused until the window ends (a plain fixed
 *   window: `Retry-After` is the time left in it).
 */
export interface ThrottlerCounters {
  increment(
    key: string,
    ttlMs: number,
    limit: number,
    blockDurationMs: number,
    throttlerName: string,
  ): Promise<ThrottlerCount>;
  /**
   * Whether hits are being counted: false while they are let through uncounted (the backend not
   * connected, not answering in time, or failing), until one is counted or a connection is made.
   */
  readonly available: boolean;
  /** Releases what the counters hold (a connection opened for them). */
  close(): Promise<void>;
}

/** Whole seconds for a time left in milliseconds, at least 1 while any is left. */
function wholeSeconds(ms: number): number {
  return ms > 0 ? Math.ceil(ms / 1000) : 0;
}

/** A count from the counters' milliseconds. */
export function throttlerCount(
  totalHits: number,
  msToExpire: number,
  blocked: boolean,
  msToBlockExpire: number,
): ThrottlerCount {
  return {
    totalHits,
    timeToExpire: wholeSeconds(msToExpire),
    isBlocked: blocked,
    timeToBlockExpire: blocked ? Math.max(1, wholeSeconds(msToBlockExpire)) : 0,
  };
}

/** A window's arguments as whole milliseconds; a non-number is the application's mistake. */
export function windowArguments(
  ttlMs: number,
  limit: number,
  blockDurationMs: number,
): { ttlMs: number; limit: number; blockMs: number } {
  for (const [name, value] of [
    ['ttl', ttlMs],
    ['limit', limit],
    ['blockDuration', blockDurationMs],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new AuthConfigError(`throttler ${name} must be a finite number, got ${String(value)}`);
    }
  }
  return {
    ttlMs: Math.max(1, Math.ceil(ttlMs)),
    limit: Math.floor(limit),
    blockMs: Math.max(0, Math.ceil(blockDurationMs)),
  };
}

/** Options of `RedisThrottlerStorage`, and of the Redis counters it builds on the backend. */
export interface RedisThrottlerStorageOptions {
  /**
   * Prefix of the counters' keys; each key's own hash tag follows it, so a prefix without one
   * lets a Cluster spread the counters over its nodes.
   * @default 'tessera:throttle:'
   */
  readonly keyPrefix?: string;
  /**
   * Milliseconds a hit waits for Redis's answer before it is let through uncounted; after such a
   * miss Redis is left alone for a second or so, then tried again by one hit.
   * @default 300
   */
  readonly timeoutMs?: number;
  /**
   * Told when the storage starts letting hits through uncounted (Redis not connected, not
   * answering within `timeoutMs`, or failing), once until a hit is counted again or the
   * connection is made again. Must not throw (what it throws is dropped).
   * @default a warning through Nest's `Logger`
   */
  readonly onUnavailable?: (error: ThrottlerStorageUnavailableError) => void;
}
