import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TestIssuer } from 'nest-tessera/testing';
import request from 'supertest';
import { AppModule } from './app.module.js';

describe('GET /orders', () => {
  const issuer = TestIssuer.create({ audience: 'orders-api' });
  let app: INestApplication;

  beforeAll(async () => {
    // The one line: AppModule's AuthModule trusts `issuer` instead of its production issuer.
    const builder = issuer.override(Test.createTestingModule({ imports: [AppModule] }));
    app = (await builder.compile()).createNestApplication();
    await app.init();
  });
  afterAll(() => app.close());

  const get = (token: string) =>
    request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`);

  it('answers a token with the scope', async () => {
    const token = issuer.token({ sub: 'alice', scope: 'orders:read' });
    await get(token).expect(200, { owner: 'alice', orders: [] });
  });

  it('refuses a token without the scope with 403', async () => {
    await get(issuer.token({ scope: 'orders:create' })).expect(403);
  });

  it('refuses an expired token, another audience and a header typ JWT with 401', async () => {
    await get(issuer.token({ scope: 'orders:read' }, { expiresIn: -60 })).expect(401);
    await get(issuer.token({ scope: 'orders:read', aud: 'billing-api' })).expect(401);
    await get(issuer.token({ scope: 'orders:read' }, { header: { typ: 'JWT' } })).expect(401);
  });
});

describe('GET /orders against a served issuer', () => {
  let issuer: TestIssuer;
  let app: INestApplication;

  beforeAll(async () => {
    issuer = await TestIssuer.serve({ audience: 'orders-api' });
    // Options laid over the app's: no cooldown between two JWKS fetches, for the rotation below.
    const builder = issuer.override(Test.createTestingModule({ imports: [AppModule] }), {
      jwks: { cooldownSeconds: 0 },
    });
    app = (await builder.compile()).createNestApplication();
    await app.init();
  });
  afterAll(async () => {
    await app.close();
    await issuer.close();
  });

  it('fetches the JWKS again for a key it does not know yet', async () => {
    const get = (token: string) =>
      request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`);
    await get(issuer.token({ scope: 'orders:read' })).expect(200);
    const fetches = issuer.jwksRequests;
    issuer.rotate();
    await get(issuer.token({ scope: 'orders:read' })).expect(200);
    expect(issuer.jwksRequests).toBe(fetches + 1);
  });
});

describe('tokens shaped as a provider emits them', () => {
  const keycloak = TestIssuer.create({ profile: 'keycloak', audience: 'orders-api' });
  const claims = (token: string) =>
    JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

  it('mints access, ID and refresh tokens of a Keycloak realm', () => {
    const access = keycloak.token({ realm_access: { roles: ['orders:read'] } });
    expect(claims(access)).toMatchObject({ typ: 'Bearer', azp: 'test-client' });
    expect(claims(keycloak.idToken())).toMatchObject({ typ: 'ID' });
    expect(claims(keycloak.refreshToken())).toMatchObject({ typ: 'Refresh' });
  });
});
