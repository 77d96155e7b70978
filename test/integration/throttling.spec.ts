import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import {
  AuthModule,
  Public,
  Scopes,
  SkipThrottle,
  Throttle,
  type RedisBackend,
  type ThrottleOptions,
} from 'nest-tessera';
import { redis } from 'nest-tessera/redis';
import { AUDIENCE, ISSUER } from '../support/forged-tokens.js';
import { ADAPTERS, createHttpApp, type AdapterName } from '../support/http-app.js';
import { makeKey, validToken } from '../support/keys.js';
import { deleteKeys, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';

@Controller('orders')
class OrdersController {
  @Scopes('orders:read')
  @Get()
  list() {
    return [];
  }

  @Throttle({ limit: 1, ttlSeconds: 60 })
  @Scopes('orders:read')
  @Get('export')
  export() {
    return [];
  }

  @SkipThrottle()
  @Public()
  @Get('health')
  health() {
    return { ok: true };
  }
}

const key = makeKey('ES256');
const now = () => Math.floor(Date.now() / 1000);
const user = (sub: string) => validToken(key, now(), { sub, scope: 'orders:read' });
const client = (clientId: string) =>
  validToken(key, now(), {
    sub: clientId,
    sid: undefined,
    client_id: clientId,
    scope: 'orders:read',
  });
const throttled: string[] = [];

function appWith(
  adapter: AdapterName,
  throttle: ThrottleOptions,
  backend?: RedisBackend,
): Promise<INestApplication> {
  return createHttpApp(adapter, {
    imports: [
      AuthModule.forRoot({
        issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }],
        audience: AUDIENCE,
        redis: backend,
        throttle,
        events: { requestThrottled: ({ tracker }) => throttled.push(tracker) },
      }),
    ],
    controllers: [OrdersController],
  });
}

async function statuses(app: INestApplication, n: number, token?: string, path = '/orders') {
  const codes: number[] = [];
  for (let i = 0; i < n; i++) {
    const req = request(app.getHttpServer()).get(path);
    codes.push((await (token ? req.set('Authorization', `Bearer ${token}`) : req)).status);
  }
  return codes;
}

describe.each(ADAPTERS)('per-consumer throttling on %s', (adapter) => {
  let app: INestApplication;
  beforeAll(
    async () =>
      (app = await appWith(adapter, { limit: 3, ttlSeconds: 10, perConsumer: { 'sub:vip': 6 } })),
  );
  afterAll(() => app.close());

  it('answers one consumer over its limit with 429 and Retry-After, while another still gets 200', async () => {
    const alice = user(`alice-${adapter}`);
    expect(await statuses(app, 3, alice)).toEqual([200, 200, 200]);
    const over = await request(app.getHttpServer())
      .get('/orders')
      .set('Authorization', `Bearer ${alice}`);
    expect(over.status).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(over.headers['retry-after'])).toBeLessThanOrEqual(10);
    expect(await statuses(app, 3, user(`bob-${adapter}`))).toEqual([200, 200, 200]);
    expect(throttled).toContain('principal');
  });

  it('counts every token of one consumer together (a new token is no way around the limit)', async () => {
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push(...(await statuses(app, 1, user(`carol-${adapter}`))));
    expect(codes).toEqual([200, 200, 200, 429]);
  });

  it('keys service tokens by client_id', async () => {
    expect(await statuses(app, 4, client(`reports-${adapter}`))).toEqual([200, 200, 200, 429]);
  });

  it("counts users of one client apart, though the issuer leaves sid out of users' tokens", async () => {
    const spaUser = (sub: string) =>
      validToken(key, now(), { sub, sid: undefined, client_id: `spa-${adapter}` });
    expect(await statuses(app, 3, spaUser(`erin-${adapter}`))).toEqual([200, 200, 200]);
    expect(await statuses(app, 3, spaUser(`frank-${adapter}`))).toEqual([200, 200, 200]);
  });

  it('applies per-consumer and per-route limits', async () => {
    expect(await statuses(app, 7, user('vip'))).toEqual([200, 200, 200, 200, 200, 200, 429]);
    expect(await statuses(app, 2, user(`dave-${adapter}`), '/orders/export')).toEqual([200, 429]);
  });

  it('leaves @SkipThrottle() routes alone', async () => {
    expect(await statuses(app, 5, undefined, '/orders/health')).toEqual([200, 200, 200, 200, 200]);
  });

  it('limits requests without a valid token per IP, bad tokens included', async () => {
    expect(await statuses(app, 4, 'not-a-token')).toEqual([401, 401, 401, 429]);
    expect(throttled).toContain('ip');
  });
});

describe('throttling across two instances on one Redis', () => {
  const keyPrefix = uniquePrefix('throttle');
  let apps: INestApplication[];
  beforeAll(async () => {
    const throttle = { limit: 3, ttlSeconds: 10, keyPrefix };
    // One backend, two applications: each opens a connection of its own.
    const backend = redis(sharedRedisUrl());
    apps = await Promise.all([
      appWith('express', throttle, backend),
      appWith('fastify', throttle, backend),
    ]);
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await deleteKeys(keyPrefix);
  });

  it('holds one limit for a consumer whichever instance it calls', async () => {
    const dave = user('dave-shared');
    const codes = [
      ...(await statuses(apps[0], 2, dave)),
      ...(await statuses(apps[1], 1, dave)),
      ...(await statuses(apps[0], 1, dave)),
      ...(await statuses(apps[1], 1, dave)),
    ];
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    expect(await statuses(apps[1], 1, user('erin-shared'))).toEqual([200]);
  });
});
