import { randomBytes, randomUUID } from 'node:crypto';
import type { SigningAlgorithm } from '../keys/algorithms.js';
import type { HeaderFields } from './test-keys.js';

/**
 * Whose tokens a `TestIssuer` mints: the profile names of `TrustedIssuerOptions.profile`, each
 * minting what that provider really emits.
 */
export type TestIssuerProfile =
  'rfc9068' | 'keycloak' | 'auth0' | 'entra' | 'cognito' | 'okta' | 'generic';

/**
 * Which of a provider's JWTs is minted. ID tokens are those of a sign-in whose request sent a
 * `nonce` (as the providers' own SDKs do), so they carry it.
 */
export type TestTokenKind = 'access' | 'id' | 'refresh';

/** What one token's shape is built from. */
export interface ShapeContext {
  readonly issuer: string;
  /** The issuer's audience; for Cognito, the app client id. */
  readonly audience: string | readonly string[];
  readonly iat: number;
  readonly exp: number;
  /** Entra only: the token format version. */
  readonly version: '1.0' | '2.0';
}

/** A token before it is signed. */
export interface TokenShape {
  readonly header: HeaderFields;
  readonly claims: Record<string, unknown>;
}

type Shaper = (context: ShapeContext) => TokenShape;

/** How one provider's tokens look, and what a test issuer of it starts with. */
export interface ProviderShape {
  readonly issuer: string;
  readonly audience: string | readonly string[];
  readonly alg: SigningAlgorithm;
  readonly access: Shaper;
  readonly id: Shaper;
  /** Absent where the provider's refresh tokens are not signed JWTs. */
  readonly refresh?: Shaper;
  /** Why there is no `refresh`. */
  readonly noRefresh?: string;
}

const CLIENT_ID = 'test-client';
const USER = { name: 'Test User', given_name: 'Test', family_name: 'User' };
const EMAIL = 'test.user@example.com';
const opaque = (bytes: number): string => randomBytes(bytes).toString('base64url');
const jwt = { typ: 'JWT' } as const;
const noTyp = { typ: null } as const;

const KEYCLOAK_SUB = '5f0c3a8e-2b7d-4c1e-9a64-0d7e3b2f1c90';
const ENTRA_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const ENTRA_CLIENT = '3f1c9e0a-5b2d-4e7f-8a6c-1d9b0e4f2a73';
const ENTRA_OID = '9c2b7d4e-1f3a-4b8c-a5d6-e7f0a1b2c3d4';
const COGNITO_SUB = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
const OKTA_UID = '00u1a2b3c4d5e6f7g8h9';
const OKTA_CLIENT = '0oa1b2c3d4e5f6g7h8i9';

const keycloakSession = () => {
  const sid = randomUUID();
  return { sid, session_state: sid };
};

/** The first audience, for providers whose `aud` of an ID token is the client's id. */
const first = (audience: string | readonly string[]): string =>
  typeof audience === 'string' ? audience : (audience[0] ?? '');

/** `iss` followed by a path segment, whether or not `iss` ends in a slash (Auth0's does). */
const under = (issuer: string, path: string): string => `${issuer.replace(/\/$/, '')}/${path}`;

