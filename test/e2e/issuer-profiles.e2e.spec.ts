import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AuthModule, CurrentPrincipal, Scopes, Tenant, type Principal } from 'nest-tessera';
import { ADAPTERS, createHttpApp } from '../support/http-app.js';
import { forge, makeKey, type TestKey } from '../support/keys.js';

// Four issuers of four profiles behind one module: each issuer's tokens are read its way, and its
// other tokens (ID, refresh, v1.0) are 401 invalid_token over HTTP, never a 5xx.

@Controller()
class OrdersController {
  @Scopes('orders:read')
  @Get('orders')
  list(@CurrentPrincipal() principal: Principal) {
    return { scopes: principal.scopes };
  }

  @Scopes('orders:read')
  @Get('tenant')
  tenant(@Tenant() tenant: string) {
    return { tenant };
  }
}

const now = Math.floor(Date.now() / 1000);
const ISSUERS = {
  own: { issuer: 'https://auth.test', key: makeKey('ES256') },
  keycloak: { issuer: 'https://sso.test/realms/shop', key: makeKey('RS256') },
  cognito: { issuer: 'https://cognito-idp.test/pool', key: makeKey('RS256') },
  entra: { issuer: 'https://login.test/tenant/v2.0', key: makeKey('RS256') },
} as const;

function tokenOf(
  { issuer, key }: { issuer: string; key: TestKey },
  typ: string | undefined,
  claims: Record<string, unknown>,
): string {
  return forge(
    { alg: key.alg, kid: key.kid, typ },
    { iss: issuer, sub: 'u-1', exp: now + 300, iat: now, ...claims },
    { key },
  );
}

const keycloak = (claims: Record<string, unknown> = {}) =>
  tokenOf(ISSUERS.keycloak, 'JWT', {
    aud: 'orders-api',
    typ: 'Bearer',
    realm_access: { roles: ['orders:read'] },
    ...claims,
  });
const cognito = (claims: Record<string, unknown> = {}) =>
  tokenOf(ISSUERS.cognito, undefined, {
    client_id: 'app-client',
    token_use: 'access',
    scope: 'orders:read',
    ...claims,
  });
const entra = (claims: Record<string, unknown> = {}) =>
  tokenOf(ISSUERS.entra, 'JWT', {
    aud: 'orders-api',
    ver: '2.0',
    tid: 'dir-1',
    roles: ['orders:read'],
    ...claims,
  });
const own = (typ: string, claims: Record<string, unknown> = {}) =>
  tokenOf(ISSUERS.own, typ, { aud: 'orders-api', jti: 'j-1', scope: 'orders:read', ...claims });

describe.each(ADAPTERS.map((adapter) => ({ adapter })))(
  'issuer profiles on $adapter',
  ({ adapter }) => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await createHttpApp(adapter, {
        imports: [
          AuthModule.forRoot({
            issuers: [
              { issuer: ISSUERS.own.issuer, keys: [ISSUERS.own.key.publicJwk] },
              {
                issuer: ISSUERS.keycloak.issuer,
                keys: [ISSUERS.keycloak.key.publicJwk],
                profile: 'keycloak',
              },
              {
                issuer: ISSUERS.cognito.issuer,
                keys: [ISSUERS.cognito.key.publicJwk],
                profile: 'cognito',
                audience: 'app-client',
              },
              {
                issuer: ISSUERS.entra.issuer,
                keys: [ISSUERS.entra.key.publicJwk],
                profile: 'entra',
              },
            ],
            audience: 'orders-api',
          }),
        ],
        controllers: [OrdersController],
      });
    });
    afterAll(() => app.close());

    const get = (path: string, token: string) =>
      request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);

    it.each([
      { name: 'an RFC 9068 token', token: () => own('at+jwt') },
      { name: 'a Keycloak access token (realm role)', token: () => keycloak() },
      { name: 'a Cognito access token', token: () => cognito() },
      { name: 'an Entra v2.0 token (app role)', token: () => entra() },
    ])('accepts $name and reads its scopes its way', async ({ token }) => {
      const res = await get('/orders', token()).expect(200);
      expect(res.body).toEqual({ scopes: expect.arrayContaining(['orders:read']) });
    });

    it.each([
      { name: 'typ JWT at the RFC 9068 issuer', token: () => own('JWT') },
      { name: 'a Keycloak ID token', token: () => keycloak({ typ: 'ID' }) },
      { name: 'a Keycloak refresh token', token: () => keycloak({ typ: 'Refresh' }) },
      { name: 'a Cognito ID token', token: () => cognito({ token_use: 'id', aud: 'app-client' }) },
      { name: 'a Cognito token of another client', token: () => cognito({ client_id: 'other' }) },
      { name: 'an Entra v1.0 token', token: () => entra({ ver: '1.0' }) },
      { name: 'an Entra token for another audience', token: () => entra({ aud: 'graph' }) },
      {
        name: 'a Keycloak token with a claim of the wrong type',
        token: () => keycloak({ iat: 'x' }),
      },
    ])('refuses $name with 401 invalid_token', async ({ token }) => {
      const res = await get('/orders', token());
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });

    it('a scope claim of the wrong type gives no scope: 403, not a 5xx', async () => {
      const res = await get('/orders', entra({ roles: [1, {}], scp: 42 }));
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toBe(
        'Bearer error="insufficient_scope", scope="orders:read"',
      );
    });

    it("reads each issuer's tenant claim: Entra's tid, none for Keycloak (403)", async () => {
      await get('/tenant', entra()).expect(200, { tenant: 'dir-1' });
      await get('/tenant', keycloak({ tid: 'seller-a' })).expect(403);
    });
  },
);
