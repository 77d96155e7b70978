import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { postFrom, type PlainResponse } from '../support/post-from.js';
import { RedisServer } from '../support/redis-server.js';
import { AUTH_MAIN, ensureBuild, freePort } from './built-app.js';
import { Service } from './service-process.js';

// The guessing limits of the built auth service, two instances on one Redis, as a client sees
// them: whichever instance a guess reaches, it counts in the one budget; clients come from
// loopback addresses of their own.

describe('guessing limits across two auth instances on one Redis (the built service)', () => {
  let redis: RedisServer;
  let cwd: string;
  const instances: Service[] = [];

  beforeAll(async () => {
    ensureBuild();
    cwd = mkdtempSync(join(tmpdir(), 'tessera-login-limits-'));
    redis = await RedisServer.start();
    for (const name of ['auth-1', 'auth-2']) {
      const port = await freePort();
      const env = {
        AUTH_ISSUER: 'http://127.0.0.1:3999',
        AUTH_PORT: String(port),
        REDIS_URL: redis.url,
        LOGIN_LIMIT: '3',
        LOGIN_IP_LIMIT: '8',
        LOGIN_WINDOW: '60',
      };
      const service = new Service(name, `http://127.0.0.1:${port}`, AUTH_MAIN, env, cwd);
      instances.push(service);
    }
    await Promise.all(instances.map((service) => service.ready()));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(instances.map((service) => service.kill()));
    await redis?.stop();
    if (cwd !== undefined) rmSync(cwd, { recursive: true, force: true });
  });

  const login = (instance: number, from: string, username: string, password: string) =>
    postFrom(from, `${instances[instance].url}/auth/login`, JSON.stringify({ username, password }));

  const expectLocked = (response: PlainResponse) => {
    expect(response.status).toBe(429);
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(response.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(response.headers['set-cookie']).toBeUndefined();
  };

  it('locks a username for one IP after LOGIN_LIMIT failures spread over both instances', async () => {
    expect((await login(0, '127.0.0.2', 'alice', 'guess-1')).status).toBe(401);
    expect((await login(1, '127.0.0.2', 'alice', 'guess-2')).status).toBe(401);
    expect((await login(0, '127.0.0.2', 'alice', 'guess-3')).status).toBe(401);
    expectLocked(await login(1, '127.0.0.2', 'alice', 'alice-password'));
    expectLocked(await login(0, '127.0.0.2', 'alice', 'alice-password'));
    // Alice from elsewhere, and bob from the guesser's address, are not slowed.
    expect((await login(1, '127.0.0.3', 'alice', 'alice-password')).status).toBe(200);
    expect((await login(0, '127.0.0.2', 'bob', 'bob-password')).status).toBe(200);
  });

  it('counts every attempt of one IP on both instances against LOGIN_IP_LIMIT', async () => {
    for (let i = 0; i < 8; i++) {
      expect((await login(i % 2, '127.0.0.4', 'carol', 'carol-password')).status).toBe(200);
    }
    expectLocked(await login(0, '127.0.0.4', 'carol', 'carol-password'));
    expectLocked(await login(1, '127.0.0.4', 'dave', 'dave-password'));
    expect((await login(1, '127.0.0.5', 'carol', 'carol-password')).status).toBe(200);
  });

  it('answers a form post to /auth/login with 415 and no cookie, and garbage refresh tokens with 401, never a 5xx', async () => {
    const form = await postFrom(
      '127.0.0.6',
      `${instances[0].url}/auth/login`,
      'username=alice&password=alice-password',
      { 'content-type': 'application/x-www-form-urlencoded' },
    );
    expect(form.status).toBe(415);
    expect(form.headers['set-cookie']).toBeUndefined();
    for (const body of ['{"refresh_token":42}', '{"refresh_token":"a.b.c.d"}', '[]', '{}']) {
      const refresh = await postFrom('127.0.0.7', `${instances[1].url}/auth/refresh`, body);
      expect(refresh.status).toBe(401);
    }
  });
});
