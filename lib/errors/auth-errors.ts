/**
 * Why a token was refused. One string, the same in the error, the log line and the metric label.
 */
export type InvalidTokenReason =
  | 'malformed'
  | 'oversized'
  | 'alg_not_allowed'
  | 'typ_mismatch'
  | 'crit_unsupported'
  | 'missing_claim'
  | 'unknown_kid'
  | 'keys_unavailable'
  | 'bad_signature'
  | 'issuer_mismatch'
  | 'audience_mismatch'
  | 'expired'
  | 'not_yet_valid'
  | 'revoked'
  | 'revocation_unavailable'
  | 'dpop_bound_as_bearer'
  | 'dpop_required'
  | 'dpop_key_mismatch';

/** Why a DPoP proof (RFC 9449 §4.3) was refused. */
export type InvalidDpopProofReason =
  | 'missing'
  | 'multiple'
  | 'oversized'
  | 'malformed'
  | 'typ_mismatch'
  | 'alg_not_allowed'
  | 'bad_jwk'
  | 'private_key'
  | 'bad_signature'
  | 'missing_claim'
  | 'htm_mismatch'
  | 'htu_mismatch'
  | 'iat_out_of_window'
  | 'ath_mismatch'
  | 'nonce_mismatch'
  | 'replayed'
  | 'replay_check_unavailable';

/** Why a request was refused before any token was verified. */
export type InvalidRequestReason = 'token_in_query' | 'multiple_tokens' | 'malformed_credentials';

/** An RFC 6750 §3.1 error code. */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/** An RFC 9449 §7.1 and §9 error code. */
export type DpopErrorCode = 'invalid_dpop_proof' | 'use_dpop_nonce';

/** A refused request; `code` is the RFC 6750 §3.1 error code, none when no token was sent. */
export abstract class AuthError extends Error {
  /** The HTTP status this refusal maps to. */
  abstract readonly status: 400 | 401 | 403;
  /** The RFC 6750 (or RFC 9449) error code, absent when the request carried no credentials. */
  abstract readonly code: BearerErrorCode | DpopErrorCode | undefined;
  /** The machine-readable reason, for logs and metrics; never sent to the client. */
  abstract readonly reason: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * No credentials at all (RFC 6750 §3.1: no error code): a request without a token, or a call
 * into a protected method with no principal in its context.
 */
export class MissingTokenError extends AuthError {
  readonly status = 401;
  readonly code = undefined;

  /** @param detail what was called without a caller, for the log */
  constructor(
    readonly reason: 'missing_token' | 'no_principal' = 'missing_token',
    detail?: string,
  ) {
    super(
      detail ??
        (reason === 'missing_token' ? 'no access token in the request' : 'no principal in context'),
    );
  }
}

/** The token was present but is not acceptable: 401 `invalid_token`. */
export class InvalidTokenError extends AuthError {
  readonly status = 401;
  readonly code = 'invalid_token';

  constructor(
    readonly reason: InvalidTokenReason,
    options?: ErrorOptions,
  ) {
    super(`token rejected: ${reason}`, options);
  }
}

/** The request's DPoP proof is not acceptable (RFC 9449 §4.3): 401 `invalid_dpop_proof`. */
export class InvalidDpopProofError extends AuthError {
  readonly status = 401;
  readonly code = 'invalid_dpop_proof';

  constructor(
    readonly reason: InvalidDpopProofReason,
    options?: ErrorOptions,
  ) {
    super(`DPoP proof rejected: ${reason}`, options);
  }
}

/**
 * The proof lacks the server's current nonce (RFC 9449 §9): 401 `use_dpop_nonce`, with the nonce
 * to use in a `DPoP-Nonce` header.
 */
export class UseDpopNonceError extends AuthError {
  readonly status = 401;
  readonly code = 'use_dpop_nonce';
  readonly reason = 'dpop_nonce_required';

  constructor(
    /** The nonce the client's next proof must carry. */
    readonly nonce: string,
  ) {
    super('DPoP proof rejected: the server nonce is required');
  }
}

/** The request itself is malformed (a token in the URL, two tokens): 400 `invalid_request`. */
export class InvalidRequestError extends AuthError {
  readonly status = 400;
  readonly code = 'invalid_request';

  constructor(readonly reason: InvalidRequestReason) {
    super(`request rejected: ${reason}`);
  }
}

/** The principal lacks a required scope or tenant: 403 `insufficient_scope`. */
export class InsufficientScopeError extends AuthError {
  readonly status = 403;
  readonly code = 'insufficient_scope';

  constructor(
    /**
     * The scopes the resource requires, sent back in the challenge: all of them, or with `anyOf`
     * the alternatives, one of which would do (`@AnyScope`).
     */
    readonly required: readonly string[],
    readonly reason: 'missing_scope' | 'missing_tenant' | 'tenant_mismatch' = 'missing_scope',
    /** Whether one of `required` is enough. */
    readonly anyOf = false,
  ) {
    super(
      `access denied: ${reason}${
        required.length ? ` (requires ${anyOf ? 'one of ' : ''}${required.join(' ')})` : ''
      }`,
    );
  }
}

/** A configuration the library cannot run with; thrown once, at start-up. */
export class AuthConfigError extends Error {
  constructor(message: string) {
    super(`nest-tessera configuration: ${message}`);
    this.name = 'AuthConfigError';
  }
}

/** The only place a `WWW-Authenticate` value is built (RFC 6750 §3). */
export function bearerChallenge(error: AuthError): string {
  if (error.code === undefined) return 'Bearer';
  const scope =
    error instanceof InsufficientScopeError && error.required.length > 0
      ? `, scope="${error.required.join(' ')}"`
      : '';
  return `Bearer error="${error.code}"${scope}`;
}
