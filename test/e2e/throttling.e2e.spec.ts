import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import request from 'supertest';
import { KeyRing } from 'nest-tessera/issuer';
import { MemoryRevocationStore, type RevocationStore } from 'nest-tessera';
import { createAuthApp } from '../../sample-app/auth/auth-app.js';
import { loadConfig, type HttpAdapterName } from '../../sample-app/config.js';
import { createOrdersApp } from '../../sample-app/orders/orders-app.js';
import { deleteKeys, RedisServer, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';
import { CapturingLogger, quiet, reportsJobToken } from '../support/sample-testing.js';

// Per-consumer throttling on the sample orders service (CONTRACT.md), wired as a user would:
// ThrottlerModule with ConsumerThrottlerGuard and a storage of nest-tessera/throttler.
// THROTTLE_LIMIT requests per consumer (the verified sub, or client_id for a service client; the
// IP without a valid token) per fixed window of THROTTLE_TTL seconds across every route, then
// 429 with Retry-After. Windows of 10 s: a test's burst never straddles two of them.

const ISSUER = 'https://auth.throttling.test';
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** The value of the sample `name{labels}` in a Prometheus text exposition. */
function sampleValue(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  if (line === undefined) throw new Error(`no ${sample} in:\n${text}`);
  return Number(line.slice(sample.length + 1));
}

/** Starts `app` on a loopback port and returns its URL. */
async function listen(app: INestApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  return app.getUrl();
}

async function login(authUrl: string, username: string): Promise<string> {
  const response = await request(authUrl)
    .post('/auth/login')
    .send({ username, password: `${username}-password` })
    .expect(200);
  return response.body.access_token;
}

function expectThrottled(response: request.Response, ttlSeconds: number): void {
  expect(response.status).toBe(429);
  const retryAfter = response.headers['retry-after'];
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(retryAfter)).toBeLessThanOrEqual(ttlSeconds);
  expect(response.body).toEqual({ statusCode: 429, message: 'Too Many Requests' });
  expectNoRateLimitHeaders(response);
}

/** CONTRACT.md lists no X-RateLimit-* headers (nor throttler's Retry-After-<name>). */
function expectNoRateLimitHeaders(response: request.Response): void {
  const extra = Object.keys(response.headers).filter(
    (name) => name.startsWith('x-ratelimit') || name.startsWith('retry-after-'),
  );
  expect(extra).toEqual([]);
}

