import { describe, expect, it } from '@jest/globals';
import { InvalidTokenError } from '../errors/auth-errors.js';
import type { TrustedIssuerOptions } from '../options/auth-options.js';
import { createTokenVerifier } from '../options/create-token-verifier.js';
import { resolveAuthOptions } from '../options/resolve-auth-options.js';
import { forge, makeKey } from '../../test/support/keys.js';
import type { IssuerProfileName } from './issuer-profile.js';
import type { Principal } from './principal.js';
import type { TokenVerifier } from './token-verifier.js';

const NOW = 1_700_000_000;
const ISSUER = 'https://idp.test';
const AUDIENCE = 'orders-api';
const KEY = makeKey('ES256');

type IssuerOverrides = Omit<TrustedIssuerOptions, 'issuer' | 'keys'>;

function verifierFor(issuer: IssuerOverrides): TokenVerifier {
  return createTokenVerifier(
    resolveAuthOptions({
      issuers: [{ issuer: ISSUER, keys: [KEY.publicJwk], ...issuer }],
      audience: AUDIENCE,
      now: () => NOW,
    }),
  );
}

/** A token signed by the issuer's key; `typ: undefined` leaves `typ` out of the header. */
function token(typ: string | undefined, claims: Record<string, unknown>): string {
  return forge(
    { alg: KEY.alg, kid: KEY.kid, typ },
    { iss: ISSUER, exp: NOW + 300, ...claims },
    {
      key: KEY,
    },
  );
}

async function outcome(v: TokenVerifier, t: string): Promise<Principal | string> {
  try {
    return await v.verify(t);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTokenError);
    return (error as InvalidTokenError).reason;
  }
}

/** Each provider's access token as it looks on the wire (trimmed to what is read). */
const SHAPES: Record<
  Exclude<IssuerProfileName, 'rfc9068'>,
  { typ?: string; claims: Record<string, unknown> }
> = {
  keycloak: {
    typ: 'JWT',
    claims: {
      sub: 'u-1',
      aud: [AUDIENCE, 'account'],
      iat: NOW,
      jti: 'kc-1',
      typ: 'Bearer',
      azp: 'orders-web',
      sid: 'kc-session',
      scope: 'openid orders:read',
      realm_access: { roles: ['orders:admin'] },
      resource_access: {
        [AUDIENCE]: { roles: ['orders:create', 'orders:read'] },
        account: { roles: ['manage-account'] },
      },
    },
  },
  auth0: {
    typ: 'JWT',
    claims: {
      sub: 'auth0|u-1',
      aud: [AUDIENCE, 'https://idp.test/userinfo'],
      iat: NOW,
      scope: 'orders:read',
      permissions: ['orders:read', 'orders:create'],
      org_id: 'org_1',
    },
  },
  entra: {
    typ: 'JWT',
    claims: {
      sub: 'entra-sub',
      aud: AUDIENCE,
      iat: NOW,
      tid: 'entra-tenant',
      ver: '2.0',
      uti: 'uti-1',
      scp: 'orders.read orders.create',
      roles: ['Orders.Admin'],
    },
  },
  cognito: {
    claims: {
      sub: 'c-1',
      client_id: AUDIENCE,
      token_use: 'access',
      iat: NOW,
      jti: 'cg-1',
      scope: 'orders/read',
      'cognito:groups': ['admins'],
    },
  },
  okta: {
    claims: { sub: 'o-1', aud: AUDIENCE, iat: NOW, jti: 'ok-1', scp: ['orders:read'], cid: 'x' },
  },
  generic: { claims: { sub: 'g-1', aud: AUDIENCE, scope: 'a b', scp: ['b', 'c'], tid: 't-1' } },
};