export const PROVIDER_SHAPES: Readonly<Record<TestIssuerProfile, ProviderShape>> = {
  rfc9068: {
    issuer: 'https://issuer.test',
    audience: 'api',
    alg: 'ES256',
    access: ({ issuer, audience, iat, exp }) => ({
      header: { typ: 'at+jwt' },
      claims: {
        iss: issuer,
        sub: 'test-user',
        aud: audience,
        iat,
        exp,
        jti: randomUUID(),
        client_id: CLIENT_ID,
      },
    }),
    id: ({ issuer, iat, exp }) => ({
      header: jwt,
      claims: {
        iss: issuer,
        sub: 'test-user',
        aud: CLIENT_ID,
        iat,
        exp,
        auth_time: iat,
        nonce: opaque(16),
      },
    }),
    noRefresh: 'refresh tokens of an RFC 9068 issuer are opaque',
  },

  generic: {
    issuer: 'https://issuer.test',
    audience: 'api',
    alg: 'ES256',
    access: ({ issuer, audience, iat, exp }) => ({
      header: jwt,
      claims: { iss: issuer, sub: 'test-user', aud: audience, iat, exp },
    }),
    id: ({ issuer, iat, exp }) => ({
      header: jwt,
      claims: {
        iss: issuer,
        sub: 'test-user',
        aud: CLIENT_ID,
        iat,
        exp,
        auth_time: iat,
        nonce: opaque(16),
      },
    }),
    noRefresh: 'refresh tokens of a generic issuer are opaque',
  },

  keycloak: {
    issuer: 'https://keycloak.test/realms/test',
    audience: 'account',
    alg: 'RS256',
    // An access token names the clients whose roles it carries; an audience mapper adds more.
    access: ({ issuer, audience, iat, exp }) => ({
      header: jwt,
      claims: {
        exp,
        iat,
        auth_time: iat,
        jti: randomUUID(),
        iss: issuer,
        aud: audience === 'account' ? 'account' : [audience, 'account'].flat(),
        sub: KEYCLOAK_SUB,
        typ: 'Bearer',
        azp: CLIENT_ID,
        ...keycloakSession(),
        acr: '1',
        'allowed-origins': ['http://localhost:3000'],
        realm_access: { roles: ['default-roles-test', 'offline_access', 'uma_authorization'] },
        resource_access: {
          account: { roles: ['manage-account', 'manage-account-links', 'view-profile'] },
        },
        scope: 'openid profile email',
        email_verified: true,
        ...USER,
        preferred_username: 'test-user',
        email: EMAIL,
      },
    }),
    id: ({ issuer, iat, exp }) => ({
      header: jwt,
      claims: {
        exp,
        iat,
        auth_time: iat,
        jti: randomUUID(),
        iss: issuer,
        aud: CLIENT_ID,
        sub: KEYCLOAK_SUB,
        typ: 'ID',
        azp: CLIENT_ID,
        nonce: opaque(16),
        ...keycloakSession(),
        at_hash: opaque(16),
        acr: '1',
        email_verified: true,
        ...USER,
        preferred_username: 'test-user',
        email: EMAIL,
      },
    }),
    // Keycloak signs these with the realm's HMAC key; here the issuer's key signs them, so that
    // only the payload's `typ` tells a verifier what they are.
    refresh: ({ issuer, iat, exp }) => ({
      header: jwt,
      claims: {
        exp,
        iat,
        jti: randomUUID(),
        iss: issuer,
        aud: issuer,
        sub: KEYCLOAK_SUB,
        typ: 'Refresh',
        azp: CLIENT_ID,
        ...keycloakSession(),
        scope: 'openid profile email',
      },
    }),
  },

  auth0: {
    issuer: 'https://test-tenant.auth0.test/',
    audience: 'https://api.test',
    alg: 'RS256',
    // A user's token from the authorization-code flow with `openid`: the API and `/userinfo`.
    access: ({ issuer, audience, iat, exp }) => ({
      header: jwt,
      claims: {
        iss: issuer,
        sub: 'auth0|64f1c2d3e4b5a6978812ab34',
        aud: [audience, under(issuer, 'userinfo')].flat(),
        iat,
        exp,
        scope: 'openid profile email',
        azp: CLIENT_ID,
        permissions: [],
      },
    }),
    id: ({ issuer, iat, exp }) => ({
      header: jwt,
      claims: {
        nickname: 'test.user',
        name: EMAIL,
        picture: 'https://s.gravatar.com/avatar/0?s=480',
        updated_at: new Date(iat * 1000).toISOString(),
        email: EMAIL,
        email_verified: true,
        iss: issuer,
        aud: CLIENT_ID,
        sub: 'auth0|64f1c2d3e4b5a6978812ab34',
        iat,
        exp,
        sid: opaque(24),
        nonce: opaque(16),
      },
    }),
    noRefresh: "Auth0's refresh tokens are opaque",
  },

  entra: {
    issuer: `https://login.microsoftonline.com/${ENTRA_TENANT}/v2.0`,
    audience: ENTRA_CLIENT,
    alg: 'RS256',
    access: (context) => (context.version === '1.0' ? entraV1Access(context) : entraV2(context)),
    id: ({ issuer, iat, exp }) => ({
      header: jwt,
      claims: {
        aud: CLIENT_ID,
        iss: issuer,
        iat,
        nbf: iat,
        exp,
        aio: opaque(48),
        name: USER.name,
        nonce: opaque(16),
        oid: ENTRA_OID,
        preferred_username: EMAIL,
        rh: `0.${opaque(48)}.`,
        sid: randomUUID(),
        sub: opaque(32),
        tid: ENTRA_TENANT,
        uti: opaque(16),
        ver: '2.0',
      },
    }),
    noRefresh: "Entra's refresh tokens are opaque",
  },

  cognito: {
    issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1',
    audience: '1example23456789abcdefghij',
    alg: 'RS256',
    // Cognito's access tokens carry no `aud` and no `typ`: the app client is `client_id`.
    access: ({ issuer, audience, iat, exp }) => ({
      header: noTyp,
      claims: {
        sub: COGNITO_SUB,
        iss: issuer,
        version: 2,
        client_id: first(audience),
        origin_jti: randomUUID(),
        event_id: randomUUID(),
        token_use: 'access',
        scope: 'aws.cognito.signin.user.admin',
        auth_time: iat,
        exp,
        iat,
        jti: randomUUID(),
        username: 'test-user',
      },
    }),
    id: ({ issuer, audience, iat, exp }) => ({
      header: noTyp,
      claims: {
        at_hash: opaque(16),
        sub: COGNITO_SUB,
        email_verified: true,
        iss: issuer,
        'cognito:username': 'test-user',
        origin_jti: randomUUID(),
        aud: first(audience),
        event_id: randomUUID(),
        token_use: 'id',
        nonce: opaque(16),
        auth_time: iat,
        exp,
        iat,
        jti: randomUUID(),
        email: EMAIL,
      },
    }),
    noRefresh: "Cognito's refresh tokens are encrypted (JWE), not signed JWTs",
  },

  okta: {
    issuer: 'https://test.okta.test/oauth2/default',
    audience: 'api://default',
    alg: 'RS256',
    access: ({ issuer, audience, iat, exp }) => ({
      header: noTyp,
      claims: {
        ver: 1,
        jti: `AT.${opaque(32)}`,
        iss: issuer,
        aud: audience,
        iat,
        exp,
        cid: OKTA_CLIENT,
        uid: OKTA_UID,
        scp: ['openid', 'profile'],
        auth_time: iat,
        sub: EMAIL,
      },
    }),
    id: ({ issuer, iat, exp }) => ({
      header: noTyp,
      claims: {
        sub: OKTA_UID,
        name: USER.name,
        email: EMAIL,
        ver: 1,
        iss: issuer,
        aud: OKTA_CLIENT,
        nonce: opaque(16),
        iat,
        exp,
        jti: `ID.${opaque(32)}`,
        amr: ['pwd'],
        idp: '00o1a2b3c4d5e6f7g8h9',
        preferred_username: EMAIL,
        auth_time: iat,
        at_hash: opaque(16),
      },
    }),
    noRefresh: "Okta's refresh tokens are opaque",
  },
};

