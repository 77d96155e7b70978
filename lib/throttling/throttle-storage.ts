/** One consumer's count in the current fixed window. */
export interface WindowRecord {
  readonly totalHits: number;
  /** Whole seconds until the window ends (at least 1). */
  readonly secondsLeft: number;
}

/**
 * Counts hits per key in fixed windows. The shape follows `@nestjs/throttler`'s storage
 * (`increment(key, ttlMs, limit)`), so these storages also serve that package.
 */
export interface ThrottleStorage {
  increment(key: string, windowMs: number, limit: number): Promise<WindowRecord>;
  close?(): Promise<void>;
}

export function windowRecord(totalHits: number, msLeft: number): WindowRecord {
  return { totalHits, secondsLeft: Math.max(1, Math.ceil(msLeft / 1000)) };
}
