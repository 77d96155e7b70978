import { CircuitBreaker, type BreakerState } from '../resilience/circuit-breaker.js';
import { AuthConfigError } from '../errors/auth-errors.js';
import { isSecureUrl } from '../util/secure-url.js';
import type { TokenRenewer } from './token-renewer.js';

export interface RemoteTokenRenewerOptions {
  /** The issuer's renewal endpoint (`POST`, the current token as Bearer). */
  readonly url: string;
  /**
   * Time after which a renewal request is abandoned, in milliseconds.
   * @default 2000
   */
  readonly timeoutMs?: number;
  readonly onBreakerStateChange?: (state: BreakerState) => void;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /**
   * Refuses an `http:` `url` whose host is not loopback, as `AuthModule`'s `requireHttps` does:
   * the call carries the caller's token. Set it in production.
   * @default false
   */
  readonly requireHttps?: boolean;
}

/**
 * Renews by calling the issuer's renewal endpoint with the current token, for a verifier-only
 * service that holds no private key. A time-out bounds each call and a circuit breaker stops
 * calling an issuer that keeps failing.
 */
export class RemoteTokenRenewer implements TokenRenewer {
  private readonly breaker: CircuitBreaker;

  constructor(private readonly options: RemoteTokenRenewerOptions) {
    if (options.requireHttps === true && !isSecureUrl(options.url)) {
      throw new AuthConfigError(
        'RemoteTokenRenewer url must be https (or http to a loopback host) under requireHttps',
      );
    }
    this.breaker = new CircuitBreaker({ onStateChange: options.onBreakerStateChange });
  }

  renew(token: string): Promise<string | undefined> {
    return this.breaker.run(() => this.call(token));
  }

  private async call(token: string): Promise<string | undefined> {
    const response = await (this.options.fetch ?? fetch)(this.options.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      // A redirect would resend the token wherever the answer points.
      redirect: 'error',
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 2000),
    });
    // 401: not renewable (revoked, session ended) — an answer, not a failure of the issuer.
    if (response.status === 401) return undefined;
    if (!response.ok) throw new Error(`renewal endpoint answered ${response.status}`);
    const body = (await response.json()) as { access_token?: unknown };
    if (typeof body.access_token !== 'string')
      throw new Error('renewal answer has no access_token');
    return body.access_token;
  }
}
