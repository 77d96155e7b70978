import type { BreakerState } from '../resilience/circuit-breaker.js';
import type { RevocationEntry } from './revocation-entry.js';

/** What the Redis store reports about its connection and local view. */
export interface RedisRevocationEvents {
  /** The local view became current (after a reconcile) or stale (connection lost). */
  viewStateChanged?(event: { current: boolean; entries: number }): void;
  breakerStateChanged?(event: { state: BreakerState }): void;
  /** A revocation could not be written now; it is kept locally and written when Redis is back. */
  writeDeferred?(event: { entry: RevocationEntry; error: Error }): void;
}
