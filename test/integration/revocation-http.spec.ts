import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Delete, Get, HttpCode, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AuthModule, Scopes, type AuthError } from 'nest-tessera';
import { redis, RedisRevocationStore } from 'nest-tessera/redis';
import { AUDIENCE, ISSUER } from '../support/forged-tokens.js';
import { createHttpApp } from '../support/http-app.js';
import { makeKey, validToken } from '../support/keys.js';
import { RedisServer, uniquePrefix } from '../support/redis-server.js';

@Controller('items')
class ItemsController {
  @Scopes('items:read')
  @Get()
  list() {
    return [];
  }

  @Scopes('items:delete')
  @Delete(':id')
  @HttpCode(204)
  remove() {}
}

const key = makeKey('ES256');
const now = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(25);
  }
}

describe('revocation over HTTP with a Redis that fails', () => {
  let server: RedisServer;
  let app: INestApplication;
  let admin: RedisRevocationStore;
  const failedOpen: string[] = [];
  const rejections: AuthError[] = [];
  const prefix = uniquePrefix('revocation-http');
  const token = (jti: string) =>
    validToken(key, now(), { jti, sid: `session-${jti}`, scope: 'items:read items:delete' });
  const get = (t: string) =>
    request(app.getHttpServer()).get('/items').set('Authorization', `Bearer ${t}`);
  const del = (t: string) =>
    request(app.getHttpServer()).delete('/items/1').set('Authorization', `Bearer ${t}`);

  beforeAll(async () => {
    server = await RedisServer.start();
    app = await createHttpApp('express', {
      imports: [
        AuthModule.forRoot({
          issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }],
          audience: AUDIENCE,
          redis: redis(server.url),
          revocation: { keyPrefix: prefix, sensitiveScopes: ['items:delete'] },
          events: {
            revocationFailedOpen: ({ tier }) => failedOpen.push(tier),
            requestRejected: ({ error }) => rejections.push(error),
          },
        }),
      ],
      controllers: [ItemsController],
    });
    admin = new RedisRevocationStore({ connection: server.url, keyPrefix: prefix });
    await admin.ready();
  });
  afterAll(async () => {
    await app.close();
    await admin.close();
    await server.stop();
  });

  it('refuses a revoked token on every route, from the local view and from Redis', async () => {
    const t = token('revoked-1');
    await get(t).expect(200);
    await admin.revokeToken('revoked-1', now() + 300);
    await eventually(async () => (await get(t)).status === 401);
    expect(rejections.at(-1)?.reason).toBe('revoked');
    await del(t).expect(401);
  });

  it('fails closed on sensitive routes and open (counted) on the rest while Redis is down, and recovers without a restart', async () => {
    const before = token('before-outage');
    await admin.revokeSession('session-before-outage', now() + 300);
    await eventually(async () => (await get(before)).status === 401);

    await server.stop();
    const fresh = token('fresh');
    await eventually(async () => (await get(fresh)).status === 200 && failedOpen.length > 0);
    const res = await del(fresh).expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(rejections.at(-1)?.reason).toBe('revocation_unavailable');
    await get(before).expect(401); // what was known before the outage still holds

    await server.start();
    await eventually(async () => (await del(fresh)).status === 204);
    // Recovered once a standard check no longer has to fail open (the view is current again).
    await eventually(async () => {
      const count = failedOpen.length;
      return (await get(fresh)).status === 200 && failedOpen.length === count;
    });
    const countAfterRecovery = failedOpen.length;
    await admin.revokeToken('fresh', now() + 300).catch(() => undefined);
    await eventually(async () => (await get(fresh)).status === 401);
    await get(before).expect(401);
    await del(before).expect(401);
    expect(failedOpen.length).toBe(countAfterRecovery);
  }, 30_000);
});
