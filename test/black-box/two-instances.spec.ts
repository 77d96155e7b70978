import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RedisServer } from '../support/redis-server.js';
import { AUTH_MAIN, ensureBuild, freePort, ORDERS_MAIN } from './built-app.js';
import { Service } from './service-process.js';

// The built services as separate processes, as `npm run start:auth` and `npm run start:orders`
// run them: one auth service and two orders instances sharing one Redis, which the test stops
// and starts again.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Tokens {
  readonly access: string;
  readonly refresh: string;
}

describe('one auth service and two orders instances on one Redis (the built services)', () => {
  let redis: RedisServer;
  let cwd: string;
  let auth: Service;
  let instances: Service[] = [];
  let env: Record<string, string>;
  const services: Service[] = [];

  async function startService(name: string, script: string, env: Record<string, string>) {
    const port = await freePort();
    const portVariable = script === AUTH_MAIN ? 'AUTH_PORT' : 'ORDERS_PORT';
    const service = new Service(
      name,
      `http://127.0.0.1:${port}`,
      script,
      { ...env, [portVariable]: String(port) },
      cwd,
    );
    services.push(service);
    await service.ready();
    return service;
  }

  beforeAll(async () => {
    ensureBuild();
    // An empty working directory: a developer's .env must not change what is tested here.
    cwd = mkdtempSync(join(tmpdir(), 'tessera-two-instances-'));
    redis = await RedisServer.start();
    const authPort = await freePort();
    env = {
      AUTH_ISSUER: `http://127.0.0.1:${authPort}`,
      REDIS_URL: redis.url,
      // The test polls faster than a client would; throttling is not what it measures.
      THROTTLE_LIMIT: '0',
    };
    auth = new Service(
      'auth',
      env.AUTH_ISSUER,
      AUTH_MAIN,
      { ...env, AUTH_PORT: String(authPort) },
      cwd,
    );
    services.push(auth);
    await auth.ready();
    instances = await Promise.all([
      startService('orders-1', ORDERS_MAIN, env),
      startService('orders-2', ORDERS_MAIN, env),
    ]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(services.map((service) => service.kill()));
    await redis?.stop();
    if (cwd !== undefined) rmSync(cwd, { recursive: true, force: true });
  });

  const bearer = (access: string) => ({ authorization: `Bearer ${access}` });

  async function login(username = 'alice'): Promise<Tokens> {
    const response = await fetch(`${auth.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: `${username}-password` }),
    });
    expect(response.status).toBe(200);
    return tokensOf(response);
  }

  async function tokensOf(response: Response): Promise<Tokens> {
    const body = (await response.json()) as { access_token: string };
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('refresh_token='));
    return { access: body.access_token, refresh: cookie!.split(';')[0].split('=')[1] };
  }

  const refresh = (refreshToken: string) =>
    fetch(`${auth.url}/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: refreshToken }),
    });

  const logout = (access: string) =>
    fetch(`${auth.url}/auth/logout`, { method: 'POST', headers: bearer(access) });

  const listOrders = (instance: Service, access: string) =>
    fetch(`${instance.url}/orders`, { headers: bearer(access) });

  /** A sensitive route (`orders:delete`): the order does not exist, so a pass is a 404. */
  const deleteOrder = (instance: Service, access: string) =>
    fetch(`${instance.url}/orders/no-such-order`, { method: 'DELETE', headers: bearer(access) });

  /** Repeats `attempt` until it answers `status`; fails after `timeoutMs`. Returns the time taken. */
  async function until(
    attempt: () => Promise<Response>,
    status: number,
    timeoutMs: number,
    what: string,
  ): Promise<number> {
    const started = performance.now();
    for (;;) {
      const response = await attempt();
      await response.arrayBuffer();
      if (response.status === status) return performance.now() - started;
      if (performance.now() - started > timeoutMs) {
        throw new Error(`${what}: still ${response.status}, not ${status}, after ${timeoutMs} ms`);
      }
      await sleep(5);
    }
  }

  /** Milliseconds from `since` until each instance refuses `access`; each within one second. */
  async function propagation(access: string, since: number): Promise<number[]> {
    const times = await Promise.all(
      instances.map(async (instance) => {
        await until(() => listOrders(instance, access), 401, 1000, `${instance.name} refusal`);
        return performance.now() - since;
      }),
    );
    for (const ms of times) expect(ms).toBeLessThan(1000);
    return times.map((ms) => Math.round(ms * 10) / 10);
  }

  it('both instances accept a fresh login, and refuse it within a second of a logout', async () => {
    const session = await login();
    for (const instance of instances)
      expect((await listOrders(instance, session.access)).status).toBe(200);

    const started = performance.now();
    const response = await logout(session.access);
    const logoutMs = performance.now() - started;
    expect(response.status).toBe(204);
    const times = await propagation(session.access, started);
    console.log(
      `revocation propagation after logout (from sending it; the logout took ${logoutMs.toFixed(1)} ms): orders-1 ${times[0]} ms, orders-2 ${times[1]} ms`,
    );
    // The refresh token of the session died with it.
    expect((await refresh(session.refresh)).status).toBe(401);
  });

  it('both instances refuse the session of a replayed refresh token within a second', async () => {
    const first = await login();
    const rotated = await refresh(first.refresh);
    expect(rotated.status).toBe(200);
    const second = await tokensOf(rotated);
    for (const instance of instances)
      expect((await listOrders(instance, second.access)).status).toBe(200);

    const started = performance.now();
    expect((await refresh(first.refresh)).status).toBe(401);
    const times = await propagation(second.access, started);
    console.log(
      `revocation propagation after a refresh-token replay: orders-1 ${times[0]} ms, orders-2 ${times[1]} ms`,
    );
    expect((await refresh(second.refresh)).status).toBe(401);
  });

  it('with Redis down, fails sensitive routes closed and the rest open (logged); back up, honours revocations from before and after without a restart', async () => {
    const kept = await login('dave');
    const revokedBefore = await login('dave');
    const revokedAfter = await login('dave');
    expect((await logout(revokedBefore.access)).status).toBe(204);
    await propagation(revokedBefore.access, performance.now());

    await redis.stop();
    for (const instance of instances) {
      // Sensitive: asks Redis itself, cannot, refuses.
      await until(() => deleteOrder(instance, kept.access), 401, 5000, `${instance.name} DELETE`);
      const refused = await deleteOrder(instance, kept.access);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      // Standard: the local view answers, and the request is let through with a warning.
      expect((await listOrders(instance, kept.access)).status).toBe(200);
      expect((await listOrders(instance, revokedBefore.access)).status).toBe(401);
      const warnings = instance.logLines().filter((l) => l.event === 'revocation_failed_open');
      expect(warnings.at(-1)).toMatchObject({ level: 'warn', sub: 'dave', tier: 'standard' });
      expect(warnings.at(-1)?.count).toEqual(expect.any(Number));
    }
    // The auth service cannot open, change or renew sessions now: 503, try again later. Nothing
    // changed.
    const loginAttempt = await fetch(`${auth.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'dave', password: 'dave-password' }),
    });
    const renewAttempt = await fetch(`${auth.url}/auth/renew`, {
      method: 'POST',
      headers: bearer(kept.access),
    });
    for (const response of [
      loginAttempt,
      renewAttempt,
      await logout(kept.access),
      await refresh(kept.refresh),
    ]) {
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    }
    // /health names Redis, and stays 200: the orders instances serve reads, the auth service its
    // keys and client tokens, and no other instance would do better with the same Redis down.
    for (const service of [auth, ...instances]) {
      const health = await fetch(`${service.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({
        status: 'degraded',
        failing: { redis: expect.stringContaining('unreachable') },
      });
    }
    expect(auth.logLines()).toContainEqual(
      expect.objectContaining({ level: 'error', event: 'store_unavailable' }),
    );

    await redis.start();
    for (const instance of instances) {
      await until(
        () => deleteOrder(instance, kept.access),
        404,
        10_000,
        `${instance.name} recovery`,
      );
    }
    // A revocation made after the outage, once the auth service reaches Redis again.
    await until(() => logout(revokedAfter.access), 204, 10_000, 'logout after the outage');
    // Every service back to ok once its revocation list is current again.
    for (const service of [auth, ...instances]) {
      const started = performance.now();
      for (;;) {
        const health = JSON.stringify(await fetch(`${service.url}/health`).then((r) => r.json()));
        if (health === '{"status":"ok"}') break;
        if (performance.now() - started > 5000) throw new Error(`${service.name}: ${health}`);
        await sleep(50);
      }
    }
    const times = await propagation(revokedAfter.access, performance.now());
    for (const instance of instances) {
      for (const revoked of [revokedBefore, revokedAfter]) {
        expect((await listOrders(instance, revoked.access)).status).toBe(401);
        expect((await deleteOrder(instance, revoked.access)).status).toBe(401);
      }
      // The logout refused with 503 revoked nothing.
      expect((await listOrders(instance, kept.access)).status).toBe(200);
    }
    console.log(
      `revocation propagation after the Redis restart (from the logout’s 204): orders-1 ${times[0]} ms, orders-2 ${times[1]} ms`,
    );
    // Redis restarted empty; the instances wrote back what it had lost: a new instance, which
    // knows only what Redis tells it, refuses both revoked sessions too.
    const late = await startService('orders-3', ORDERS_MAIN, env);
    expect((await listOrders(late, kept.access)).status).toBe(200);
    for (const revoked of [revokedBefore, revokedAfter]) {
      expect((await listOrders(late, revoked.access)).status).toBe(401);
    }
  }, 60_000);

  it('stops every service cleanly on SIGTERM, closing its Redis connections', async () => {
    const stopped = await Promise.all(services.map((service) => service.terminate()));
    for (const { code, ms } of stopped) {
      expect(code).toBe(0);
      // Well before the 10 s grace period after which a hanging process is made to exit.
      expect(ms).toBeLessThan(5000);
    }
  });
});
