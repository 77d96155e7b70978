import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AUTH_MAIN, ensureBuild, freePort, ORDERS_MAIN } from './built-app.js';
import { Service } from './service-process.js';

// The built orders service throttling on the Node running this suite (20 in CI), as
// `npm run start:orders` runs it: @nestjs/throttler (CommonJS) requires the ESM-only Nest there
// through Node's own require(esm). The in-process specs cover the rules (they run on Node 24,
// where Jest can load @nestjs/throttler; test/setup/require-esm.js); this one covers the runtime,
// on Express and Fastify.

const HTTP_ADAPTERS = ['express', 'fastify'] as const;

describe('throttling in the built orders service (THROTTLE_LIMIT=2, THROTTLE_TTL=60)', () => {
  let cwd: string;
  let auth: Service;
  const orders = new Map<string, Service>();
  const services: Service[] = [];

  beforeAll(async () => {
    ensureBuild();
    // An empty working directory: a developer's .env must not change what is tested here.
    cwd = mkdtempSync(join(tmpdir(), 'tessera-throttling-'));
    const authPort = await freePort();
    const env = {
      AUTH_ISSUER: `http://127.0.0.1:${authPort}`,
      THROTTLE_LIMIT: '2',
      THROTTLE_TTL: '60',
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
    for (const adapter of HTTP_ADAPTERS) {
      const port = await freePort();
      const service = new Service(
        `orders-${adapter}`,
        `http://127.0.0.1:${port}`,
        ORDERS_MAIN,
        { ...env, ORDERS_PORT: String(port), HTTP_ADAPTER: adapter },
        cwd,
      );
      services.push(service);
      orders.set(adapter, service);
    }
    await Promise.all([...orders.values()].map((service) => service.ready()));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(services.map((service) => service.kill()));
    if (cwd !== undefined) rmSync(cwd, { recursive: true, force: true });
  });

  async function login(username: string): Promise<string> {
    const response = await fetch(`${auth.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: `${username}-password` }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  it.each(HTTP_ADAPTERS)(
    'on %s: answers a consumer over its limit 429 with Retry-After, another consumer 200',
    async (adapter) => {
      const instance = orders.get(adapter)!;
      const list = async (token: string) => {
        const response = await fetch(`${instance.url}/orders`, {
          headers: { authorization: `Bearer ${token}` },
        });
        return {
          status: response.status,
          retryAfter: response.headers.get('retry-after'),
          body: await response.json(),
        };
      };
      const alice = await login('alice');
      expect((await list(alice)).status).toBe(200);
      expect((await list(alice)).status).toBe(200);
      const over = await list(alice);
      expect(over.status).toBe(429);
      expect(over.retryAfter).toMatch(/^\d+$/);
      expect(Number(over.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(over.retryAfter)).toBeLessThanOrEqual(60);
      expect(over.body).toEqual({ statusCode: 429, message: 'Too Many Requests' });
      expect((await list(await login('bob'))).status).toBe(200);
      // Never throttled.
      for (let i = 0; i < 5; i++) expect((await fetch(`${instance.url}/health`)).status).toBe(200);
    },
  );
});
