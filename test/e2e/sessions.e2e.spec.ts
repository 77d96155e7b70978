import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { KeyRing } from 'nest-tessera/issuer';
import { MemoryRevocationStore } from 'nest-tessera';
import { createAuthApp } from '../../sample-app/auth/auth-app.js';
import { loadConfig, type HttpAdapterName } from '../../sample-app/config.js';
import { createOrdersApp } from '../../sample-app/orders/orders-app.js';
import { deleteKeys, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';
import { CapturingLogger } from '../support/sample-testing.js';

// Sessions through the sample app's HTTP surface: the auth service's login, refresh and logout,
// and what the orders service then accepts. Once with the in-memory stores `npm start` shares
// between the two services, once with both on Redis as separate instances would run.

const ISSUER = 'https://auth.sample.test';
/** `<sid>.<generation>.<family secret>.<random>`: cookie-safe, no `;`, `,` or space. */
const REFRESH_TOKEN = /^[0-9a-f-]{36}\.\d+\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/;

type StoreMode = 'in-memory' | 'Redis';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

/** The refresh cookie of an answer: its value and its attributes (names lower-cased). */
function refreshCookieOf(response: request.Response): {
  value: string;
  attributes: Record<string, string | true>;
} {
  const header = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
  const cookies = header.filter((c) => c.startsWith('refresh_token='));
  expect(cookies).toHaveLength(1);
  const [pair, ...attributes] = cookies[0].split(';').map((part) => part.trim());
  return {
    value: pair.slice('refresh_token='.length),
    attributes: Object.fromEntries(
      attributes.map((attribute) => {
        const [name, value] = attribute.split('=');
        return [name.toLowerCase(), value ?? true];
      }),
    ),
  };
}

const CASES: readonly [HttpAdapterName, StoreMode][] = [
  ['express', 'in-memory'],
  ['express', 'Redis'],
  ['fastify', 'in-memory'],
  ['fastify', 'Redis'],
];

describe.each(CASES)('sessions on %s with %s stores', (adapter, mode) => {
  const keyRing = KeyRing.ephemeral('ES256');
  const prefix = uniquePrefix(`sessions-${adapter}`);
  const authLog = new CapturingLogger();
  const ordersLog = new CapturingLogger();
  const apps: INestApplication[] = [];
  const shared: MemoryRevocationStore[] = [];
  let authUrl: string;
  let ordersUrl: string;

  /** The environment of this mode: Redis on the shared test server under a prefix of its own. */
  const environment = (extra: Record<string, string> = {}) => ({
    AUTH_ISSUER: ISSUER,
    // Every request of this file comes from one address: more than LOGIN_IP_LIMIT's default
    // allows in a minute (login-limits.e2e.spec.ts is where that limit is shown).
    LOGIN_IP_LIMIT: '0',
    ...(mode === 'Redis' && { REDIS_URL: sharedRedisUrl(), REDIS_KEY_PREFIX: prefix }),
    ...extra,
  });

  /** An auth service and, unless told otherwise, an orders service trusting it. */
  async function startServices(
    extra: Record<string, string> = {},
    withOrders = true,
  ): Promise<{ authUrl: string; ordersUrl?: string }> {
    // In memory, the two services share one revocation list, as under `npm start`.
    const revocations = mode === 'in-memory' ? new MemoryRevocationStore() : undefined;
    if (revocations) shared.push(revocations);
    const auth = await createAuthApp(loadConfig(environment(extra)), {
      adapter,
      logger: authLog,
      keyRing,
      revocations,
    });
    apps.push(auth);
    await auth.listen(0, '127.0.0.1');
    const authUrl = await auth.getUrl();
    if (!withOrders) return { authUrl };
    const config = loadConfig(
      environment({ ...extra, ORDERS_JWKS_URLS: `${authUrl}/.well-known/jwks.json` }),
    );
    const orders = await createOrdersApp(config, { adapter, logger: ordersLog, revocations });
    apps.push(orders);
    await orders.listen(0, '127.0.0.1');
    return { authUrl, ordersUrl: await orders.getUrl() };
  }

  beforeAll(async () => {
    const started = await startServices();
    authUrl = started.authUrl;
    ordersUrl = started.ordersUrl!;
  });

  afterAll(async () => {
    for (const app of apps.reverse()) await app.close();
    for (const store of shared) await store.close();
    if (mode === 'Redis') await deleteKeys(prefix);
  });

  interface Session {
    readonly access: string;
    readonly refresh: string;
  }

  async function login(username = 'alice', extra: object = {}, url = authUrl): Promise<Session> {
    const response = await request(url)
      .post('/auth/login')
      .send({ username, password: `${username}-password`, ...extra })
      .expect(200);
    return { access: response.body.access_token, refresh: refreshCookieOf(response).value };
  }

  const refreshByCookie = (token: string, body?: object, url = authUrl) => {
    const post = request(url).post('/auth/refresh').set('Cookie', `refresh_token=${token}`);
    return body === undefined ? post : post.send(body);
  };
  const refreshByBody = (token: string, body: object = {}) =>
    request(authUrl)
      .post('/auth/refresh')
      .send({ refresh_token: token, ...body });

  async function refreshed(response: request.Response): Promise<Session> {
    expect(response.status).toBe(200);
    return { access: response.body.access_token, refresh: refreshCookieOf(response).value };
  }

  const ordersStatus = async (access: string) =>
    (await request(ordersUrl).get('/orders').set(bearer(access))).status;

  /**
   * Polls the orders service until it refuses `access` (401 invalid_token), for at most one
   * second (the contract's bound; in memory it is at once). Returns the milliseconds it took.
   */
  async function refusedByOrders(access: string): Promise<number> {
    const started = performance.now();
    for (;;) {
      const response = await request(ordersUrl).get('/orders').set(bearer(access));
      if (response.status === 401) {
        expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
        return performance.now() - started;
      }
      expect(response.status).toBe(200);
      if (performance.now() - started > 1000) throw new Error('still accepted after 1000 ms');
      await sleep(10);
    }
  }

  /** A refused refresh: 401 invalid_grant, never cached, and the cookie cleared. */
  function expectRefused(response: request.Response): void {
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: 'invalid_grant' });
    expect(response.headers['cache-control']).toBe('no-store');
    const cookie = refreshCookieOf(response);
    expect(cookie.value).toBe('');
    expect(cookie.attributes['max-age']).toBe('0');
  }

  describe('login', () => {
    it('answers the token and sets the refresh cookie: HttpOnly, Secure, SameSite=Strict, Path=/auth', async () => {
      const response = await request(authUrl)
        .post('/auth/login')
        .send({ username: 'alice', password: 'alice-password' })
        .expect(200);
      expect(response.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 900,
      });
      expect(response.headers['cache-control']).toBe('no-store');
      const cookie = refreshCookieOf(response);
      expect(cookie.value).toMatch(REFRESH_TOKEN);
      // REFRESH_TOKEN_TTL (14 days) outlives SESSION_MAX_AGE (1 day): the cookie goes with the session.
      const { 'max-age': maxAge, ...attributes } = cookie.attributes;
      expect(Number(maxAge)).toBeGreaterThanOrEqual(86_398);
      expect(Number(maxAge)).toBeLessThanOrEqual(86_400);
      expect(attributes).toEqual({
        path: '/auth',
        httponly: true,
        secure: true,
        samesite: 'Strict',
      });
      expect(JSON.stringify(response.body)).not.toContain(cookie.value);
      expect(claimsOf(response.body.access_token).sid).toEqual(expect.any(String));
      expect(await ordersStatus(response.body.access_token)).toBe(200);
    });
  });

  describe('refresh', () => {
    it('rotates the refresh token on every use, from the cookie', async () => {
      const first = await login();
      const response = await refreshByCookie(first.refresh);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 900,
      });
      const second = await refreshed(response);
      expect(second.refresh).toMatch(REFRESH_TOKEN);
      expect(second.refresh).not.toBe(first.refresh);
      const [before, after] = [claimsOf(first.access), claimsOf(second.access)];
      expect(after.sid).toBe(before.sid);
      expect(after.jti).not.toBe(before.jti);
      expect(after).toMatchObject({ sub: 'alice', tid: 'seller-a', client_id: 'sample-app' });
      expect(refreshCookieOf(response).attributes).toMatchObject({
        path: '/auth',
        httponly: true,
        secure: true,
        samesite: 'Strict',
      });
      expect(await ordersStatus(second.access)).toBe(200);
      const third = await refreshed(await refreshByCookie(second.refresh));
      expect(third.refresh).not.toBe(second.refresh);
      expect(await ordersStatus(third.access)).toBe(200);
    });

    it('rotates a refresh token sent in the JSON body, and a device-bound one with its device', async () => {
      const first = await login('bob');
      const second = await refreshed(await refreshByBody(first.refresh));
      expect(claimsOf(second.access).sid).toBe(claimsOf(first.access).sid);
      await refreshed(await refreshByBody(second.refresh));

      const phone = await login('bob', { device_id: 'phone-7' });
      const next = await refreshed(await refreshByBody(phone.refresh, { device_id: 'phone-7' }));
      // A browser: the cookie, and the device in the body.
      await refreshed(await refreshByCookie(next.refresh, { device_id: 'phone-7' }));
    });

    it('treats a retired refresh token as a replay: 401, the newest token dies, orders refuses the session', async () => {
      const first = await login();
      const second = await refreshed(await refreshByCookie(first.refresh));
      expect(await ordersStatus(second.access)).toBe(200);

      expectRefused(await refreshByCookie(first.refresh));
      expectRefused(await refreshByCookie(second.refresh));
      await refusedByOrders(second.access);
      await refusedByOrders(first.access);
      const sid = claimsOf(first.access).sid;
      expect(authLog.events('refresh_reuse_detected')).toContainEqual(
        expect.objectContaining({ sub: 'alice', sid }),
      );
    });

    it('revokes the session on a refresh from another device', async () => {
      const session = await login('alice', { device_id: 'phone-1' });
      const next = await refreshed(await refreshByBody(session.refresh, { device_id: 'phone-1' }));
      expectRefused(await refreshByBody(next.refresh, { device_id: 'laptop-9' }));
      // The real device cannot go on with it either: the session is gone.
      expectRefused(await refreshByBody(next.refresh, { device_id: 'phone-1' }));
      await refusedByOrders(next.access);
      expect(authLog.events('device_mismatch_detected')).toContainEqual(
        expect.objectContaining({ sub: 'alice', sid: claimsOf(session.access).sid }),
      );
    });

    it('revokes a device-bound session refreshed without a device_id', async () => {
      const session = await login('dave', { device_id: 'tablet-3' });
      expectRefused(await refreshByCookie(session.refresh));
      expectRefused(await refreshByCookie(session.refresh, { device_id: 'tablet-3' }));
      await refusedByOrders(session.access);
    });

    it('lets exactly one of two concurrent refreshes with the same token succeed', async () => {
      for (let round = 0; round < 3; round++) {
        const session = await login('carol');
        const answers = await Promise.all([
          refreshByCookie(session.refresh),
          refreshByBody(session.refresh),
        ]);
        expect(answers.map((a) => a.status).sort()).toEqual([200, 401]);
      }
    });

    it.each([
      ['no refresh token at all', (r: request.Test) => r],
      ['an unknown refresh token', (r: request.Test) => r.send({ refresh_token: 'A'.repeat(43) })],
      ['a token of the wrong shape', (r: request.Test) => r.send({ refresh_token: 'short' })],
      ['an empty cookie', (r: request.Test) => r.set('Cookie', 'refresh_token=')],
      ['a cookie of another name', (r: request.Test) => r.set('Cookie', 'session=abc')],
    ])('answers 401 invalid_grant to %s', async (_, build) => {
      expectRefused(await build(request(authUrl).post('/auth/refresh')));
    });

    // Whatever a client sends that is no live refresh token is refused as one (401), never a 5xx:
    // a fuzz of shapes, types and sizes, up to what the 100 KiB body limit lets through.
    it.each([
      { what: 'a numeric refresh_token', body: { refresh_token: 42 } },
      { what: 'a null refresh_token', body: { refresh_token: null } },
      { what: 'an object refresh_token', body: { refresh_token: { $ne: null } } },
      { what: 'an array refresh_token', body: { refresh_token: ['a'] } },
      { what: 'a numeric device_id', body: { refresh_token: 'A'.repeat(43), device_id: 7 } },
      { what: 'an array body', body: [{ refresh_token: 'A'.repeat(43) }] },
      { what: 'a refresh_token of 10,000 characters', body: { refresh_token: 'A'.repeat(10_000) } },
      { what: 'a refresh_token of 99 KiB', body: { refresh_token: 'A'.repeat(99 * 1024) } },
      { what: 'an access token', body: 'access token' },
      { what: 'the old opaque shape', body: { refresh_token: 'A'.repeat(43) } },
      {
        what: 'a token of the current shape, of no session',
        body: { refresh_token: `${'0'.repeat(36)}.0.${'A'.repeat(43)}.${'B'.repeat(43)}` },
      },
      { what: 'control and lone surrogate characters', body: { refresh_token: '\u0000\ud800.1' } },
      { what: 'an empty string', body: { refresh_token: '' } },
    ])('answers 401 invalid_grant to $what', async ({ body }) => {
      const sent =
        body === 'access token' ? { refresh_token: (await login()).access } : (body as object);
      expectRefused(await request(authUrl).post('/auth/refresh').send(sent));
    });

    it.each([
      {
        what: 'bytes that are not UTF-8',
        cookie: Buffer.from([0xff, 0xfe, 0x80]).toString('latin1'),
      },
      { what: 'a quoted value', cookie: '"abc"' },
      { what: 'percent-encoded bytes', cookie: '%FF%00%E2%82' },
    ])('answers 401 invalid_grant to a cookie of $what', async ({ cookie }) => {
      expectRefused(
        await request(authUrl).post('/auth/refresh').set('Cookie', `refresh_token=${cookie}`),
      );
    });

    it('answers 401 to a text/plain body of any content', async () => {
      expectRefused(
        await request(authUrl)
          .post('/auth/refresh')
          .set('Content-Type', 'text/plain')
          .send('\u00ff'.repeat(1000)),
      );
    });

    it('answers 400 to two different refresh tokens, in the cookie and the body', async () => {
      const one = await login();
      const other = await login();
      await refreshByCookie(one.refresh, { refresh_token: other.refresh }).expect(400);
      // Neither was used: both still rotate.
      await refreshed(await refreshByCookie(one.refresh, { refresh_token: one.refresh }));
      await refreshed(await refreshByBody(other.refresh));
    });
  });

  describe('logout', () => {
    it('answers 204 and revokes the token and every token of its session', async () => {
      const first = await login('dave');
      const second = await refreshed(await refreshByCookie(first.refresh));
      const other = await login('dave');

      await request(authUrl).post('/auth/logout').set(bearer(first.access)).expect(204);
      await refusedByOrders(first.access);
      await refusedByOrders(second.access);
      expectRefused(await refreshByCookie(second.refresh));
      // Another session of the same user is untouched.
      expect(await ordersStatus(other.access)).toBe(200);
      await refreshed(await refreshByCookie(other.refresh));
    });

    it('refuses a missing, forged or already revoked access token with 401', async () => {
      const none = await request(authUrl).post('/auth/logout').expect(401);
      expect(none.headers['www-authenticate']).toBe('Bearer');
      const forged = await request(authUrl)
        .post('/auth/logout')
        .set(bearer('not.a.token'))
        .expect(401);
      expect(forged.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      const session = await login('carol');
      await request(authUrl).post('/auth/logout').set(bearer(session.access)).expect(204);
      await request(authUrl).post('/auth/logout').set(bearer(session.access)).expect(401);
    });
  });

  describe('the absolute session limit (SESSION_MAX_AGE=2)', () => {
    it('issues nothing that outlives the session, and refuses a refresh after it', async () => {
      const short = await startServices({ SESSION_MAX_AGE: '2' }, false);
      const response = await request(short.authUrl)
        .post('/auth/login')
        .send({ username: 'alice', password: 'alice-password' })
        .expect(200);
      const claims = claimsOf(response.body.access_token);
      const end = (claims.iat as number) + 2;
      expect(claims.exp).toBeLessThanOrEqual(end);
      expect(response.body.expires_in).toBeLessThanOrEqual(2);
      const cookie = refreshCookieOf(response);
      expect(Number(cookie.attributes['max-age'])).toBeLessThanOrEqual(2);

      const next = await refreshByCookie(cookie.value, undefined, short.authUrl);
      expect(next.status).toBe(200);
      expect(claimsOf(next.body.access_token).exp).toBeLessThanOrEqual(end);
      expect(Number(refreshCookieOf(next).attributes['max-age'])).toBeLessThanOrEqual(2);

      await sleep(Math.max(0, end * 1000 - Date.now()) + 100);
      expectRefused(await refreshByCookie(refreshCookieOf(next).value, undefined, short.authUrl));
    });
  });
});
