import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT, exportJWK } from 'jose';
import * as oauth from 'oauth4webapi';
import { randomUUID, type webcrypto } from 'node:crypto';

type CryptoKeyPair = webcrypto.CryptoKeyPair;
import request from 'supertest';
import { MemoryRevocationStore } from 'nest-tessera';
import { KeyRing } from 'nest-tessera/issuer';
import { createAuthApp } from '../../sample-app/auth/auth-app.js';
import { loadConfig, type HttpAdapterName } from '../../sample-app/config.js';
import { createOrdersApp } from '../../sample-app/orders/orders-app.js';
import { deleteKeys, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';
import { decodeJwt, quiet } from '../support/sample-testing.js';

// DPoP-bound tokens from the sample auth service, obtained and used by a real OAuth client
// library (oauth4webapi): client credentials, refresh, and calls to the orders service.

const ISSUER = 'https://auth.sample.test';
const ALGS = 'algs="ES256 EdDSA RS256 PS256"';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

/** A client's DPoP key pair and the RFC 7638 thumbprint of its public half. */
async function clientKey(): Promise<CryptoKeyPair> {
  return oauth.generateKeyPair('ES256', { extractable: true });
}

/**
 * A proof for a request that oauth4webapi has no call for (the sample's JSON login), made with
 * the same key pair as the library's own proofs.
 */
async function proofFor(keys: CryptoKeyPair, htm: string, htu: string): Promise<string> {
  const jwk = await exportJWK(keys.publicKey);
  return new SignJWT({ htm, htu, jti: randomUUID() })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk })
    .setIssuedAt()
    .sign(keys.privateKey);
}

/** What a resource answered: oauth4webapi throws on a 401 with a challenge, with the answer. */
async function answer(
  call: Promise<Response>,
): Promise<{ status: number; challenge: string | null }> {
  try {
    const response = await call;
    return { status: response.status, challenge: response.headers.get('www-authenticate') };
  } catch (error) {
    if (!(error instanceof oauth.WWWAuthenticateChallengeError)) throw error;
    return { status: error.status, challenge: error.response.headers.get('www-authenticate') };
  }
}

