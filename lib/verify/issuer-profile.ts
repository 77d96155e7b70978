/** How an issuer's access tokens look; `rfc9068` unless the issuer's options name another. */
export type IssuerProfileName =
  'rfc9068' | 'keycloak' | 'auth0' | 'entra' | 'cognito' | 'okta' | 'generic';

/** Where a claim is: the member names from the payload down, e.g. `['realm_access', 'roles']`. */
export interface ClaimPath {
  readonly names: readonly string[];
  /**
   * The path as written with dots, for a path the application configured: a top-level member of
   * that very name is read first (Auth0's namespaced claims, `https://example.com/roles`, are
   * named so). Absent on a profile's own paths, which read nesting only.
   */
  readonly written?: string;
}

/** A claim whose value tells an access token from the issuer's other tokens. */
export interface TokenTypeClaim {
  readonly name: string;
  /** The only value an access token carries; any other (or none) is another kind of token. */
  readonly value: string;
}

/** One row of the profile table (docs/verification.md). */
export interface IssuerProfile {
  /** Accepted `typ` header values, normalized (`normalizeTyp`); `null`: a header without `typ`. */
  readonly tokenTypes: readonly (string | null)[];
  /** Claims required besides `iss`, `sub` and `exp`. */
  readonly requiredClaims: readonly string[];
  /** Refused although signed: ID, refresh and other non-access tokens of the same issuer. */
  readonly tokenTypeClaims: readonly TokenTypeClaim[];
  /**
   * Claims only OpenID Connect ID tokens carry: a token with any of them is refused. For the
   * profiles whose access tokens have no claim saying what they are (`tokenTypeClaims`, `typ`).
   */
  readonly idTokenClaims: readonly string[];
  /** The claim the accepted audiences are matched against. */
  readonly audienceClaim: 'aud' | 'client_id';
  /** Claims that make the caller's scopes, given the issuer's accepted audiences. */
  readonly scopeClaims: (audiences: readonly string[]) => readonly ClaimPath[];
  /** The caller's tenant; `null`: none. */
  readonly tenantClaim: string | null;
}

const paths =
  (...names: string[]) =>
  (): readonly ClaimPath[] =>
    names.map(nestedClaimPath);

/**
 * OpenID Connect Core §2 and §3.1.3.6, §3.3.2.11: `nonce` (echoed from the request), `at_hash`
 * and `c_hash` are ID token claims; no provider puts them in access tokens.
 */
const ID_TOKEN_CLAIMS: readonly string[] = Object.freeze(['nonce', 'at_hash', 'c_hash']);

/** The profile table: what each kind of issuer signs, and how it says who may do what. */
export const ISSUER_PROFILES: Readonly<Record<IssuerProfileName, IssuerProfile>> = Object.freeze({
  rfc9068: {
    tokenTypes: ['at+jwt'],
    requiredClaims: ['aud', 'iat', 'jti'],
    tokenTypeClaims: [],
    idTokenClaims: [],
    audienceClaim: 'aud',
    scopeClaims: paths('scope'),
    tenantClaim: 'tid',
  },
  keycloak: {
    tokenTypes: ['jwt', null],
    requiredClaims: ['aud', 'iat'],
    // Keycloak signs ID and refresh tokens with the same keys: `typ` "ID" / "Refresh".
    tokenTypeClaims: [{ name: 'typ', value: 'Bearer' }],
    idTokenClaims: [],
    audienceClaim: 'aud',
    // Client roles of each accepted audience: a client id may hold dots, so segments, not a path.
    scopeClaims: (audiences) => [
      nestedClaimPath('scope'),
      nestedClaimPath('realm_access.roles'),
      ...audiences.map((audience) => ({ names: ['resource_access', audience, 'roles'] })),
    ],
    tenantClaim: null,
  },
  auth0: {
    tokenTypes: ['jwt', 'at+jwt', null],
    requiredClaims: ['aud', 'iat'],
    tokenTypeClaims: [],
    idTokenClaims: ID_TOKEN_CLAIMS,
    audienceClaim: 'aud',
    scopeClaims: paths('scope', 'permissions'),
    tenantClaim: 'org_id',
  },
  entra: {
    tokenTypes: ['jwt', null],
    requiredClaims: ['aud', 'iat', 'tid', 'ver'],
    // v1.0 tokens have another issuer, audience form and claim set: never read as v2.0 ones.
    tokenTypeClaims: [{ name: 'ver', value: '2.0' }],
    idTokenClaims: ID_TOKEN_CLAIMS,
    audienceClaim: 'aud',
    scopeClaims: paths('scp', 'roles'),
    tenantClaim: 'tid',
  },
  cognito: {
    tokenTypes: [null, 'jwt'],
    requiredClaims: ['client_id', 'token_use', 'iat'],
    // Cognito ID tokens are signed by the same keys and carry `aud`: `token_use` tells them apart.
    tokenTypeClaims: [{ name: 'token_use', value: 'access' }],
    idTokenClaims: [],
    audienceClaim: 'client_id',
    scopeClaims: paths('scope', 'cognito:groups'),
    tenantClaim: null,
  },
  okta: {
    tokenTypes: [null, 'jwt'],
    requiredClaims: ['aud', 'iat', 'jti'],
    tokenTypeClaims: [],
    idTokenClaims: ID_TOKEN_CLAIMS,
    audienceClaim: 'aud',
    scopeClaims: paths('scp'),
    tenantClaim: null,
  },
  generic: {
    tokenTypes: ['jwt', 'at+jwt', null],
    requiredClaims: ['aud'],
    tokenTypeClaims: [],
    idTokenClaims: ID_TOKEN_CLAIMS,
    audienceClaim: 'aud',
    scopeClaims: paths('scope', 'scp'),
    tenantClaim: 'tid',
  },
} satisfies Record<IssuerProfileName, IssuerProfile>);

