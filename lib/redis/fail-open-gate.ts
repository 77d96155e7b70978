import type { Cluster, Redis } from 'ioredis';
import { BreakerOpenError, CircuitBreaker } from '../resilience/circuit-breaker.js';
import { firstConnection } from '../revocation/redis-connection.js';
import {
  ThrottlerStorageUnavailableError,
  type ThrottlerStorageUnavailableReason,
} from '../throttler/throttler-storage-unavailable.error.js';
import { answerWithin, NoAnswerError } from '../util/answer-within.js';

/** The wait for an answer, by default: a few round trips, far below a request's patience. */
export const DEFAULT_THROTTLER_TIMEOUT_MS = 300;

/**
 * After a hit got no answer, Redis is left alone for 0.5–1 s (jittered, so instances that lost it
 * together do not come back together), then one hit tries again; each further miss doubles the
 * pause, up to 2.5–5 s. A partition then costs one timeout per pause, not one per request.
 */
const PAUSE = { failureThreshold: 1, baseDelayMs: 1000, maxDelayMs: 5000 } as const;

/** How long hits that arrive before the very first connection wait for it, together, once. */
const FIRST_CONNECTION_MS = 2000;

export interface FailOpenGateOptions {
  /** Milliseconds a command may take before the hit goes through uncounted. */
  readonly timeoutMs: number;
  /** Told when hits start going through uncounted (once until one is counted again). */
  readonly onUnavailable?: (error: ThrottlerStorageUnavailableError) => void;
}

/**
 * Runs the throttler's commands so that a Redis that cannot answer never holds a request up (a
 * throttle that cannot count must not refuse, nor slow, everyone):
 *
 * - A command is sent only on a ready connection. A client of the application's own may queue
 *   commands while it reconnects (ioredis's default offline queue, retried 20 times: a minute
 *   and more); the hit goes through at once instead.
 * - A command gets `timeoutMs` to answer, whatever the client's own timeouts (none, by default).
 * - After a miss, Redis is skipped for a short jittered pause (`PAUSE`), with one hit probing it
 *   after each; a new connection ends the pause at once.
 *
 * `available` and `onUnavailable` tell an application that its limits are not being enforced.
 */
export class FailOpenGate {
  private firstConnection: Promise<void> | undefined;
  private failing = false;
  private readonly breaker = new CircuitBreaker(PAUSE);
  // Removed at close: a client passed in outlives the gate.
  private readonly onReady = () => {
    this.firstConnection = Promise.resolve();
    this.failing = false;
    this.breaker.reset();
  };

  constructor(
    private readonly client: Redis | Cluster,
    private readonly options: FailOpenGateOptions,
  ) {
    if (client.status === 'ready') this.firstConnection = Promise.resolve();
    client.on('ready', this.onReady);
  }

  /** Whether commands are being answered: connected, and no hit let through since it was. */
  get available(): boolean {
    return this.ready() && !this.failing && this.breaker.state === 'closed';
  }

  /** `command`'s answer, or `undefined` when Redis cannot give it now: let the hit through. */
  async run<T>(command: () => Promise<T>): Promise<T | undefined> {
    if (!(await this.connected())) return this.unavailable('disconnected');
    try {
      const answer = await this.breaker.run(() => answerWithin(command(), this.options.timeoutMs));
      this.failing = false;
      return answer;
    } catch (error) {
      if (error instanceof BreakerOpenError) return undefined; // paused after a miss, told then
      return this.unavailable(error instanceof NoAnswerError ? 'timeout' : 'failed', error);
    }
  }

  close(): void {
    this.client.off('ready', this.onReady);
  }

  /**
   * Whether the connection is ready. Only the very first one is waited for, once, by the hits
   * that arrive while it is being made (the application has just started); once Redis has been
   * reached, a hit never waits for a reconnection.
   */
  private async connected(): Promise<boolean> {
    if (this.ready()) return true;
    this.firstConnection ??= firstConnection(this.client, FIRST_CONNECTION_MS);
    await this.firstConnection;
    return this.ready();
  }

  private ready(): boolean {
    return this.client.status === 'ready';
  }

  private unavailable(reason: ThrottlerStorageUnavailableReason, cause?: unknown): undefined {
    if (this.failing) return undefined;
    this.failing = true;
    try {
      this.options.onUnavailable?.(new ThrottlerStorageUnavailableError(reason, { cause }));
    } catch {
      // An observer's failure never fails the request.
    }
    return undefined;
  }
}
