import {
  bearerChallenge,
  InsufficientScopeError,
  InvalidDpopProofError,
  InvalidTokenError,
  UseDpopNonceError,
  type AuthError,
} from '../errors/auth-errors.js';

/** What a challenge says about DPoP. */
export interface DpopChallengeOptions {
  /** The proof algorithms accepted (`algs`). */
  readonly algorithms: readonly string[];
  /** Whether every token must be DPoP-bound (bearer tokens never accepted). */
  readonly requiredEverywhere: boolean;
}

/**
 * The `WWW-Authenticate` value of a refusal. Without DPoP, RFC 6750's Bearer challenge. With it,
 * a DPoP challenge (RFC 9449 §7.1, with `algs`) for a request that used the DPoP scheme, a
 * refusal about the proof or the binding, and any 401 where bearer tokens are not accepted at
 * all (`required: true`), a request without credentials included (`DPoP algs="…"`). Wherever
 * bearer tokens are accepted, any other refusal keeps RFC 6750's Bearer challenge: a request
 * without credentials gets exactly `Bearer`, as without DPoP.
 */
export function authChallenge(
  error: AuthError,
  viaDpop: boolean,
  dpop: DpopChallengeOptions | undefined,
): string {
  if (dpop === undefined || !aboutDpop(error, viaDpop, dpop)) return bearerChallenge(error);
  const params: string[] = [];
  if (error.code !== undefined) params.push(`error="${error.code}"`);
  if (error instanceof InsufficientScopeError && error.required.length > 0) {
    params.push(`scope="${error.required.join(' ')}"`);
  }
  params.push(`algs="${dpop.algorithms.join(' ')}"`);
  return `DPoP ${params.join(', ')}`;
}

function aboutDpop(error: AuthError, viaDpop: boolean, dpop: DpopChallengeOptions): boolean {
  if (viaDpop || error instanceof InvalidDpopProofError || error instanceof UseDpopNonceError) {
    return true;
  }
  if (error instanceof InvalidTokenError && error.reason.startsWith('dpop_')) return true;
  return dpop.requiredEverywhere && error.status === 401;
}
