import { createHash } from 'node:crypto';
import { claimAt, claimPath, type ClaimPath } from './issuer-profile.js';

/**
 * The claims of a verified access token (wire names). `iss`, `sub` and `exp` are always there;
 * the others as the issuer's profile requires (docs/verification.md).
 */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud?: string | readonly string[];
  readonly exp: number;
  readonly iat?: number;
  readonly jti?: string;
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
  /**
   * The tenant the caller acts for, from the issuer's tenant claim (`tid` by default); absent for
   * tokens not bound to a tenant.
   */
  readonly tenant: string | undefined;
  /**
   * The union of the issuer's scope claims (`scope` by default), each a space-separated string
   * or an array of strings.
   */
  readonly scopes: readonly string[];
  /** `sid`: the login session; absent for client tokens. */
  readonly sessionId: string | undefined;
  /** `client_id`: the OAuth client the token was issued to. */
  readonly clientId: string | undefined;
  /**
   * `jti`: this token's unique id. A token without one (Auth0, Entra) gets `#` and the
   * base64url SHA-256 of its signed part: the same for every copy of the token, so revoking it
   * by this id revokes that token.
   */
  readonly tokenId: string;
  /** `iss`: the trusted issuer that signed the token. */
  readonly issuer: string;
  /**
   * `iat`, epoch seconds; 0 for a token without one, so that revoking its subject (every token
   * issued before a time) always covers it.
   */
  readonly issuedAt: number;
  /** `exp`, epoch seconds. */
  readonly expiresAt: number;
  /** Every claim as received. */
  readonly claims: AccessTokenClaims;
}

/** Which claims make a principal's scopes and tenant: the issuer's policy, or RFC 9068's. */
export interface ClaimReading {
  readonly scopeClaims: readonly ClaimPath[];
  readonly tenantClaim: ClaimPath | undefined;
}

const RFC9068_READING: ClaimReading = {
  scopeClaims: [claimPath('scope')],
  tenantClaim: claimPath('tid'),
};

/** A compact token and the length of its signed part (header and payload). */
export interface SignedToken {
  readonly token: string;
  readonly signingInputLength: number;
}

/**
 * The principal of verified `claims`. A token without `jti` is named by its signed part, not the
 * whole token: another spelling of the same signature (ECDSA's `s` or `n - s`) is the same token.
 */
export function principalFromClaims(
  claims: AccessTokenClaims,
  reading: ClaimReading = RFC9068_READING,
  signed?: SignedToken,
): Principal {
  return Object.freeze({
    subject: claims.sub,
    tenant: reading.tenantClaim && optionalString(claimAt(claims, reading.tenantClaim)),
    scopes: scopesOf(claims, reading.scopeClaims),
    sessionId: optionalString(claimAt(claims, SID)),
    clientId: optionalString(claimAt(claims, CLIENT_ID)),
    tokenId: optionalString(claimAt(claims, JTI)) ?? derivedTokenId(claims, signed),
    issuer: claims.iss,
    issuedAt: Number.isFinite(claims.iat) ? (claims.iat as number) : 0,
    expiresAt: claims.exp,
    claims: Object.freeze(claims),
  });
}

const SID = claimPath('sid');
const CLIENT_ID = claimPath('client_id');
const JTI = claimPath('jti');

function derivedTokenId(claims: AccessTokenClaims, signed: SignedToken | undefined): string {
  const content =
    signed === undefined
      ? JSON.stringify(claims)
      : signed.token.slice(0, signed.signingInputLength);
  return `#${createHash('sha256').update(content).digest('base64url')}`;
}

function scopesOf(claims: AccessTokenClaims, paths: readonly ClaimPath[]): readonly string[] {
  // The common case, one claim: shared by its raw value, with nothing built before the look-up.
  if (paths.length === 1) return scopeList(claimAt(claims, paths[0]));
  const found = new Set<string>();
  for (const path of paths) {
    for (const scope of parseScopes(claimAt(claims, path))) found.add(scope);
  }
  return scopeList([...found].join(' '));
}
// Principals whose tokens carry the same `scope` claim share one frozen list of scopes: a cache of
// verified tokens then holds one list per distinct claim instead of one per token, and the scope
// checks every request makes read a list that stays in the processor's caches. Bounded: past the
// limit the table starts again, which only costs sharing.
const SHARED_SCOPE_LISTS = 256;
const scopeLists = new Map<string, readonly string[]>();

function scopeList(scope: unknown): readonly string[] {
  if (typeof scope !== 'string') return Object.freeze(dedupe(parseScopes(scope)));
  let list = scopeLists.get(scope);
  if (list === undefined) {
    list = Object.freeze(dedupe(parseScopes(scope)));
    if (scopeLists.size >= SHARED_SCOPE_LISTS) scopeLists.clear();
    scopeLists.set(scope, list);
  }
  return list;
}

/**
 * A space-separated string or an array of strings; anything else adds nothing, nor does an item
 * that is not a string or holds a space (RFC 6749 §3.3: no scope token does).
 */
function parseScopes(scope: unknown): string[] {
  if (typeof scope === 'string') return scope.split(' ').filter((s) => s !== '');
  if (Array.isArray(scope)) {
    return scope.filter((s): s is string => typeof s === 'string' && s !== '' && !s.includes(' '));
  }
  return [];
}

function dedupe(scopes: string[]): string[] {
  return scopes.length < 2 ? scopes : [...new Set(scopes)];
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