describe.each(['express', 'fastify'] as HttpAdapterName[])(
  'per-consumer throttling of the sample orders service on %s (THROTTLE_LIMIT=3, THROTTLE_TTL=10)',
  (adapter) => {
    const apps: INestApplication[] = [];
    const ordersLog = new CapturingLogger();
    let revocations: RevocationStore;
    let authUrl: string;
    let ordersUrl: string;

    beforeAll(async () => {
      revocations = new MemoryRevocationStore();
      const env = { AUTH_ISSUER: ISSUER, THROTTLE_LIMIT: '3', THROTTLE_TTL: '10' };
      const auth = await createAuthApp(loadConfig(env), {
        adapter,
        logger: quiet,
        keyRing: KeyRing.ephemeral('EdDSA'),
        revocations,
      });
      apps.push(auth);
      authUrl = await listen(auth);
      const config = loadConfig({ ...env, ORDERS_JWKS_URLS: `${authUrl}/.well-known/jwks.json` });
      const orders = await createOrdersApp(config, { adapter, logger: ordersLog, revocations });
      apps.push(orders);
      ordersUrl = await listen(orders);
    });

    afterAll(async () => {
      for (const app of apps.reverse()) await app.close();
      await revocations.close();
    });

    const list = (token: string) => request(ordersUrl).get('/orders').set(bearer(token));

    it('answers one consumer over its limit 429 with Retry-After while another, in the same second, gets 200', async () => {
      const [alice, bob] = [await login(authUrl, 'alice'), await login(authUrl, 'bob')];
      for (let i = 0; i < 3; i++) expectNoRateLimitHeaders(await list(alice).expect(200));
      const started = Date.now();
      expectThrottled(await list(alice), 10);
      await list(bob).expect(200);
      expectThrottled(await list(alice), 10);
      await list(bob).expect(200);
      expect(Date.now() - started).toBeLessThan(1000);
      // A new token of the same user is the same consumer.
      expectThrottled(await list(await login(authUrl, 'alice')), 10);
      // Any route of the service counts: alice cannot create either.
      const post = await request(ordersUrl)
        .post('/orders')
        .set(bearer(alice))
        .send({ item: 'pen', qty: 1 });
      expectThrottled(post, 10);
    });

    it('counts a service client by its client_id, apart from the users', async () => {
      const token = await reportsJobToken(authUrl);
      for (let i = 0; i < 3; i++) await list(token).expect(200);
      expectThrottled(await list(token), 10);
    });

    it("limits requests without a valid token by IP: a token forged or revoked, naming a user, never spends that user's budget", async () => {
      // carol's token with another signature, and dave's own token once he has logged out.
      const carol = await login(authUrl, 'carol');
      const forged = `${carol.slice(0, -8)}AAAAAAAA`;
      const dave = await login(authUrl, 'dave');
      await request(authUrl).post('/auth/logout').set(bearer(dave)).expect(204);
      await list(forged).expect(401);
      await list(dave).expect(401);
      await list(forged).expect(401);
      expectThrottled(await list(dave), 10);
      expectThrottled(await request(ordersUrl).get('/orders'), 10);
      // The users themselves, from the same IP, have their whole budgets.
      for (let i = 0; i < 3; i++) await list(carol).expect(200);
      for (let i = 0; i < 3; i++) await list(await login(authUrl, 'dave')).expect(200);
      expect(ordersLog.requests('/orders')).toContainEqual(
        expect.objectContaining({ status: 429, reason: 'throttled' }),
      );
    });

    it('never throttles /health and /metrics, and counts every 429 in /metrics', async () => {
      for (let i = 0; i < 10; i++) {
        await request(ordersUrl).get('/health').expect(200);
        await request(ordersUrl).get('/metrics').expect(200);
      }
      const metrics = await request(ordersUrl).get('/metrics').expect(200);
      // 4 for alice, 1 for the client, 2 for the IP.
      expect(sampleValue(metrics.text, 'tessera_throttled_requests_total')).toBe(7);
    });
  },
);

describe('throttling across two orders instances on one Redis (Express and Fastify)', () => {
  const prefix = uniquePrefix('throttling');
  const throttlePrefix = `${prefix.replace(/[{}]/g, '')}throttle:`;
  const apps: INestApplication[] = [];
  let authUrl: string;
  let instances: string[];

  beforeAll(async () => {
    const env = {
      AUTH_ISSUER: ISSUER,
      REDIS_URL: sharedRedisUrl(),
      REDIS_KEY_PREFIX: prefix,
      THROTTLE_LIMIT: '4',
      THROTTLE_TTL: '10',
    };
    const auth = await createAuthApp(loadConfig(env), {
      logger: quiet,
      keyRing: KeyRing.ephemeral('ES256'),
    });
    apps.push(auth);
    authUrl = await listen(auth);
    const config = loadConfig({ ...env, ORDERS_JWKS_URLS: `${authUrl}/.well-known/jwks.json` });
    instances = [];
    for (const adapter of ['express', 'fastify'] as const) {
      const orders = await createOrdersApp(config, { adapter, logger: quiet });
      apps.push(orders);
      instances.push(await listen(orders));
    }
  });

  afterAll(async () => {
    for (const app of apps.reverse()) await app.close();
    await Promise.all([deleteKeys(prefix), deleteKeys(throttlePrefix)]);
  });

  it('holds one limit for a consumer whichever instance it calls, and keeps consumers apart', async () => {
    const [alice, bob] = [await login(authUrl, 'alice'), await login(authUrl, 'bob')];
    const list = (instance: number, token: string) =>
      request(instances[instance]).get('/orders').set(bearer(token));
    // Four requests in all, two on each instance: the whole limit.
    for (let i = 0; i < 4; i++) await list(i % 2, alice).expect(200);
    expectThrottled(await list(0, alice), 10);
    expectThrottled(await list(1, alice), 10);
    await list(0, bob).expect(200);
    await list(1, bob).expect(200);

    // The counters live in Redis under the configured prefix, one per consumer for the service.
    const redis = new Redis(sharedRedisUrl());
    try {
      // Without the prefix's hash tag: each consumer's own tag picks its Cluster slot.
      const counter = (tag: string) => `${throttlePrefix}{${tag}}:default`;
      const keys = (await redis.keys(`${throttlePrefix}*`)).sort();
      const alice = counter(`sub:alice@${ISSUER}`);
      expect(keys).toEqual([alice, counter(`sub:bob@${ISSUER}`)]);
      expect(Number(await redis.get(alice))).toBe(6);
    } finally {
      redis.disconnect();
    }
  });
});

