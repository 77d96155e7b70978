/** The claims of an RFC 9068 access token as this library reads them (wire names). */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string | readonly string[];
  readonly exp: number;
  readonly iat: number;
  readonly jti: string;
  readonly nbf?: number;
  readonly sid?: string;
  readonly tid?: string;
  readonly scope?: string;
  readonly client_id?: string;
  readonly [claim: string]: unknown;
}

/** The verified caller, as the application sees it. */
export interface Principal {
  /** `sub`: the user, or the service client for client-credentials tokens. */
  readonly subject: string;
  /** `tid`: the tenant the caller acts for; absent for tokens not bound to a tenant. */
  readonly tenant: string | undefined;
  /** `scope`, split on spaces. */
  readonly scopes: readonly string[];
  /** `sid`: the login session; absent for client tokens. */
  readonly sessionId: string | undefined;
  /** `client_id`: the OAuth client the token was issued to. */
  readonly clientId: string | undefined;
  /** `jti`: this token's unique id. */
  readonly tokenId: string;
  /** `iss`: the trusted issuer that signed the token. */
  readonly issuer: string;
  /** `iat`, epoch seconds. */
  readonly issuedAt: number;
  /** `exp`, epoch seconds. */
  readonly expiresAt: number;
  /** Every claim as received. */
  readonly claims: AccessTokenClaims;
}

export function principalFromClaims(claims: AccessTokenClaims): Principal {
  return Object.freeze({
    subject: claims.sub,
    tenant: optionalString(claims.tid),
    scopes: scopeList(claims.scope),
    sessionId: optionalString(claims.sid),
    clientId: optionalString(claims.client_id),
    tokenId: claims.jti,
    issuer: claims.iss,
    issuedAt: claims.iat,
    expiresAt: claims.exp,
    claims: Object.freeze(claims),
  });
}

// Principals whose tokens carry the same `scope` claim share one frozen list of scopes: a cache of
// verified tokens then holds one list per distinct claim instead of one per token, and the scope
// checks every request makes read a list that stays in the processor's caches. Bounded: past the
// limit the table starts again, which only costs sharing.
const SHARED_SCOPE_LISTS = 256;
const scopeLists = new Map<string, readonly string[]>();

function scopeList(scope: unknown): readonly string[] {
  if (typeof scope !== 'string') return Object.freeze(parseScopes(scope));
  let list = scopeLists.get(scope);
  if (list === undefined) {
    list = Object.freeze(parseScopes(scope));
    if (scopeLists.size >= SHARED_SCOPE_LISTS) scopeLists.clear();
    scopeLists.set(scope, list);
  }
  return list;
}

function parseScopes(scope: unknown): string[] {
  if (typeof scope === 'string') return scope.split(' ').filter((s) => s !== '');
  if (Array.isArray(scope)) return scope.filter((s): s is string => typeof s === 'string');
  return [];
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
