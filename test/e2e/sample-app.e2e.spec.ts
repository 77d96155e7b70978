import type { INestApplication, LoggerService } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { KeyRing, TokenIssuer } from 'nest-tessera/issuer';
import { type SigningAlgorithm } from 'nest-tessera';
import { createAuthApp } from '../../sample-app/auth/auth-app.js';
import { loadConfig, type HttpAdapterName } from '../../sample-app/config.js';
import type { RequestLogEntry } from '../../sample-app/http/request-log.middleware.js';
import { createOrdersApp } from '../../sample-app/orders/orders-app.js';
import { decodeJwt, quiet, reportsJobToken } from '../support/sample-testing.js';

// The issuer is a name; where its keys are fetched from is configured apart (ORDERS_JWKS_URLS).
const ISSUER = 'https://auth.sample.test';
const AUDIENCE = 'orders-api';
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** Keeps the access-log entries; everything else Nest logs is dropped. */
class CapturingLogger implements LoggerService {
  readonly requests: RequestLogEntry[] = [];
  log(message: unknown, ...params: unknown[]): void {
    if (message === 'request') this.requests.push(params[0] as RequestLogEntry);
  }
  error(): void {}
  warn(): void {}
}

const decode = decodeJwt;

// Each adapter runs with another signing algorithm, so both paths see more than one key type.
const CASES: readonly [HttpAdapterName, SigningAlgorithm][] = [
  ['express', 'EdDSA'],
  ['fastify', 'ES256'],
];