describe('throttling while Redis is down (THROTTLE_LIMIT=2)', () => {
  const apps: INestApplication[] = [];
  const revocations = new MemoryRevocationStore();
  let redis: RedisServer;
  let authUrl: string;
  let ordersUrl: string;

  beforeAll(async () => {
    redis = await RedisServer.start();
    const auth = await createAuthApp(loadConfig({ AUTH_ISSUER: ISSUER }), {
      logger: quiet,
      keyRing: KeyRing.ephemeral('ES256'),
      revocations,
    });
    apps.push(auth);
    authUrl = await listen(auth);
    const config = loadConfig({
      AUTH_ISSUER: ISSUER,
      ORDERS_JWKS_URLS: `${authUrl}/.well-known/jwks.json`,
      REDIS_URL: redis.url,
      THROTTLE_LIMIT: '2',
      THROTTLE_TTL: '30',
    });
    const orders = await createOrdersApp(config, { logger: quiet });
    apps.push(orders);
    ordersUrl = await listen(orders);
  });

  afterAll(async () => {
    for (const app of apps.reverse()) await app.close();
    await revocations.close();
    await redis.stop();
  });

  it('lets requests through at once (fail-open), and limits again once Redis is back', async () => {
    const [alice, bob] = [await login(authUrl, 'alice'), await login(authUrl, 'bob')];
    const list = (token: string) => request(ordersUrl).get('/orders').set(bearer(token));
    await list(alice).expect(200);
    await list(alice).expect(200);
    expectThrottled(await list(alice), 30);

    await redis.stop();
    // Over the limit, but the counters cannot be reached: served, and without waiting for them,
    // also while the client is connecting again between two of its reconnection attempts.
    for (let i = 0; i < 40; i++) {
      const started = performance.now();
      await list(bob).expect(200);
      expect(performance.now() - started).toBeLessThan(1000);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    // Redis restarts empty: the counting starts over, and holds again.
    await redis.start();
    const statuses: number[] = [];
    for (let i = 0; i < 100 && statuses.at(-1) !== 429; i++) {
      statuses.push((await list(bob)).status);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(statuses.at(-1)).toBe(429);
  }, 30_000);
});

describe('THROTTLE_LIMIT=0', () => {
  const apps: INestApplication[] = [];
  let authUrl: string;
  let ordersUrl: string;

  beforeAll(async () => {
    const env = { AUTH_ISSUER: ISSUER, THROTTLE_LIMIT: '0' };
    const auth = await createAuthApp(loadConfig(env), {
      logger: quiet,
      keyRing: KeyRing.ephemeral('ES256'),
    });
    apps.push(auth);
    authUrl = await listen(auth);
    const config = loadConfig({ ...env, ORDERS_JWKS_URLS: `${authUrl}/.well-known/jwks.json` });
    const orders = await createOrdersApp(config, { logger: quiet });
    apps.push(orders);
    ordersUrl = await listen(orders);
  });

  afterAll(async () => {
    for (const app of apps.reverse()) await app.close();
  });

  it('turns throttling off: no consumer and no IP is ever refused 429', async () => {
    const alice = await login(authUrl, 'alice');
    const statuses = new Set<number>();
    for (let i = 0; i < 150; i++) {
      statuses.add((await request(ordersUrl).get('/orders').set(bearer(alice))).status);
      statuses.add((await request(ordersUrl).get('/orders')).status);
    }
    expect([...statuses].sort()).toEqual([200, 401]);
  });
});