function entraV2({ issuer, audience, iat, exp }: ShapeContext): TokenShape {
  return {
    header: jwt,
    claims: {
      aud: audience,
      iss: issuer,
      iat,
      nbf: iat,
      exp,
      aio: opaque(48),
      azp: CLIENT_ID,
      azpacr: '0',
      name: USER.name,
      oid: ENTRA_OID,
      preferred_username: EMAIL,
      rh: `0.${opaque(48)}.`,
      scp: 'access_as_user',
      sub: opaque(32),
      tid: ENTRA_TENANT,
      uti: opaque(16),
      ver: '2.0',
    },
  };
}

/**
 * A v1.0 token, as an app whose manifest asks for v1 gets it (`appid`, `upn`, `ver: "1.0"`).
 * Entra's name `https://sts.windows.net/{tid}/` as `iss`; this one names the test issuer, so that
 * only `ver` tells it apart from a v2.0 token.
 */
function entraV1Access({ issuer, audience, iat, exp }: ShapeContext): TokenShape {
  return {
    header: jwt,
    claims: {
      aud: audience,
      iss: issuer,
      iat,
      nbf: iat,
      exp,
      acr: '1',
      aio: opaque(48),
      amr: ['pwd'],
      appid: CLIENT_ID,
      appidacr: '0',
      family_name: USER.family_name,
      given_name: USER.given_name,
      ipaddr: '203.0.113.7',
      name: USER.name,
      oid: ENTRA_OID,
      rh: `0.${opaque(48)}.`,
      scp: 'access_as_user',
      sub: opaque(32),
      tid: ENTRA_TENANT,
      unique_name: EMAIL,
      upn: EMAIL,
      uti: opaque(16),
      ver: '1.0',
    },
  };
}
