import type { ThrottlerStorage } from '@nestjs/throttler';
import type { LoginLimits } from '../config.js';

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

const NAMES = { ip: 'login-ip', failures: 'login-failures', lock: 'login-lock' } as const;

/** No limit: a count that only reports. */
const UNLIMITED = Number.MAX_SAFE_INTEGER;

/** A window no hit outlives: checking a lock that is not there leaves (almost) nothing behind. */
const PROBE_MS = 1;

/**
 * CONTRACT.md's guessing limits, on the throttler storage the rest of the service counts in (in
 * memory, or Redis shared by every instance): attempts of any kind per client IP, and failed
 * attempts per account (username and client IP, or `client_id`), each in a fixed window. Both are
 * checked before the password is hashed, so a refused flood costs no scrypt run.
 *
 * A throttler storage only counts hits. An account's failures are counted where they happen; the
 * one that reaches the limit locks the account until that window ends, in a key of its own, and
 * the check before the next attempt looks at the lock with a hit that expires at once: a success
 * is never counted, a lock outlives no window.
 */
export class LoginLimiter {
  /** `issuer`: the service's `iss`; every key names it, so issuers sharing a Redis never meet. */
  constructor(
    private readonly storage: ThrottlerStorage,
    private readonly limits: LoginLimits,
    private readonly issuer: string,
  ) {}

  /** Counts an attempt of `ip`; `TooManyAttemptsError` when that IP is over its limit. */
  async admitIp(ip: string): Promise<void> {
    if (this.limits.perIp === 0) return;
    const windowMs = this.limits.windowSeconds * 1000;
    const hit = await this.storage.increment(
      this.key(`ip:${ip}`),
      windowMs,
      this.limits.perIp,
      0,
      NAMES.ip,
    );
    if (hit.isBlocked) throw new TooManyAttemptsError(hit.timeToBlockExpire, 'ip');
  }

  /**
   * `TooManyAttemptsError` while the account is locked by its failures; counts nothing. Call it
   * before checking the account's secret.
   */
  async admitAccount(account: AttemptAccount): Promise<void> {
    if (this.limits.failures === 0) return;
    // An existing lock counts this probe as a second hit, over the limit of one.
    const lock = await this.storage.increment(this.accountKey(account), PROBE_MS, 1, 0, NAMES.lock);
    if (lock.isBlocked) throw new TooManyAttemptsError(lock.timeToBlockExpire, 'account');
  }

  /** Counts a failed attempt of the account; the one that reaches the limit locks it. */
  async failed(account: AttemptAccount): Promise<void> {
    if (this.limits.failures === 0) return;
    const key = this.accountKey(account);
    const windowMs = this.limits.windowSeconds * 1000;
    const count = await this.storage.increment(key, windowMs, UNLIMITED, 0, NAMES.failures);
    if (count.totalHits < this.limits.failures) return;
    // Locked until the failures' window ends (whole seconds, so never shorter than it).
    await this.storage.increment(key, count.timeToExpire * 1000, UNLIMITED, 0, NAMES.lock);
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

/** `%` and `@` as `%25` and `%40`: reversible, and free of `@`. */
function escapeAt(id: string): string {
  return id.replace(/[%@]/g, (c) => (c === '%' ? '%25' : '%40'));
}
