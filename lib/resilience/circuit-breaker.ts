/** closed: calls go through. open: calls fail fast. half-open: one probe decides. */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /**
   * Consecutive failures that open the breaker.
   * @default 3
   */
  readonly failureThreshold?: number;
  /**
   * First wait before a probe, in milliseconds; doubles per failed probe, with full jitter.
   * @default 200
   */
  readonly baseDelayMs?: number;
  /**
   * Longest wait before a probe, in milliseconds.
   * @default 5000
   */
  readonly maxDelayMs?: number;
  readonly onStateChange?: (state: BreakerState) => void;
  /** For tests: the clock in milliseconds and the jitter source in [0, 1). */
  readonly nowMs?: () => number;
  readonly random?: () => number;
}

/** The breaker is open: the call was not attempted. */
export class BreakerOpenError extends Error {
  constructor() {
    super('circuit breaker open');
    this.name = 'BreakerOpenError';
  }
}

/**
 * Stops calling a backend that keeps failing, then lets one probe through after a backoff with
 * jitter (doubling per failed probe), so a dead Redis is neither hammered nor waited on.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private openings = 0;
  private retryAt = 0;
  private readonly threshold: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly nowMs: () => number;
  private readonly random: () => number;

  constructor(private readonly options: CircuitBreakerOptions = {}) {
    this.threshold = options.failureThreshold ?? 3;
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.maxDelayMs = options.maxDelayMs ?? 5000;
    this.nowMs = options.nowMs ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Runs `call` unless the breaker is open; its outcome moves the breaker. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.current === 'open') {
      if (this.nowMs() < this.retryAt) throw new BreakerOpenError();
      this.transition('half-open');
    } else if (this.current === 'half-open') {
      throw new BreakerOpenError(); // one probe at a time
    }
    try {
      const result = await call();
      this.succeeded();
      return result;
    } catch (error) {
      this.failed();
      throw error;
    }
  }

  /** Opens the breaker at once (the connection is known to be down). */
  trip(): void {
    if (this.current !== 'open') this.open();
  }

  /** Closes the breaker (the connection is known to be back). */
  reset(): void {
    this.succeeded();
  }

  private succeeded(): void {
    this.failures = 0;
    this.openings = 0;
    this.transition('closed');
  }

  private failed(): void {
    this.failures++;
    if (this.current === 'half-open' || this.failures >= this.threshold) this.open();
  }

  private open(): void {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** this.openings);
    this.openings++;
    // "Full jitter": instances that lost Redis together do not all come back at the same instant.
    this.retryAt = this.nowMs() + ceiling / 2 + (this.random() * ceiling) / 2;
    this.transition('open');
  }

  private transition(state: BreakerState): void {
    if (this.current === state) return;
    this.current = state;
    this.options.onStateChange?.(state);
  }
}