describe('issuer profiles', () => {
  it.each([
    {
      profile: 'keycloak',
      scopes: ['openid', 'orders:read', 'orders:admin', 'orders:create'],
      tenant: undefined,
    },
    { profile: 'auth0', scopes: ['orders:read', 'orders:create'], tenant: 'org_1' },
    {
      profile: 'entra',
      scopes: ['orders.read', 'orders.create', 'Orders.Admin'],
      tenant: 'entra-tenant',
    },
    { profile: 'cognito', scopes: ['orders/read', 'admins'], tenant: undefined },
    { profile: 'okta', scopes: ['orders:read'], tenant: undefined },
    { profile: 'generic', scopes: ['a', 'b', 'c'], tenant: 't-1' },
  ] as const)(
    '$profile: accepts its access token, scopes and tenant as its table row says',
    async ({ profile, scopes, tenant }) => {
      const shape = SHAPES[profile];
      const principal = await verifierFor({ profile }).verify(
        token(shape.typ, { ...shape.claims }),
      );
      expect(principal.scopes).toEqual(scopes);
      expect(principal.tenant).toBe(tenant);
    },
  );

  it('keycloak: client roles only of the accepted audiences, not of another client', async () => {
    const { claims } = SHAPES.keycloak;
    const principal = await verifierFor({ profile: 'keycloak' }).verify(token('JWT', claims));
    expect(principal.scopes).not.toContain('manage-account');
    const other = await verifierFor({ profile: 'keycloak', audience: 'account' }).verify(
      token('JWT', claims),
    );
    expect(other.scopes).toContain('manage-account');
    expect(other.scopes).not.toContain('orders:create');
  });

  it('shares one frozen list of scopes among tokens whose scope claims say the same', async () => {
    const v = verifierFor({ profile: 'keycloak' });
    const scopesOf = async (jti: string) =>
      (await v.verify(token('JWT', { ...SHAPES.keycloak.claims, jti }))).scopes;
    const first = await scopesOf('kc-a');
    expect(await scopesOf('kc-b')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('generic: no iat and no jti — issued at 0, named by its signed part', async () => {
    const v = verifierFor({ profile: 'generic' });
    const first = await v.verify(token(undefined, SHAPES.generic.claims));
    expect(first.issuedAt).toBe(0);
    expect(first.tokenId).toMatch(/^#[A-Za-z0-9_-]{43}$/);
    const second = await v.verify(token(undefined, { ...SHAPES.generic.claims, sub: 'g-2' }));
    expect(second.tokenId).not.toBe(first.tokenId);
  });

  it('names a token without jti by what is signed: a respelt ECDSA signature is the same token', async () => {
    const v = verifierFor({ profile: 'auth0' });
    const original = token('JWT', SHAPES.auth0.claims);
    // (r, s) and (r, n - s) both verify: another string, the same signed token.
    const [input, signature] = [
      original.slice(0, original.lastIndexOf('.')),
      Buffer.from(original.slice(original.lastIndexOf('.') + 1), 'base64url'),
    ];
    const n = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');
    const s = BigInt(`0x${signature.subarray(32).toString('hex')}`);
    const flipped = Buffer.concat([
      signature.subarray(0, 32),
      Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex'),
    ]);
    const respelt = `${input}.${flipped.toString('base64url')}`;
    expect(respelt).not.toBe(original);
    const a = await v.verify(original);
    const b = await v.verify(respelt);
    expect(b).not.toBe(a);
    expect(b.tokenId).toBe(a.tokenId);
  });
});

describe('token-type confusion is refused, whatever the signature', () => {
  it.each([
    { name: 'rfc9068 given typ JWT', profile: 'rfc9068', typ: 'JWT', reason: 'typ_mismatch' },
    { name: 'rfc9068 given no typ', profile: 'rfc9068', typ: undefined, reason: 'typ_mismatch' },
    {
      name: 'keycloak ID token',
      profile: 'keycloak',
      claims: { typ: 'ID', aud: AUDIENCE },
      reason: 'typ_mismatch',
    },
    {
      name: 'keycloak refresh token',
      profile: 'keycloak',
      claims: { typ: 'Refresh', aud: AUDIENCE },
      reason: 'typ_mismatch',
    },
    {
      name: 'keycloak token without payload typ',
      profile: 'keycloak',
      claims: { typ: undefined },
      reason: 'typ_mismatch',
    },
    {
      name: 'keycloak token typed at+jwt',
      profile: 'keycloak',
      typ: 'at+jwt',
      reason: 'typ_mismatch',
    },
    {
      name: 'cognito ID token (aud is the client)',
      profile: 'cognito',
      claims: { token_use: 'id', aud: AUDIENCE, client_id: undefined },
      reason: 'missing_claim',
    },
    {
      name: 'cognito ID token that also names the client',
      profile: 'cognito',
      claims: { token_use: 'id' },
      reason: 'typ_mismatch',
    },
    {
      name: 'cognito token of another client',
      profile: 'cognito',
      claims: { client_id: 'other-client' },
      reason: 'audience_mismatch',
    },
    {
      name: 'cognito token whose aud names the client but client_id another',
      profile: 'cognito',
      claims: { client_id: 'other-client', aud: AUDIENCE },
      reason: 'audience_mismatch',
    },
    {
      name: 'entra v1.0 token at a v2.0 entry',
      profile: 'entra',
      claims: { ver: '1.0' },
      reason: 'typ_mismatch',
    },
    {
      name: 'entra token without ver',
      profile: 'entra',
      claims: { ver: undefined },
      reason: 'missing_claim',
    },
    {
      name: 'entra token with ver 2 as a number',
      profile: 'entra',
      claims: { ver: 2 },
      reason: 'missing_claim',
    },
    {
      name: 'entra token without tid',
      profile: 'entra',
      claims: { tid: undefined },
      reason: 'missing_claim',
    },
    ...(['keycloak', 'auth0', 'entra', 'okta', 'generic'] as const).map((profile) => ({
      name: `${profile} token for another audience`,
      profile,
      claims: { aud: 'billing-api' },
      reason: 'audience_mismatch',
    })),
    ...(['keycloak', 'auth0', 'entra', 'okta', 'generic'] as const).map((profile) => ({
      name: `${profile} token without aud`,
      profile,
      claims: { aud: undefined },
      reason: 'missing_claim',
    })),
    {
      name: 'okta token without jti',
      profile: 'okta',
      claims: { jti: undefined },
      reason: 'missing_claim',
    },
  ] as const)('$name → $reason', async (row) => {
    const profile: IssuerProfileName = row.profile;
    const shape =
      profile === 'rfc9068'
        ? { typ: 'at+jwt', claims: { sub: 'u', aud: AUDIENCE, iat: NOW, jti: 'j' } }
        : SHAPES[profile];
    const typ = 'typ' in row ? row.typ : shape.typ;
    const claims = { ...shape.claims, ...('claims' in row ? row.claims : {}) };
    expect(await outcome(verifierFor({ profile }), token(typ, claims))).toBe(row.reason);
    // The same token, its confusion undone, is accepted: the row tests what it says.
    expect(await outcome(verifierFor({ profile }), token(shape.typ, shape.claims))).toMatchObject({
      issuer: ISSUER,
    });
  });
});

describe('claims of the wrong type count as absent', () => {
  it.each([
    { name: 'scp: 42', profile: 'entra', claims: { scp: 42, roles: undefined } },
    {
      name: 'realm_access: "x", resource_access: []',
      profile: 'keycloak',
      claims: { scope: undefined, realm_access: 'x', resource_access: [] },
    },
    { name: 'roles: [1, {}]', profile: 'entra', claims: { scp: undefined, roles: [1, {}] } },
    {
      name: 'permissions: "a b" as an object, scope: null',
      profile: 'auth0',
      claims: { permissions: { a: 'b' }, scope: null },
    },
    {
      name: 'cognito:groups: [["admins"]], scope: ["a b"]',
      profile: 'cognito',
      claims: { 'cognito:groups': [['admins']], scope: ['a b'] },
    },
  ] as const)('$name gives no scope, never an error', async ({ profile, claims }) => {
    const shape = SHAPES[profile];
    const principal = await verifierFor({ profile }).verify(
      token(shape.typ, { ...shape.claims, ...claims }),
    );
    expect(principal.scopes).toEqual([]);
  });

  it.each([
    { name: 'iat as a string', claims: { iat: String(NOW) } },
    { name: 'jti as a number', claims: { jti: 42 } },
    { name: 'aud as [1]', claims: { aud: [1] } },
    { name: 'aud as an empty array', claims: { aud: [] } },
    { name: 'sub as an object', claims: { sub: { id: 'u' } } },
    { name: 'exp as a string', claims: { exp: String(NOW + 300) } },
  ])('a required claim of the wrong type ($name) is missing_claim', async ({ claims }) => {
    const t = forge(
      { alg: KEY.alg, kid: KEY.kid, typ: 'at+jwt' },
      { iss: ISSUER, sub: 'u', aud: AUDIENCE, exp: NOW + 300, iat: NOW, jti: 'j', ...claims },
      { key: KEY },
    );
    expect(await outcome(verifierFor({}), t)).toBe('missing_claim');
  });

  it('a tenant claim of the wrong type is no tenant', async () => {
    const shape = SHAPES.generic;
    const principal = await verifierFor({ profile: 'generic' }).verify(
      token(undefined, { ...shape.claims, tid: ['t-1'] }),
    );
    expect(principal.tenant).toBeUndefined();
  });
});

describe('claim paths read only the token’s own members', () => {
  const base = { sub: 'u', aud: AUDIENCE };
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'scopeClaims: [%s] on a token without it gives no scope, with it as a member gives its value',
    async (name) => {
      const v = verifierFor({ profile: 'generic', scopeClaims: [name], tenantClaim: name });
      const without = await v.verify(token(undefined, base));
      expect(without.scopes).toEqual([]);
      expect(without.tenant).toBeUndefined();
      // JSON.parse makes `"__proto__"` an own member, as every other name.
      const payload = `{"iss":"${ISSUER}","exp":${NOW + 300},"sub":"u","aud":"${AUDIENCE}","${name}":"x:read"}`;
      const withIt = await v.verify(forge({ alg: KEY.alg, kid: KEY.kid }, payload, { key: KEY }));
      expect(withIt.scopes).toEqual(['x:read']);
      expect(withIt.tenant).toBe('x:read');
    },
  );

  it('a path with dots reads a member of that very name first (namespaced claims)', async () => {
    const v = verifierFor({
      profile: 'auth0',
      scopeClaims: ['https://shop.example.com/roles', 'ext.perms'],
      tenantClaim: 'https://shop.example.com/tenant',
    });
    const principal = await v.verify(
      token('JWT', {
        ...SHAPES.auth0.claims,
        'https://shop.example.com/roles': ['orders:admin'],
        'https://shop.example.com/tenant': 'shop-1',
        ext: { perms: 'orders:read' },
      }),
    );
    expect(principal.scopes).toEqual(['orders:admin', 'orders:read']);
    expect(principal.tenant).toBe('shop-1');
  });

  it('a profile’s own dotted path reads nesting only: a top-level member with the dots is not it', async () => {
    const shape = SHAPES.keycloak;
    const principal = await verifierFor({ profile: 'keycloak' }).verify(
      token(shape.typ, {
        ...shape.claims,
        scope: undefined,
        resource_access: undefined,
        'realm_access.roles': ['orders:delete'],
        realm_access: { roles: ['x'] },
      }),
    );
    expect(principal.scopes).toEqual(['x']);
  });

  it('nested paths read own members at every level', async () => {
    const v = verifierFor({ profile: 'generic', scopeClaims: ['a.constructor.name', 'b.c'] });
    const principal = await v.verify(token(undefined, { ...base, a: {}, b: { c: ['ok'] } }));
    expect(principal.scopes).toEqual(['ok']);
  });
});

describe('per-issuer overrides', () => {
  const claims = { sub: 'u', aud: 'own-api', iat: NOW, jti: 'j', scope: 'a', tid: 't' };

  it('audience: replaces the module’s for this issuer only', async () => {
    const v = verifierFor({ audience: ['own-api'] });
    expect(await outcome(v, token('at+jwt', claims))).toMatchObject({ subject: 'u' });
    expect(await outcome(v, token('at+jwt', { ...claims, aud: AUDIENCE }))).toBe(
      'audience_mismatch',
    );
  });

  it('tokenTypes: replaces the profile’s; null accepts a header without typ', async () => {
    const v = verifierFor({ audience: 'own-api', tokenTypes: ['at+jwt', null] });
    expect(await outcome(v, token(undefined, claims))).toMatchObject({ subject: 'u' });
    expect(await outcome(v, token('JWT', claims))).toBe('typ_mismatch');
    const jwtOnly = verifierFor({ audience: 'own-api', tokenTypes: ['JWT'] });
    expect(await outcome(jwtOnly, token('jwt', claims))).toMatchObject({ subject: 'u' });
    expect(await outcome(jwtOnly, token(undefined, claims))).toBe('typ_mismatch');
  });

  it('requiredClaims: replaces the profile’s, never the audience check', async () => {
    const v = verifierFor({ audience: 'own-api', requiredClaims: ['tid'] });
    expect(
      await outcome(v, token('at+jwt', { ...claims, jti: undefined, iat: undefined })),
    ).toMatchObject({
      subject: 'u',
    });
    expect(await outcome(v, token('at+jwt', { ...claims, tid: undefined }))).toBe('missing_claim');
    expect(await outcome(v, token('at+jwt', { ...claims, aud: undefined }))).toBe(
      'audience_mismatch',
    );
  });

  it.each([
    { name: 'exp', value: NOW + 300, wrong: String(NOW + 300) },
    { name: 'permissions', value: [], wrong: null },
    { name: 'email_verified', value: false, wrong: null },
    { name: 'ext', value: { a: 1 }, wrong: undefined },
  ])(
    'requiredClaims: [$name] accepts its value ($value) and refuses a token without it',
    async ({ name, value, wrong }) => {
      const v = verifierFor({ audience: 'own-api', requiredClaims: [name] });
      expect(await outcome(v, token('at+jwt', { ...claims, [name]: value }))).toMatchObject({
        subject: 'u',
      });
      expect(await outcome(v, token('at+jwt', { ...claims, [name]: wrong }))).toBe('missing_claim');
    },
  );

  it('scopeClaims and tenantClaim replace the profile’s; tenantClaim null reads none', async () => {
    const v = verifierFor({
      audience: 'own-api',
      scopeClaims: ['ext.perms', 'scope'],
      tenantClaim: 'org.id',
    });
    const p = await v.verify(
      token('at+jwt', { ...claims, ext: { perms: ['b', 'a'] }, org: { id: 'o-1' } }),
    );
    expect(p.scopes).toEqual(['b', 'a']);
    expect(p.tenant).toBe('o-1');
    const none = await verifierFor({ audience: 'own-api', tenantClaim: null }).verify(
      token('at+jwt', claims),
    );
    expect(none.tenant).toBeUndefined();
  });
});
