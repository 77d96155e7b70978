import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { KeyRing } from 'nest-tessera/issuer';
import { createAuthApp } from '../../sample-app/auth/auth-app.js';
import { loadConfig } from '../../sample-app/config.js';
import { createOrdersApp } from '../../sample-app/orders/orders-app.js';
import { RedisServer, uniquePrefix } from '../support/redis-server.js';
import { quiet } from '../support/sample-testing.js';

// CONTRACT.md's GET /health while Redis is unreachable, in-process: both services on a
// redis-server of this suite's own, which it kills and starts again. The answer is 200 throughout:
// {"status":"degraded", ...} naming Redis while it is down, {"status":"ok"} once it answers.

const ISSUER = 'https://auth.health.test';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('GET /health of the sample app while Redis goes away and comes back', () => {
  let server: RedisServer;
  const apps: INestApplication[] = [];
  const urls: Record<'auth' | 'orders', string> = { auth: '', orders: '' };

  beforeAll(async () => {
    server = await RedisServer.start();
    const env = {
      AUTH_ISSUER: ISSUER,
      REDIS_URL: server.url,
      REDIS_KEY_PREFIX: uniquePrefix('sample-health'),
    };
    const auth = await createAuthApp(loadConfig(env), {
      adapter: 'express',
      logger: quiet,
      keyRing: KeyRing.ephemeral('EdDSA'),
    });
    apps.push(auth);
    await auth.listen(0, '127.0.0.1');
    urls.auth = await auth.getUrl();
    const orders = await createOrdersApp(
      loadConfig({ ...env, ORDERS_JWKS_URLS: `${urls.auth}/.well-known/jwks.json` }),
      { adapter: 'fastify', logger: quiet },
    );
    apps.push(orders);
    await orders.listen(0, '127.0.0.1');
    urls.orders = await orders.getUrl();
  });

  afterAll(async () => {
    for (const app of apps.reverse()) await app.close().catch(() => undefined);
    await server?.stop();
  });

  /** Asks `/health` until its body is `expected` (every answer on the way must be 200). */
  async function healthBecomes(service: 'auth' | 'orders', expected: object): Promise<void> {
    const deadline = performance.now() + 10_000;
    for (;;) {
      const response = await request(urls[service]).get('/health');
      expect([service, response.status]).toEqual([service, 200]);
      expect(response.headers['cache-control']).toBe('no-store');
      try {
        expect(response.body).toEqual(expected);
        return;
      } catch (error) {
        if (performance.now() > deadline) throw error;
      }
      await sleep(100);
    }
  }

  it('is ok, then degraded naming Redis while it is down, then ok again', async () => {
    for (const service of ['auth', 'orders'] as const) {
      await healthBecomes(service, { status: 'ok' });
    }

    await server.stop();
    for (const service of ['auth', 'orders'] as const) {
      await healthBecomes(service, {
        status: 'degraded',
        failing: { redis: expect.stringContaining('unreachable') },
      });
    }

    await server.start();
    for (const service of ['auth', 'orders'] as const) {
      await healthBecomes(service, { status: 'ok' });
    }
  });
});