export function isIssuerProfileName(value: unknown): value is IssuerProfileName {
  return typeof value === 'string' && Object.hasOwn(ISSUER_PROFILES, value);
}

/**
 * A dotted claim path the application configured (`realm_access.roles`) as its member names; a
 * top-level member named with the dots is read first.
 */
export function claimPath(path: string): ClaimPath {
  const names = path.split('.');
  return Object.freeze(names.length > 1 ? { names, written: path } : { names });
}

/** A profile's own dotted claim path: nesting only, never a top-level member with the dots. */
function nestedClaimPath(path: string): ClaimPath {
  return Object.freeze({ names: path.split('.') });
}

/** `typ` values compare without case and without the `application/` prefix (RFC 7515 §4.1.9). */
export function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

/** How a required claim must look to count as present. */
export type ClaimKind = 'number' | 'audience' | 'string' | 'present';

const NUMERIC_CLAIMS: ReadonlySet<string> = new Set(['exp', 'iat', 'nbf', 'auth_time']);
const STRING_CLAIMS: ReadonlySet<string> = new Set([
  'iss',
  'sub',
  'jti',
  'azp',
  'sid',
  'tid',
  'client_id',
  'token_use',
  'ver',
]);

/**
 * Numeric dates must be numbers, `aud` a string or strings, the registered string claims
 * non-empty strings; any other claim (`permissions`, `email_verified`) present and not `null`.
 */
function claimKind(name: string): ClaimKind {
  if (NUMERIC_CLAIMS.has(name)) return 'number';
  if (name === 'aud') return 'audience';
  return STRING_CLAIMS.has(name) ? 'string' : 'present';
}

/**
 * What the verifier applies to one issuer's tokens: its profile with the issuer's overrides,
 * computed once at start-up so that a request allocates nothing for it.
 */
export interface IssuerPolicy {
  readonly profile: IssuerProfileName;
  /** Normalized `typ` values; `untyped`: a header without `typ` is accepted too. */
  readonly tokenTypes: ReadonlySet<string>;
  readonly untyped: boolean;
  readonly requiredClaims: readonly { readonly name: string; readonly kind: ClaimKind }[];
  readonly tokenTypeClaims: readonly TokenTypeClaim[];
  readonly idTokenClaims: readonly string[];
  readonly audienceClaim: 'aud' | 'client_id';
  readonly audiences: ReadonlySet<string>;
  readonly scopeClaims: readonly ClaimPath[];
  readonly tenantClaim: ClaimPath | undefined;
}

/** What an issuer's options may change of its profile; absent: the profile's. */
export interface IssuerPolicyOverrides {
  readonly audiences: readonly string[];
  /** `null`: a header without `typ`. */
  readonly tokenTypes?: readonly (string | null)[];
  readonly requiredClaims?: readonly string[];
  readonly scopeClaims?: readonly string[];
  /** `null`: the issuer's tokens name no tenant. */
  readonly tenantClaim?: string | null;
}

/** The policy of an issuer of profile `name`, with its overrides. */
export function issuerPolicy(
  name: IssuerProfileName,
  overrides: IssuerPolicyOverrides,
): IssuerPolicy {
  const profile = ISSUER_PROFILES[name];
  const types = overrides.tokenTypes ?? profile.tokenTypes;
  const tenant = overrides.tenantClaim === undefined ? profile.tenantClaim : overrides.tenantClaim;
  return Object.freeze({
    profile: name,
    tokenTypes: new Set(types.filter((t): t is string => t !== null).map(normalizeTyp)),
    untyped: types.includes(null),
    requiredClaims: (overrides.requiredClaims ?? profile.requiredClaims).map((claim) => ({
      name: claim,
      kind: claimKind(claim),
    })),
    tokenTypeClaims: profile.tokenTypeClaims,
    idTokenClaims: profile.idTokenClaims,
    audienceClaim: profile.audienceClaim,
    audiences: new Set(overrides.audiences),
    scopeClaims: overrides.scopeClaims?.map(claimPath) ?? profile.scopeClaims(overrides.audiences),
    tenantClaim:
      tenant === null
        ? undefined
        : overrides.tenantClaim === undefined
          ? nestedClaimPath(tenant)
          : claimPath(tenant),
  });
}

/**
 * The value at `path` in `claims`, reading only own members: `constructor`, `__proto__` and
 * `toString` are claims like any other, never what every object inherits.
 */
export function claimAt(claims: object, path: ClaimPath): unknown {
  if (path.written !== undefined && Object.hasOwn(claims, path.written)) {
    return (claims as Record<string, unknown>)[path.written];
  }
  let value: unknown = claims;
  for (const name of path.names) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, name)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}
