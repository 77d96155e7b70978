import type { AuthError, InvalidTokenError } from './errors/auth-errors.js';
import type { IssuerDiscoveryEvent } from './keys/discovery-key-source.js';
import type { JwksFetchEvent } from './keys/jwks-client.js';
import type { RedisRevocationEvents } from './revocation/redis-revocation-events.js';
import type { RevocationCheckEvents } from './revocation/revocation-checker.js';
import type { Principal } from './verify/principal.js';

/**
 * Hooks the library calls as it works, for metrics, logs and traces. Every hook is optional and
 * must not throw; none receives a token. The library formats nothing itself.
 */
export interface AuthEvents extends RevocationCheckEvents, RedisRevocationEvents {
  /** A token passed verification; `cached` when it was answered from the verified-token cache. */
  tokenVerified?(event: { principal: Principal; cached: boolean; durationMs: number }): void;
  /** A token failed verification; `error.reason` is the machine-readable reason. */
  tokenRejected?(event: { error: InvalidTokenError }): void;
  /** An HTTP request was refused (any cause: no token, bad token, missing scope...). */
  requestRejected?(event: { error: AuthError }): void;
  /** A call into a protected service method was refused (`Class.method`, typed error). */
  accessDenied?(event: { method: string; error: AuthError }): void;
  /** An issuer's JWKS was fetched (or the fetch failed). */
  jwksFetched?(event: JwksFetchEvent & { issuer: string }): void;
  /**
   * The metadata of an issuer configured with `discovery: true` was read for its `jwks_uri`, or
   * the reading failed (unreachable, an answer other than 200 or 404, not JSON, too large, another
   * `issuer`, no usable `jwks_uri`); until one succeeds that issuer's tokens are refused
   * (`keys_unavailable`), and after a failure `retryInSeconds` says when it is tried again.
   */
  issuerDiscovered?(event: IssuerDiscoveryEvent): void;
  /**
   * A near-expiry token was considered for renewal: `renewed` (the answer carries the new token),
   * `skipped` (not renewable: session ended or revoked), `failed`, or `timeout` (not ready within
   * the budget: the answer went without it).
   */
  tokenRenewed?(event: {
    result: 'renewed' | 'skipped' | 'failed' | 'timeout';
    reason?: string;
  }): void;
  /** A request was refused with 429; `tracker` says whether it counted per principal or per IP. */
  requestThrottled?(event: { tracker: 'principal' | 'ip' }): void;
}
