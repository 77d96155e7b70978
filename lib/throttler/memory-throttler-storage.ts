import type { ThrottlerStorage } from '@nestjs/throttler';
import { throttlerCount, windowArguments } from './throttler-counters.js';

interface Window {
  hits: number;
  endsAt: number;
  blockedUntil: number;
}

/** How often ended windows are dropped, at most: memory follows the active keys. */
const SWEEP_INTERVAL_MS = 10_000;

/**
 * A `ThrottlerStorage` in memory, for one instance: the fixed windows of `RedisThrottlerStorage`
 * (docs/throttling.md), counted for this instance alone. `@nestjs/throttler`'s own storage counts
 * each hit's expiry instead (a sliding window), which refuses a consumer that stays within its
 * limit in every fixed window; and it keeps a timestamp per hit where this keeps a number per key.
 * @example ThrottlerModule.forRoot({ throttlers, storage: new MemoryThrottlerStorage() })
 */
export class MemoryThrottlerStorage implements ThrottlerStorage {
  private readonly windows = new Map<string, Window>();
  private lastSweep = 0;

  /** @param nowMs the clock, epoch milliseconds; for tests. */
  constructor(private readonly nowMs: () => number = Date.now) {}

  /** Counts a hit of `key` for `throttlerName` (times in milliseconds), as throttler asks. */
  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): ReturnType<ThrottlerStorage['increment']> {
    const { ttlMs, limit: max, blockMs } = windowArguments(ttl, limit, blockDuration);
    const now = this.nowMs();
    this.sweep(now);
    // Injective: a name can hold any character, its length says where the key starts.
    const id = `${throttlerName.length}:${throttlerName}:${key}`;
    let current = this.windows.get(id);
    if (current !== undefined && current.blockedUntil > now) {
      return throttlerCount(current.hits, current.endsAt - now, true, current.blockedUntil - now);
    }
    if (current === undefined || current.endsAt <= now) {
      current = { hits: 0, endsAt: now + ttlMs, blockedUntil: 0 };
      this.windows.set(id, current);
    }
    current.hits++;
    const left = current.endsAt - now;
    if (current.hits <= max) return throttlerCount(current.hits, left, false, 0);
    if (blockMs === 0) return throttlerCount(current.hits, left, true, left);
    // The window ends with the block: a new one starts after it.
    current.blockedUntil = current.endsAt = now + blockMs;
    return throttlerCount(current.hits, blockMs, true, blockMs);
  }

  /** Forgets every count. */
  async close(): Promise<void> {
    this.windows.clear();
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    for (const [id, window] of this.windows) {
      if (window.endsAt <= now && window.blockedUntil <= now) this.windows.delete(id);
    }
  }
}