describe.each<HttpAdapterName>(['express', 'fastify'])(
  'DPoP with the sample app on %s',
  (adapter) => {
    const apps: INestApplication[] = [];
    const revocations = new MemoryRevocationStore();
    let authUrl: string;
    let ordersUrl: string;
    let as: oauth.AuthorizationServer;

    async function start(extra: Record<string, string> = {}) {
      const keyRing = KeyRing.ephemeral('ES256');
      const auth = await createAuthApp(loadConfig({ AUTH_ISSUER: ISSUER, ...extra }), {
        adapter,
        logger: quiet,
        keyRing,
        revocations,
      });
      apps.push(auth);
      await auth.listen(0, '127.0.0.1');
      const url = await auth.getUrl();
      const config = loadConfig({
        AUTH_ISSUER: ISSUER,
        ORDERS_JWKS_URLS: `${url}/.well-known/jwks.json`,
        ...extra,
      });
      const orders = await createOrdersApp(config, { adapter, logger: quiet, revocations });
      apps.push(orders);
      await orders.listen(0, '127.0.0.1');
      return { authUrl: url.replace('[::1]', '127.0.0.1'), ordersUrl: await orders.getUrl() };
    }

    beforeAll(async () => {
      ({ authUrl, ordersUrl } = await start());
      const metadata = await request(authUrl).get('/.well-known/oauth-authorization-server');
      // The sample's issuer is a name, not its address here: the endpoints are taken as served.
      as = { ...metadata.body, token_endpoint: `${authUrl}/auth/token` };
    });
    afterAll(async () => {
      for (const app of apps.reverse()) await app.close();
      await revocations.close();
    });

    it('lists the proof algorithms in its metadata', async () => {
      const metadata = await request(authUrl).get('/.well-known/oauth-authorization-server');
      expect(metadata.body.dpop_signing_alg_values_supported).toEqual([
        'ES256',
        'EdDSA',
        'RS256',
        'PS256',
      ]);
    });

    const reportsJob: oauth.Client = { client_id: 'reports-job' };
    const secret = oauth.ClientSecretPost('reports-job-secret');

    async function clientCredentials(keys: CryptoKeyPair): Promise<oauth.TokenEndpointResponse> {
      const DPoP = oauth.DPoP(reportsJob, keys);
      const response = await oauth.clientCredentialsGrantRequest(
        as,
        reportsJob,
        secret,
        {},
        {
          DPoP,
          ...insecure,
        },
      );
      return oauth.processClientCredentialsResponse(as, reportsJob, response);
    }

    const getOrders = (token: string, keys: CryptoKeyPair) =>
      answer(
        oauth.protectedResourceRequest(
          token,
          'GET',
          new URL(`${ordersUrl}/orders`),
          undefined,
          null,
          { DPoP: oauth.DPoP(reportsJob, keys), ...insecure },
        ),
      );

    it('issues a bound client token that works only with proofs by its key', async () => {
      const keys = await clientKey();
      const tokens = await clientCredentials(keys);
      expect(tokens.token_type).toBe('dpop');
      const jwk = await exportJWK(keys.publicKey);
      const { calculateJwkThumbprint } = await import('jose');
      expect(decodeJwt(tokens.access_token).claims.cnf).toEqual({
        jkt: await calculateJwkThumbprint(jwk, 'sha256'),
      });
      const ok = await getOrders(tokens.access_token, keys);
      expect(ok.status).toBe(200);
      const asBearer = await request(ordersUrl)
        .get('/orders')
        .set('Authorization', `Bearer ${tokens.access_token}`);
      expect(asBearer.status).toBe(401);
      expect(asBearer.headers['www-authenticate']).toBe(`DPoP error="invalid_token", ${ALGS}`);
      const otherKey = await getOrders(tokens.access_token, await clientKey());
      expect(otherKey.status).toBe(401);
      expect(otherKey.challenge).toBe(`DPoP error="invalid_token", ${ALGS}`);
    });

    async function login(keys: CryptoKeyPair) {
      const response = await request(authUrl)
        .post('/auth/login')
        .set('DPoP', await proofFor(keys, 'POST', `${authUrl}/auth/login`))
        .send({ username: 'alice', password: 'alice-password' })
        .expect(200);
      const cookie = ([] as string[]).concat(response.headers['set-cookie'] ?? [])[0];
      return {
        access: response.body.access_token as string,
        tokenType: response.body.token_type as string,
        refresh: /refresh_token=([^;]+)/.exec(cookie)![1],
      };
    }

    // The sample's refresh endpoint, as oauth4webapi's refresh grant calls it (a public client).
    const app: oauth.Client = { client_id: 'sample-app' };
    const refreshWith = async (refreshToken: string, keys?: CryptoKeyPair) => {
      const endpoint = { ...as, token_endpoint: `${authUrl}/auth/refresh` };
      return oauth.refreshTokenGrantRequest(endpoint, app, oauth.None(), refreshToken, {
        ...(keys && { DPoP: oauth.DPoP(app, keys) }),
        ...insecure,
      });
    };

    it('binds a session opened with a proof: its refreshes need the same key', async () => {
      const keys = await clientKey();
      const session = await login(keys);
      expect(session.tokenType).toBe('DPoP');
      expect((await getOrders(session.access, keys)).status).toBe(200);

      const response = await refreshWith(session.refresh, keys);
      const endpoint = { ...as, token_endpoint: `${authUrl}/auth/refresh` };
      const refreshed = await oauth.processRefreshTokenResponse(endpoint, app, response);
      expect(refreshed.token_type).toBe('dpop');
      expect(decodeJwt(refreshed.access_token).claims.cnf).toEqual(
        decodeJwt(session.access).claims.cnf,
      );
      expect((await getOrders(refreshed.access_token, keys)).status).toBe(200);
    });

    it.each([{ by: 'another key' }, { by: 'no proof' }])(
      'revokes a bound session refreshed with $by',
      async ({ by }) => {
        const keys = await clientKey();
        const session = await login(keys);
        const refused = await refreshWith(
          session.refresh,
          by === 'another key' ? await clientKey() : undefined,
        );
        expect(refused.status).toBe(401);
        // The session is over: its access token is refused, with its own key's proofs too.
        expect((await getOrders(session.access, keys)).status).toBe(401);
      },
    );

    it('answers an invalid proof at login, refresh and token with 400 and no token', async () => {
      const keys = await clientKey();
      const wrongUrl = await proofFor(keys, 'POST', `${authUrl}/auth/elsewhere`);
      const loginRes = await request(authUrl)
        .post('/auth/login')
        .set('DPoP', wrongUrl)
        .send({ username: 'alice', password: 'alice-password' });
      expect(loginRes.status).toBe(400);
      expect(loginRes.body).toEqual({
        error: 'invalid_dpop_proof',
        error_description: expect.any(String),
      });
      expect(loginRes.headers['set-cookie']).toBeUndefined();
      // A Host carrying a path: the proof's URL must not become this request's.
      const hostPath = await request(authUrl)
        .post('/auth/login')
        .set('Host', `${new URL(authUrl).host}/auth/elsewhere?`)
        .set('DPoP', wrongUrl)
        .send({ username: 'alice', password: 'alice-password' });
      expect(hostPath.status).toBe(400);
      expect(hostPath.body.error).toBe('invalid_dpop_proof');
      expect(hostPath.headers['set-cookie']).toBeUndefined();
      const session = await login(keys);
      const refreshRes = await request(authUrl)
        .post('/auth/refresh')
        .set('DPoP', 'garbage')
        .send({ refresh_token: session.refresh });
      expect(refreshRes.status).toBe(400);
      expect(refreshRes.body.error).toBe('invalid_dpop_proof');
      const tokenRes = await request(authUrl)
        .post('/auth/token')
        .set('DPoP', await proofFor(keys, 'GET', `${authUrl}/auth/token`))
        .type('form')
        .send({
          grant_type: 'client_credentials',
          client_id: 'reports-job',
          client_secret: 'reports-job-secret',
        });
      expect(tokenRes.status).toBe(400);
      expect(tokenRes.body.error).toBe('invalid_dpop_proof');
      expect(tokenRes.body.access_token).toBeUndefined();
    });

    it('renews a bound token only with a proof by its key, and keeps the binding', async () => {
      const keys = await clientKey();
      const session = await login(keys);
      const asBearer = await request(authUrl)
        .post('/auth/renew')
        .set('Authorization', `Bearer ${session.access}`);
      expect(asBearer.status).toBe(401);
      const renewed = await oauth.protectedResourceRequest(
        session.access,
        'POST',
        new URL(`${authUrl}/auth/renew`),
        undefined,
        null,
        { DPoP: oauth.DPoP(app, keys), ...insecure },
      );
      expect(renewed.status).toBe(200);
      const body = (await renewed.json()) as { access_token: string; token_type: string };
      expect(body.token_type).toBe('DPoP');
      expect(decodeJwt(body.access_token).claims.cnf).toEqual(decodeJwt(session.access).claims.cnf);
    });

    it('logs a bound session out with Authorization: DPoP and a proof', async () => {
      const keys = await clientKey();
      const session = await login(keys);
      const logout = (DPoP?: oauth.DPoPHandle) =>
        answer(
          oauth.protectedResourceRequest(
            session.access,
            'POST',
            new URL(`${authUrl}/auth/logout`),
            undefined,
            null,
            { ...(DPoP && { DPoP }), ...insecure },
          ),
        );
      expect((await logout()).status).toBe(401);
      expect((await logout(oauth.DPoP(app, keys))).status).toBe(204);
      expect((await getOrders(session.access, keys)).status).toBe(401);
    });

    it('keeps unbound tokens working as Bearer', async () => {
      const response = await request(authUrl)
        .post('/auth/login')
        .send({ username: 'alice', password: 'alice-password' })
        .expect(200);
      expect(response.body.token_type).toBe('Bearer');
      expect(decodeJwt(response.body.access_token).claims.cnf).toBeUndefined();
      const orders = await request(ordersUrl)
        .get('/orders')
        .set('Authorization', `Bearer ${response.body.access_token}`);
      expect(orders.status).toBe(200);
    });

    it('refuses unbound tokens on orders with DPOP_REQUIRED=true', async () => {
      const required = await start({ DPOP_REQUIRED: 'true' });
      const unbound = await request(required.authUrl)
        .post('/auth/token')
        .type('form')
        .send({
          grant_type: 'client_credentials',
          client_id: 'reports-job',
          client_secret: 'reports-job-secret',
        })
        .expect(200);
      const res = await request(required.ordersUrl)
        .get('/orders')
        .set('Authorization', `Bearer ${unbound.body.access_token}`);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe(`DPoP error="invalid_token", ${ALGS}`);
      // No token at all: bearer tokens are not accepted here, so the challenge is DPoP's alone.
      for (const [method, path] of [
        ['get', '/orders'],
        ['delete', '/orders/whatever'],
      ] as const) {
        const none = await request(required.ordersUrl)[method](path);
        expect(none.status).toBe(401);
        expect(none.headers['www-authenticate']).toBe(`DPoP ${ALGS}`);
      }
      const keys = await clientKey();
      const bound = await clientCredentials(keys);
      expect((await getOrders(bound.access_token, keys)).status).toBe(200);
    });
  },
);

