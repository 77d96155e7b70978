import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPublicKey, verify } from 'node:crypto';
import { cryptoParams, keyWithParams, type SigningAlgorithm } from '../keys/algorithms.js';
import type { Jwk } from '../keys/jwk.js';
import { TestIssuer } from './test-issuer.js';

const NOW = 1_700_000_000;
const now = () => NOW;

function decode(token: string) {
  const [header, claims] = token
    .split('.')
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
  return { header: header as Record<string, unknown>, claims: claims as Record<string, unknown> };
}

/** Whether `token` verifies with one of `keys` (by its own `kid`, with the key's `alg`). */
function signedBy(token: string, keys: readonly Jwk[], kid: string): boolean {
  const jwk = keys.find((k) => k.kid === kid);
  if (jwk === undefined) return false;
  const alg = jwk.alg as SigningAlgorithm;
  const input = token.slice(0, token.lastIndexOf('.'));
  return verify(
    cryptoParams(alg).digest,
    Buffer.from(input),
    keyWithParams(createPublicKey({ key: jwk, format: 'jwk' }), alg),
    Buffer.from(token.split('.')[2], 'base64url'),
  );
}

const names = (value: object) => Object.keys(value).sort();

describe('TestIssuer profiles: access tokens shaped as each provider emits them', () => {
  // One issuer per profile for the whole file: RSA keys take a while to make.
  const issuers = {
    rfc9068: TestIssuer.create({ now }),
    keycloak: TestIssuer.create({ profile: 'keycloak', audience: 'orders-api', now }),
    auth0: TestIssuer.create({ profile: 'auth0', audience: 'https://orders.test', now }),
    entra: TestIssuer.create({ profile: 'entra', now }),
    cognito: TestIssuer.create({ profile: 'cognito', audience: 'orders-client', now }),
    okta: TestIssuer.create({ profile: 'okta', now }),
    generic: TestIssuer.create({ profile: 'generic', now }),
  };

  it('rfc9068: typ at+jwt, aud, iat, exp, jti, client_id', () => {
    const { header, claims } = decode(issuers.rfc9068.token({ scope: 'a b' }));
    expect(header).toEqual({ alg: 'ES256', kid: issuers.rfc9068.kid, typ: 'at+jwt' });
    expect(claims).toEqual({
      iss: 'https://issuer.test',
      sub: 'test-user',
      aud: 'api',
      iat: NOW,
      exp: NOW + 300,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      client_id: 'test-client',
      scope: 'a b',
    });
  });

  it('keycloak: header typ JWT, payload typ Bearer, azp, roles, sid and session_state', () => {
    const { header, claims } = decode(issuers.keycloak.token());
    expect(header).toEqual({ alg: 'RS256', kid: issuers.keycloak.kid, typ: 'JWT' });
    expect(claims).toMatchObject({
      iss: 'https://keycloak.test/realms/test',
      aud: ['orders-api', 'account'],
      typ: 'Bearer',
      azp: 'test-client',
      iat: NOW,
      exp: NOW + 300,
      auth_time: NOW,
      realm_access: { roles: expect.arrayContaining(['offline_access']) },
      resource_access: { account: { roles: expect.arrayContaining(['view-profile']) } },
      scope: 'openid profile email',
      preferred_username: 'test-user',
    });
    expect(claims.jti).toEqual(expect.any(String));
    expect(claims.sid).toEqual(expect.any(String));
    expect(claims.session_state).toBe(claims.sid);
  });

  it('keycloak with its default audience names only the account client', () => {
    const issuer = TestIssuer.create({ profile: 'keycloak', alg: 'ES256', now });
    expect(decode(issuer.token()).claims.aud).toBe('account');
  });

  it('auth0: aud array with /userinfo, scope, permissions, azp; no jti', () => {
    const { header, claims } = decode(
      issuers.auth0.token({ permissions: ['read:orders'], org_id: 'org_1' }),
    );
    expect(header).toEqual({ alg: 'RS256', kid: issuers.auth0.kid, typ: 'JWT' });
    expect(claims).toEqual({
      iss: 'https://test-tenant.auth0.test/',
      sub: expect.stringMatching(/^auth0\|/),
      aud: ['https://orders.test', 'https://test-tenant.auth0.test/userinfo'],
      iat: NOW,
      exp: NOW + 300,
      scope: 'openid profile email',
      azp: 'test-client',
      permissions: ['read:orders'],
      org_id: 'org_1',
    });
  });

  it('auth0 served: /userinfo under the server URL, without a doubled slash', async () => {
    const served = await TestIssuer.serve({ profile: 'auth0', alg: 'ES256', audience: 'api' });
    try {
      expect(decode(served.token()).claims.aud).toEqual(['api', `${served.issuer}/userinfo`]);
    } finally {
      await served.close();
    }
  });

  it('entra v2: ver 2.0, tid, oid, scp space-separated, azp, uti, rh; no jti', () => {
    const { header, claims } = decode(issuers.entra.token({ roles: ['Orders.Read'] }));
    expect(header).toEqual({ alg: 'RS256', kid: issuers.entra.kid, typ: 'JWT' });
    expect(claims).toMatchObject({
      ver: '2.0',
      iss: expect.stringMatching(/^https:\/\/login\.microsoftonline\.com\/[0-9a-f-]{36}\/v2\.0$/),
      tid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      oid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      scp: 'access_as_user',
      roles: ['Orders.Read'],
      azp: 'test-client',
      azpacr: '0',
      iat: NOW,
      nbf: NOW,
      exp: NOW + 300,
    });
    expect(claims.iss).toBe(`https://login.microsoftonline.com/${String(claims.tid)}/v2.0`);
    expect(claims.uti).toEqual(expect.any(String));
    expect(claims.rh).toEqual(expect.any(String));
    expect(claims).not.toHaveProperty('jti');
  });

  it('entra v1 on request: ver 1.0, appid instead of azp, the same iss', () => {
    const { claims } = decode(issuers.entra.token({}, { version: '1.0' }));
    expect(claims).toMatchObject({ ver: '1.0', appid: 'test-client', iss: issuers.entra.issuer });
    expect(claims).not.toHaveProperty('azp');
  });

  it('cognito: no typ, token_use access, client_id, scope, username, version; no aud', () => {
    const { header, claims } = decode(issuers.cognito.token({ 'cognito:groups': ['sellers'] }));
    expect(header).toEqual({ alg: 'RS256', kid: issuers.cognito.kid });
    expect(claims).toMatchObject({
      iss: expect.stringMatching(/^https:\/\/cognito-idp\.[a-z0-9-]+\.amazonaws\.com\/.+_.+$/),
      token_use: 'access',
      client_id: 'orders-client',
      scope: 'aws.cognito.signin.user.admin',
      'cognito:groups': ['sellers'],
      username: 'test-user',
      version: 2,
      auth_time: NOW,
      iat: NOW,
      exp: NOW + 300,
    });
    expect(claims.jti).toEqual(expect.any(String));
    expect(claims).not.toHaveProperty('aud');
  });

  it('okta: no typ, ver 1, jti AT.…, cid, uid, scp array, aud api://default', () => {
    const { header, claims } = decode(issuers.okta.token());
    expect(header).toEqual({ alg: 'RS256', kid: issuers.okta.kid });
    expect(claims).toMatchObject({
      ver: 1,
      jti: expect.stringMatching(/^AT\./),
      iss: 'https://test.okta.test/oauth2/default',
      aud: 'api://default',
      cid: expect.any(String),
      uid: expect.any(String),
      scp: ['openid', 'profile'],
      iat: NOW,
      exp: NOW + 300,
    });
  });

  it('generic: typ JWT, the registered claims only', () => {
    const { header, claims } = decode(issuers.generic.token());
    expect(header).toEqual({ alg: 'ES256', kid: issuers.generic.kid, typ: 'JWT' });
    expect(names(claims)).toEqual(['aud', 'exp', 'iat', 'iss', 'sub']);
  });

  it.each(Object.entries(issuers).map(([profile, issuer]) => ({ profile, issuer })))(
    '$profile: each token verifies with the published key named by its kid',
    ({ issuer }) => {
      const token = issuer.token();
      expect(signedBy(token, issuer.jwks().keys, issuer.kid)).toBe(true);
    },
  );

  describe('ID and refresh tokens, for confusion tests', () => {
    it('keycloak ID token: payload typ ID, aud the client', () => {
      const { header, claims } = decode(issuers.keycloak.idToken());
      expect(header.typ).toBe('JWT');
      expect(claims).toMatchObject({ typ: 'ID', aud: 'test-client', azp: 'test-client' });
    });

    it('keycloak refresh token: payload typ Refresh, aud the realm', () => {
      const { claims } = decode(issuers.keycloak.refreshToken());
      expect(claims).toMatchObject({ typ: 'Refresh', aud: issuers.keycloak.issuer });
    });

    it('cognito ID token: token_use id, aud the client, no client_id', () => {
      const { header, claims } = decode(issuers.cognito.idToken());
      expect(header).not.toHaveProperty('typ');
      expect(claims).toMatchObject({ token_use: 'id', aud: 'orders-client' });
      expect(claims).not.toHaveProperty('client_id');
    });

    it.each([
      { profile: 'entra', issuer: issuers.entra, kind: 'ver 2.0', check: { ver: '2.0' } },
      { profile: 'okta', issuer: issuers.okta, kind: 'jti ID.…', check: { ver: 1 } },
      { profile: 'auth0', issuer: issuers.auth0, kind: 'aud the client', check: {} },
    ])('$profile ID token ($kind): aud is the client, not the API', ({ issuer, check }) => {
      const { claims } = decode(issuer.idToken());
      expect(claims).toMatchObject(check);
      expect(claims.aud).not.toEqual(issuer.audience);
    });

    it.each(['rfc9068', 'auth0', 'entra', 'cognito', 'okta', 'generic'] as const)(
      '%s: no refresh JWT, and the error says why',
      (profile) => {
        expect(() => issuers[profile].refreshToken()).toThrow(/no refresh token JWT: .+/);
      },
    );

    it('version is refused for profiles other than entra', () => {
      expect(() => issuers.okta.token({}, { version: '1.0' })).toThrow(/entra/);
    });
  });
});