describe.each(CASES)('sample app on %s (%s keys)', (adapter, alg) => {
  let auth: INestApplication;
  let orders: INestApplication;
  let authUrl: string;
  let ordersUrl: string;
  let keyRing: KeyRing;
  const ordersLog = new CapturingLogger();
  const tokens: Record<'alice' | 'bob' | 'carol' | 'dave' | 'reportsJob', string> = {} as never;

  const login = (username: string, password: string, extra: object = {}) =>
    request(authUrl)
      .post('/auth/login')
      .send({ username, password, ...extra });
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    keyRing = KeyRing.ephemeral(alg);
    auth = await createAuthApp(loadConfig({ AUTH_ISSUER: ISSUER }), {
      adapter,
      logger: quiet,
      keyRing,
    });
    await auth.listen(0, '127.0.0.1');
    authUrl = await auth.getUrl();
    const config = loadConfig({
      AUTH_ISSUER: ISSUER,
      ORDERS_JWKS_URLS: `${authUrl}/.well-known/jwks.json`,
    });
    orders = await createOrdersApp(config, { adapter, logger: ordersLog });
    await orders.listen(0, '127.0.0.1');
    ordersUrl = await orders.getUrl();

    for (const name of ['alice', 'bob', 'carol', 'dave'] as const) {
      const response = await login(name, `${name}-password`).expect(200);
      tokens[name] = response.body.access_token;
    }
    tokens.reportsJob = await reportsJobToken(authUrl);
  });

  afterAll(async () => {
    await orders?.close();
    await auth?.close();
  });

  describe('discovery', () => {
    it('publishes the public keys only, each with kid, alg and use, and a max-age', async () => {
      const response = await request(authUrl).get('/.well-known/jwks.json').expect(200);
      expect(response.headers['content-type']).toMatch(/json/);
      expect(response.headers['cache-control']).toMatch(/max-age=\d+/);
      expect(response.body.keys).toHaveLength(1);
      for (const jwk of response.body.keys) {
        expect(jwk).toMatchObject({ kid: keyRing.active.kid, alg, use: 'sig' });
        for (const member of PRIVATE_JWK_MEMBERS) expect(jwk).not.toHaveProperty(member);
      }
    });

    it('serves RFC 8414 metadata', async () => {
      const response = await request(authUrl)
        .get('/.well-known/oauth-authorization-server')
        .expect(200);
      expect(response.body).toMatchObject({
        issuer: ISSUER,
        jwks_uri: `${ISSUER}/.well-known/jwks.json`,
        token_endpoint: `${ISSUER}/auth/token`,
        grant_types_supported: ['client_credentials'],
        token_endpoint_auth_methods_supported: expect.arrayContaining([
          'client_secret_post',
          'client_secret_basic',
        ]),
        scopes_supported: ['orders:create', 'orders:delete', 'orders:read'],
      });
    });

    it('answers /health on both services without a token', async () => {
      await request(authUrl).get('/health').expect(200, { status: 'ok' });
      await request(ordersUrl).get('/health').expect(200, { status: 'ok' });
    });
  });

  describe('login', () => {
    it('issues an RFC 9068 access token with the contract claims and nothing else', async () => {
      const response = await login('alice', 'alice-password', { device_id: 'laptop-1' }).expect(
        200,
      );
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 900,
      });
      const { header, claims } = decode(response.body.access_token);
      expect(header).toEqual({ alg, kid: keyRing.active.kid, typ: 'at+jwt' });
      expect(Object.keys(claims).sort()).toEqual(
        ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sid', 'sub', 'tid'].sort(),
      );
      expect(claims).toMatchObject({
        iss: ISSUER,
        sub: 'alice',
        aud: AUDIENCE,
        tid: 'seller-a',
        scope: 'orders:read orders:create orders:delete',
        client_id: 'sample-app',
      });
      expect((claims.exp as number) - (claims.iat as number)).toBe(900);
      expect(claims.sid).not.toBe(decode(tokens.alice).claims.sid);
      expect(claims.jti).not.toBe(decode(tokens.alice).claims.jti);
    });

    it('gives one answer for a wrong password and an unknown user', async () => {
      const wrong = await login('alice', 'bob-password').expect(401);
      const unknown = await login('mallory', 'alice-password').expect(401);
      expect(unknown.body).toEqual(wrong.body);
      expect(wrong.body).not.toHaveProperty('access_token');
      expect(JSON.stringify(wrong.body)).not.toMatch(/alice|mallory|user not|unknown/i);
    });

    it('takes as long for an unknown user as for a wrong password', async () => {
      const median = async (username: string) => {
        const times: number[] = [];
        for (let i = 0; i < 5; i++) {
          const started = performance.now();
          await login(username, 'not-the-password').expect(401);
          times.push(performance.now() - started);
        }
        return times.sort((a, b) => a - b)[2];
      };
      const known = await median('bob');
      const unknown = await median('nobody-by-that-name');
      // Without the decoy scrypt run an unknown user answers some 50 times faster; a loaded
      // machine moves either median by 2-3x, so the bound only tells a decoy from none.
      expect(unknown).toBeGreaterThan(known * 0.15);
    });

    it.each([
      ['no password', { username: 'alice' }],
      ['a number as password', { username: 'alice', password: 42 }],
      ['an empty username', { username: '', password: 'x' }],
      ['an object as username', { username: { $ne: null }, password: 'x' }],
      ['a non-string device_id', { username: 'alice', password: 'alice-password', device_id: 7 }],
      ['an array', [{ username: 'alice', password: 'alice-password' }]],
      ['a password of 2000 characters', { username: 'alice', password: 'x'.repeat(2000) }],
    ])('answers 400 to a body with %s', async (_, body) => {
      await request(authUrl).post('/auth/login').send(body).expect(400);
    });

    it('answers 400 to malformed JSON and 413 to a body over 100 KiB', async () => {
      await request(authUrl)
        .post('/auth/login')
        .set('Content-Type', 'application/json')
        .send('{"username":')
        .expect(400);
      const big = { username: 'alice', password: 'alice-password', filler: 'x'.repeat(101 * 1024) };
      await request(authUrl).post('/auth/login').send(big).expect(413);
    });
  });

  describe('client credentials', () => {
    const grant = {
      grant_type: 'client_credentials',
      client_id: 'reports-job',
      client_secret: 'reports-job-secret',
    };

    it('issues a client token: sub and client_id are the client, tenant bound, no session', () => {
      const { header, claims } = decode(tokens.reportsJob);
      expect(header.typ).toBe('at+jwt');
      expect(claims).toMatchObject({
        iss: ISSUER,
        sub: 'reports-job',
        client_id: 'reports-job',
        tid: 'seller-a',
        scope: 'orders:read',
        aud: AUDIENCE,
      });
      expect(claims).not.toHaveProperty('sid');
    });

    it('accepts a JSON body and HTTP Basic client authentication', async () => {
      const json = await request(authUrl).post('/auth/token').send(grant).expect(200);
      expect(json.body).toMatchObject({
        token_type: 'Bearer',
        expires_in: 900,
        scope: 'orders:read',
      });
      expect(json.headers['cache-control']).toBe('no-store');
      const basic = await request(authUrl)
        .post('/auth/token')
        .type('form')
        .auth('reports-job', 'reports-job-secret')
        .send({ grant_type: 'client_credentials' })
        .expect(200);
      expect(decode(basic.body.access_token).claims.sub).toBe('reports-job');
    });

    it('answers 401 invalid_client alike for a wrong secret and an unknown client', async () => {
      const wrong = await request(authUrl)
        .post('/auth/token')
        .type('form')
        .send({ ...grant, client_secret: 'guess' })
        .expect(401);
      const unknown = await request(authUrl)
        .post('/auth/token')
        .type('form')
        .send({ ...grant, client_id: 'nobody' })
        .expect(401);
      expect(wrong.body).toEqual({ error: 'invalid_client' });
      expect(unknown.body).toEqual({ error: 'invalid_client' });
      expect(wrong.headers['cache-control']).toBe('no-store');
      const basic = await request(authUrl)
        .post('/auth/token')
        .auth('reports-job', 'guess')
        .type('form')
        .send({ grant_type: 'client_credentials' })
        .expect(401);
      expect(basic.headers['www-authenticate']).toMatch(/^Basic /);
    });

    it('answers RFC 6749 §5.2 errors with 400', async () => {
      const post = (body: object) => request(authUrl).post('/auth/token').type('form').send(body);
      expect((await post({ ...grant, grant_type: 'password' }).expect(400)).body).toEqual({
        error: 'unsupported_grant_type',
      });
      expect((await post({ client_id: 'reports-job' }).expect(400)).body.error).toBe(
        'invalid_request',
      );
      expect((await post({ ...grant, scope: 'orders:delete' }).expect(400)).body.error).toBe(
        'invalid_scope',
      );
      const twice =
        'grant_type=client_credentials&client_id=reports-job&client_id=x&client_secret=s';
      expect((await post({}).send(twice).expect(400)).body.error).toBe('invalid_request');
    });
  });

  describe('orders', () => {
    const create = (token: string, body: object = { item: 'book', qty: 2 }) =>
      request(ordersUrl).post('/orders').set(bearer(token)).send(body);

    it('creates, lists, reads and deletes an order in the caller’s tenant', async () => {
      const created = await create(tokens.alice, { item: 'lamp', qty: 3 }).expect(201);
      expect(created.body).toEqual({
        id: expect.any(String),
        tenant: 'seller-a',
        item: 'lamp',
        qty: 3,
      });
      const { id } = created.body;
      const list = await request(ordersUrl).get('/orders').set(bearer(tokens.alice)).expect(200);
      expect(list.body).toContainEqual(created.body);
      await request(ordersUrl)
        .get(`/orders/${id}`)
        .set(bearer(tokens.alice))
        .expect(200, created.body);
      await request(ordersUrl).delete(`/orders/${id}`).set(bearer(tokens.alice)).expect(204);
      await request(ordersUrl).get(`/orders/${id}`).set(bearer(tokens.alice)).expect(404);
      await request(ordersUrl).delete(`/orders/${id}`).set(bearer(tokens.alice)).expect(404);
    });

    it('isolates tenants: another tenant’s order is a 404 and never listed', async () => {
      const alices = (await create(tokens.alice, { item: 'alice-only', qty: 1 }).expect(201)).body;
      const bobs = (await create(tokens.bob, { item: 'bob-only', qty: 1 }).expect(201)).body;
      expect(bobs.tenant).toBe('seller-b');
      await request(ordersUrl).get(`/orders/${alices.id}`).set(bearer(tokens.bob)).expect(404);
      await request(ordersUrl).delete(`/orders/${alices.id}`).set(bearer(tokens.dave)).expect(404);
      await request(ordersUrl)
        .get(`/orders/${alices.id}`)
        .set(bearer(tokens.carol))
        .expect(200, alices);
      const bobList = (await request(ordersUrl).get('/orders').set(bearer(tokens.bob)).expect(200))
        .body;
      expect(bobList).toContainEqual(bobs);
      expect(bobList.every((order: { tenant: string }) => order.tenant === 'seller-b')).toBe(true);
      const aliceList = (
        await request(ordersUrl).get('/orders').set(bearer(tokens.alice)).expect(200)
      ).body;
      expect(aliceList).toContainEqual(alices);
      expect(aliceList.every((order: { tenant: string }) => order.tenant === 'seller-a')).toBe(
        true,
      );
    });

    it('refuses a missing scope with 403 and the scope in the challenge, before any tenant check', async () => {
      const carol = await create(tokens.carol).expect(403);
      expect(carol.headers['www-authenticate']).toBe(
        'Bearer error="insufficient_scope", scope="orders:create"',
      );
      expect(carol.body.error).toBe('insufficient_scope');
      const bobDeletes = await request(ordersUrl)
        .delete('/orders/does-not-exist')
        .set(bearer(tokens.bob))
        .expect(403);
      expect(bobDeletes.headers['www-authenticate']).toBe(
        'Bearer error="insufficient_scope", scope="orders:delete"',
      );
    });

    it('answers 401 with a bare Bearer challenge without a token, and invalid_token for a bad one', async () => {
      const none = await request(ordersUrl).get('/orders').expect(401);
      expect(none.headers['www-authenticate']).toBe('Bearer');
      const missingFirst = await request(ordersUrl).delete('/orders/whatever').expect(401);
      expect(missingFirst.headers['www-authenticate']).toBe('Bearer');
      const garbage = await request(ordersUrl)
        .get('/orders')
        .set(bearer('not.a.token'))
        .expect(401);
      expect(garbage.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });

    it('refuses a token of a key the issuer never published', async () => {
      const impostor = new TokenIssuer({
        issuer: ISSUER,
        audience: AUDIENCE,
        keyRing: KeyRing.ephemeral(alg),
      });
      const token = impostor.issueAccessToken({
        subject: 'alice',
        tenant: 'seller-a',
        scopes: ['orders:read'],
        clientId: 'x',
      }).token;
      const response = await request(ordersUrl).get('/orders').set(bearer(token)).expect(401);
      expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });

    it('refuses a token bound to no tenant with 403 insufficient_scope', async () => {
      const issuer = new TokenIssuer({ issuer: ISSUER, audience: AUDIENCE, keyRing });
      const token = issuer.issueAccessToken({
        subject: 'ops-tool',
        scopes: ['orders:read', 'orders:create'],
        clientId: 'ops-tool',
      }).token;
      const list = await request(ordersUrl).get('/orders').set(bearer(token)).expect(403);
      expect(list.headers['www-authenticate']).toMatch(/^Bearer error="insufficient_scope"/);
      await create(token).expect(403);
    });

    it('lets the reports-job client read its tenant’s orders, and nothing more', async () => {
      const alices = (await create(tokens.alice, { item: 'for-the-report', qty: 5 }).expect(201))
        .body;
      const list = (
        await request(ordersUrl).get('/orders').set(bearer(tokens.reportsJob)).expect(200)
      ).body;
      expect(list).toContainEqual(alices);
      expect(list.every((order: { tenant: string }) => order.tenant === 'seller-a')).toBe(true);
      await create(tokens.reportsJob).expect(403);
    });

    it('reads the token from X-Access-Token and from the JSON body field access_token', async () => {
      await request(ordersUrl).get('/orders').set('X-Access-Token', tokens.alice).expect(200);
      const viaBody = await request(ordersUrl)
        .post('/orders')
        .send({ item: 'carried-in-body', qty: 1, access_token: tokens.alice })
        .expect(201);
      expect(viaBody.body).toEqual({
        id: expect.any(String),
        tenant: 'seller-a',
        item: 'carried-in-body',
        qty: 1,
      });
      // The same token twice is one token.
      await request(ordersUrl)
        .get('/orders')
        .set(bearer(tokens.alice))
        .set('X-Access-Token', tokens.alice)
        .expect(200);
    });

    it('refuses a token in the query string and two different tokens with 400 invalid_request', async () => {
      const query = await request(ordersUrl)
        .get('/orders')
        .query({ access_token: tokens.alice })
        .expect(400);
      expect(query.headers['www-authenticate']).toBe('Bearer error="invalid_request"');
      const queryAndHeader = await request(ordersUrl)
        .get('/orders')
        .set(bearer(tokens.alice))
        .query({ access_token: tokens.alice });
      expect(queryAndHeader.status).toBe(400);
      const two = await request(ordersUrl)
        .get('/orders')
        .set(bearer(tokens.alice))
        .set('X-Access-Token', tokens.bob)
        .expect(400);
      expect(two.body.error).toBe('invalid_request');
      await request(ordersUrl)
        .post('/orders')
        .set(bearer(tokens.alice))
        .send({ item: 'x', qty: 1, access_token: tokens.dave })
        .expect(400);
    });

    it.each([
      ['no item', { qty: 1 }],
      ['an empty item', { item: '', qty: 1 }],
      ['a blank item', { item: '   ', qty: 1 }],
      ['an item of 201 characters', { item: 'x'.repeat(201), qty: 1 }],
      ['a numeric item', { item: 5, qty: 1 }],
      ['qty 0', { item: 'x', qty: 0 }],
      ['a negative qty', { item: 'x', qty: -1 }],
      ['a fractional qty', { item: 'x', qty: 1.5 }],
      ['qty as a string', { item: 'x', qty: '3' }],
      ['qty over 1,000,000', { item: 'x', qty: 1_000_001 }],
      ['an array body', [{ item: 'x', qty: 1 }]],
    ])('answers 400 to an order with %s', async (_, body) => {
      await create(tokens.alice, body as object).expect(400);
    });

    it('accepts the limits themselves: 200 characters, qty 1,000,000', async () => {
      await create(tokens.alice, { item: 'y'.repeat(200), qty: 1_000_000 }).expect(201);
    });

    it('answers 413 to a body over 100 KiB and accepts one just under', async () => {
      const filler = (bytes: number) => ({ item: 'x', qty: 1, filler: 'f'.repeat(bytes) });
      await create(tokens.alice, filler(99 * 1024)).expect(201);
      await create(tokens.alice, filler(101 * 1024)).expect(413);
      await request(ordersUrl)
        .post('/orders')
        .send(filler(200 * 1024))
        .expect(413);
    });

    it.each(['text/plain', 'application/octet-stream', 'application/xml', undefined])(
      'answers 413 to a body over 100 KiB of type %s, as to JSON',
      async (type) => {
        const body = Buffer.alloc(300 * 1024, 'x');
        const send = (test: request.Test) =>
          (type === undefined ? test : test.set('Content-Type', type)).send(body);
        const bearer = `Bearer ${tokens.alice}`;
        await send(request(ordersUrl).post('/orders').set('Authorization', bearer)).expect(413);
        await send(request(ordersUrl).get('/orders').set('Authorization', bearer)).expect(413);
        await send(request(authUrl).post('/auth/login')).expect(413);
      },
    );

    it.each([
      [
        'malformed JSON',
        (r: request.Test) => r.set('Content-Type', 'application/json').send('{"item": "x", '),
      ],
      ['a JSON null', (r: request.Test) => r.set('Content-Type', 'application/json').send('null')],
      [
        'a JSON string',
        (r: request.Test) => r.set('Content-Type', 'application/json').send('"item"'),
      ],
      ['an empty Bearer', (r: request.Test) => r.set('Authorization', 'Bearer ')],
      ['a Bearer with spaces inside', (r: request.Test) => r.set('Authorization', 'Bearer a b c')],
      ['an empty X-Access-Token', (r: request.Test) => r.set('X-Access-Token', '')],
      [
        'a token of 9 KiB',
        (r: request.Test) => r.set('Authorization', `Bearer ${'a'.repeat(9 * 1024)}`),
      ],
      [
        'a non-string access_token',
        (r: request.Test) => r.send({ item: 'x', qty: 1, access_token: { a: 1 } }),
      ],
    ])('never answers 5xx: %s', async (_, build) => {
      const response = await build(request(ordersUrl).post('/orders').set(bearer(tokens.alice)));
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      const bare = await build(request(ordersUrl).post('/orders'));
      expect(bare.status).toBeGreaterThanOrEqual(400);
      expect(bare.status).toBeLessThan(500);
    });

    it('never answers 5xx to a malformed percent-encoding in the path', async () => {
      const response = await request(ordersUrl).get('/orders/%E0%A4%A').set(bearer(tokens.alice));
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
    });
  });

  describe('access log', () => {
    it('logs method, path without query, status, latency, sub and the rejection reason — no token', async () => {
      await request(ordersUrl)
        .get('/orders')
        .query({ page: '2', secret: 'in-the-query' })
        .set(bearer(tokens.carol))
        .expect(200);
      await request(ordersUrl).get('/orders/missing-token-check').expect(401);
      await request(ordersUrl)
        .post('/orders')
        .set(bearer(tokens.carol))
        .send({ item: 'x', qty: 1 })
        .expect(403);
      // 'finish' fires as the answer leaves; give the event loop a turn.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const entries = ordersLog.requests;
      expect(entries).toContainEqual(
        expect.objectContaining({
          method: 'GET',
          path: '/orders',
          status: 200,
          sub: 'carol',
          latencyMs: expect.any(Number),
        }),
      );
      expect(entries).toContainEqual(
        expect.objectContaining({
          method: 'GET',
          path: '/orders/missing-token-check',
          status: 401,
          reason: 'missing_token',
        }),
      );
      expect(entries).toContainEqual(
        expect.objectContaining({
          method: 'POST',
          path: '/orders',
          status: 403,
          sub: 'carol',
          reason: 'missing_scope',
        }),
      );
      const logged = JSON.stringify(entries);
      expect(logged).not.toContain('in-the-query');
      expect(logged).not.toContain('?');
      for (const token of Object.values(tokens)) expect(logged).not.toContain(token.split('.')[2]);
    });
  });
});