describe('DPoP replay across two orders instances sharing Redis', () => {
  const prefix = uniquePrefix('dpop-replay');
  const apps: INestApplication[] = [];
  const keyRing = KeyRing.ephemeral('ES256');

  afterAll(async () => {
    for (const app of apps.reverse()) await app.close();
    await deleteKeys(prefix);
  });

  it('refuses at one instance a proof the other accepted', async () => {
    const env = { AUTH_ISSUER: ISSUER, REDIS_URL: sharedRedisUrl(), REDIS_KEY_PREFIX: prefix };
    const auth = await createAuthApp(loadConfig(env), {
      adapter: 'express',
      logger: quiet,
      keyRing,
    });
    apps.push(auth);
    await auth.listen(0, '127.0.0.1');
    const authUrl = await auth.getUrl();
    const ordersConfig = loadConfig({
      ...env,
      ORDERS_JWKS_URLS: `${authUrl}/.well-known/jwks.json`,
    });
    const urls: string[] = [];
    for (const adapter of ['express', 'fastify'] as const) {
      const orders = await createOrdersApp(ordersConfig, { adapter, logger: quiet });
      apps.push(orders);
      await orders.listen(0, '127.0.0.1');
      urls.push(await orders.getUrl());
    }
    const keys = await clientKey();
    const jwk = await exportJWK(keys.publicKey);
    const tokenRes = await request(authUrl)
      .post('/auth/token')
      .set('DPoP', await proofFor(keys, 'POST', `${authUrl}/auth/token`))
      .type('form')
      .send({
        grant_type: 'client_credentials',
        client_id: 'reports-job',
        client_secret: 'reports-job-secret',
      })
      .expect(200);
    const token = tokenRes.body.access_token as string;
    const { createHash } = await import('node:crypto');
    // Both instances behind one address: a proof names it, not the instance.
    const proof = await new SignJWT({
      htm: 'GET',
      htu: 'http://orders.sample.test/orders',
      jti: randomUUID(),
      ath: createHash('sha256').update(token).digest('base64url'),
    })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk })
      .setIssuedAt()
      .sign(keys.privateKey);
    const send = (url: string) =>
      request(url)
        .get('/orders')
        .set('Host', 'orders.sample.test')
        .set('Authorization', `DPoP ${token}`)
        .set('DPoP', proof);
    expect((await send(urls[0])).status).toBe(200);
    const replayed = await send(urls[1]);
    expect(replayed.status).toBe(401);
    expect(replayed.headers['www-authenticate']).toBe(`DPoP error="invalid_dpop_proof", ${ALGS}`);
  });
});