describe('TestIssuer.trusted', () => {
  it('names its keys, and no profile for rfc9068', () => {
    const issuer = TestIssuer.create({ now });
    expect(issuer.trusted).toEqual({ issuer: issuer.issuer, keys: issuer.jwks().keys });
  });

  it("names a provider's profile, and Cognito's client id as its audience", () => {
    const okta = TestIssuer.create({ profile: 'okta', alg: 'ES256' });
    expect(okta.trusted).toMatchObject({ profile: 'okta' });
    expect(okta.trusted).not.toHaveProperty('audience');
    const cognito = TestIssuer.create({ profile: 'cognito', alg: 'ES256', audience: 'app-1' });
    expect(cognito.trusted).toMatchObject({ profile: 'cognito', audience: 'app-1' });
  });
});

describe('TestIssuer overrides', () => {
  const issuer = TestIssuer.create({ now });

  it('lays header members over the profile, null removing one', () => {
    const { header } = decode(issuer.token({}, { header: { typ: 'JWT', kid: null, x5u: 'u' } }));
    expect(header).toEqual({ alg: 'ES256', typ: 'JWT', x5u: 'u' });
  });

  it('names another alg in the header while the key signs with its own', () => {
    const token = issuer.token({}, { header: { alg: 'RS256' } });
    expect(decode(token).header.alg).toBe('RS256');
    expect(signedBy(token, issuer.jwks().keys, issuer.kid)).toBe(true);
  });

  it('drops a claim given as undefined and replaces any other', () => {
    const { claims } = decode(issuer.token({ jti: undefined, aud: ['a', 'b'], sub: 'alice' }));
    expect(claims).not.toHaveProperty('jti');
    expect(claims).toMatchObject({ aud: ['a', 'b'], sub: 'alice' });
  });

  it('refuses a profile it does not know, rather than minting an RFC 9068 token', () => {
    expect(() => TestIssuer.create({ profile: 'azure' as 'entra' })).toThrow(
      /unknown profile azure/,
    );
  });

  it('mints expired tokens with a negative lifetime', () => {
    expect(decode(issuer.token({}, { expiresIn: -60 })).claims.exp).toBe(NOW - 60);
  });

  it('signs with the algorithm it is given', () => {
    const ed = TestIssuer.create({ alg: 'EdDSA', now });
    expect(decode(ed.token()).header.alg).toBe('EdDSA');
    expect(ed.jwks().keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
  });

  it('publishes public members only', () => {
    for (const key of issuer.jwks().keys) {
      expect(names(key)).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    }
  });
});

describe('TestIssuer.serve', () => {
  let issuer: TestIssuer;
  beforeAll(async () => (issuer = await TestIssuer.serve({ audience: 'orders-api' })));
  afterAll(() => issuer.close());

  it('is its own URL on loopback, trusted by its JWKS URL', () => {
    expect(issuer.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(issuer.trusted).toEqual({
      issuer: issuer.issuer,
      jwksUri: `${issuer.issuer}/.well-known/jwks.json`,
    });
    expect(decode(issuer.token()).claims.iss).toBe(issuer.issuer);
  });

  it('serves its JWKS and counts the requests', async () => {
    const before = issuer.jwksRequests;
    const response = await fetch(issuer.jwksUri!);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual(issuer.jwks());
    expect(issuer.jwksRequests).toBe(before + 1);
  });

  it.each(['openid-configuration', 'oauth-authorization-server'])(
    'serves /.well-known/%s naming itself and its JWKS',
    async (name) => {
      const response = await fetch(`${issuer.issuer}/.well-known/${name}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        issuer: issuer.issuer,
        jwks_uri: issuer.jwksUri,
      });
    },
  );

  it('answers 404 elsewhere and 405 to other methods', async () => {
    expect((await fetch(`${issuer.issuer}/keys`)).status).toBe(404);
    const post = await fetch(issuer.jwksUri!, { method: 'POST' });
    expect(post.status).toBe(405);
  });

  it('rotate(): the new key signs, the old stays published', async () => {
    const oldKid = issuer.kid;
    const oldToken = issuer.token();
    const newKid = issuer.rotate();
    expect(newKid).not.toBe(oldKid);
    expect(issuer.kid).toBe(newKid);
    const newToken = issuer.token();
    expect(decode(newToken).header.kid).toBe(newKid);
    const { keys } = (await (await fetch(issuer.jwksUri!)).json()) as { keys: Jwk[] };
    expect(keys.map((k) => k.kid)).toEqual([oldKid, newKid]);
    expect(signedBy(oldToken, keys, oldKid)).toBe(true);
    expect(signedBy(newToken, keys, newKid)).toBe(true);
  });

  it('close() stops it', async () => {
    const other = await TestIssuer.serve();
    await other.close();
    await expect(fetch(other.jwksUri!)).rejects.toThrow();
  });
});
