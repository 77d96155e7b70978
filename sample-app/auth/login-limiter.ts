import type { LoginLimits } from '../config.js';
import type { AttemptCounter } from './attempt-counter.js';

/** Too many attempts: 429 with `Retry-After` (`TooManyAttemptsFilter`). */
export class TooManyAttemptsError extends Error {
  constructor(
    /** Whole seconds until the window that refused it ends. */
    readonly retryAfterSeconds: number,
    /** Which limit refused: the client IP's, or the account's (username and IP, or client). */
    readonly limit: 'ip' | 'account',
  ) {
    super(`too many attempts (${limit})`);
    this.name = 'TooManyAttemptsError';
  }
}

/** Whose failures an attempt counts as: a username from one client IP, or a service client. */
export type AttemptAccount =
  { readonly username: string; readonly ip: string } | { readonly clientId: string };

/** Milliseconds between two looks at an account whose places are all held by checks under way. */
const BUSY_RETRY_MS = 20;
/** How long an attempt waits for such checks before it is refused. */
const BUSY_WAIT_MS = 5000;

/** A place an account's attempt holds: kept by a failure, given back by a success. */
export interface AttemptPlace {
  readonly key: string;
  readonly window: string;
}

/**
 * CONTRACT.md's guessing limits, on an `AttemptCounter` (in memory, or Redis shared by every
 * instance): attempts of any kind per client IP, and failed attempts per account (username and
 * client IP, or `client_id`), each in a fixed window. Both are taken before the password is
 * hashed, so a refused flood costs no scrypt run.
 *
 * An account's attempt takes a place before its secret is checked; a failure keeps it until the
 * window ends, a success gives it back. The places held are the window's failures plus the checks
 * under way, so at most `LOGIN_LIMIT` checks ever run per account and window, however many arrive
 * at once; once `LOGIN_LIMIT` have failed, every attempt gets 429 until the window ends, whatever
 * the password. An attempt that finds every place held by checks under way waits for them (a
 * burst of right secrets, say a service's instances asking at once, is not refused); it is refused
 * only if they failed, or after `BUSY_WAIT_MS`.
 */
export class LoginLimiter {
  /** `issuer`: the service's `iss`; every key names it, so issuers sharing a Redis never meet. */
  constructor(
    private readonly counter: AttemptCounter,
    private readonly limits: LoginLimits,
    private readonly issuer: string,
  ) {}

  /** Counts an attempt of `ip`; `TooManyAttemptsError` when that IP is over its limit. */
  async admitIp(ip: string): Promise<void> {
    if (this.limits.perIp === 0) return;
    const taken = await this.counter.take(this.key(`ip:${ip}`), this.limits.perIp, this.windowMs);
    // Nothing settles an IP's places: each is an attempt.
    if (taken.outcome !== 'admitted')
      throw new TooManyAttemptsError(retryAfter(taken.msLeft), 'ip');
  }

  /**
   * Takes a place for an attempt of the account, before its secret is checked:
   * `TooManyAttemptsError` when its failures fill the limit (or checks under way still hold every
   * place after `BUSY_WAIT_MS`). Pass the place to `settle` once the secret is checked.
   */
  async admitAccount(account: AttemptAccount): Promise<AttemptPlace | undefined> {
    if (this.limits.failures === 0) return undefined;
    const key = this.accountKey(account);
    const deadline = Date.now() + BUSY_WAIT_MS;
    for (;;) {
      const taken = await this.counter.take(key, this.limits.failures, this.windowMs);
      if (taken.outcome === 'admitted') return { key, window: taken.window };
      if (taken.outcome === 'full' || Date.now() >= deadline) {
        throw new TooManyAttemptsError(retryAfter(taken.msLeft), 'account');
      }
      await new Promise((resolve) => setTimeout(resolve, BUSY_RETRY_MS));
    }
  }

  /** The attempt that took `place` is done: a failure keeps it, a success gives it back. */
  async settle(place: AttemptPlace | undefined, failed: boolean): Promise<void> {
    if (place !== undefined) await this.counter.settle(place.key, place.window, failed);
  }

  private get windowMs(): number {
    return this.limits.windowSeconds * 1000;
  }

  /** `user:` and `client:` keys never meet; ids are escaped, so each `@` ends a part. */
  private accountKey(account: AttemptAccount): string {
    if ('clientId' in account) return this.key(`client:${escapeAt(account.clientId)}`);
    return this.key(`user:${escapeAt(account.username)}@${account.ip}`);
  }

  private key(id: string): string {
    return `${id}@${this.issuer}`;
  }
}

/** Whole seconds until a window ends, never shorter than what is left of it, at least 1. */
function retryAfter(msLeft: number): number {
  return Math.max(1, Math.ceil(msLeft / 1000));
}

/** `%` and `@` as `%25` and `%40`: reversible, and free of `@`. */
function escapeAt(id: string): string {
  return id.replace(/[%@]/g, (c) => (c === '%' ? '%25' : '%40'));
}
