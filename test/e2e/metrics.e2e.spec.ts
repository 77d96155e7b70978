import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { KeyRing } from 'nest-tessera/issuer';
import { MemoryRevocationStore, type RevocationStore } from 'nest-tessera';
import { createAuthApp } from '../../sample-app/auth/auth-app.js';
import { loadConfig, type HttpAdapterName } from '../../sample-app/config.js';
import { JsonLogger } from '../../sample-app/http/json-logger.js';
import { createOrdersApp } from '../../sample-app/orders/orders-app.js';
import { freePort } from '../support/redis-process.js';
import { quiet, reportsJobToken } from '../support/sample-testing.js';

// Observability of the sample app: each service's own GET /metrics with the counters CONTRACT.md
// names, one JSON log line per event through the real JSON logger (its stdout captured), never
// a credential in that output; and GET /health.

const ISSUER = 'https://auth.metrics.test';
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Every `name{labels} value` sample of a Prometheus text exposition. */
function samples(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

/** Collects what is written to stdout (where the JSON logger writes) instead of printing it. */
class StdoutCapture {
  private readonly chunks: string[] = [];
  private original: typeof process.stdout.write | undefined;

  start(): void {
    this.original = process.stdout.write;
    process.stdout.write = ((chunk: string | Uint8Array) => {
      this.chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof process.stdout.write;
  }

  stop(): void {
    if (this.original !== undefined) process.stdout.write = this.original;
  }

  get text(): string {
    return this.chunks.join('');
  }
}

describe.each(['express', 'fastify'] as HttpAdapterName[])(
  '/metrics and the event log of the sample app on %s',
  (adapter) => {
    const stdout = new StdoutCapture();
    const apps: INestApplication[] = [];
    let revocations: RevocationStore;
    let authUrl: string;
    let ordersUrl: string;
    /** Every credential the test handles: none may appear in the log output. */
    const secrets = new Set<string>([
      'alice-password',
      'bob-password',
      'carol-password',
      'dave-password',
    ]);
    /**
     * Refresh tokens, whose secret parts are their last two (the family secret and their own
     * random part): the session id before them is logged, as it is in access tokens' claims.
     */
    const refreshTokens = new Set<string>();

    beforeAll(async () => {
      stdout.start();
      revocations = new MemoryRevocationStore();
      // Every token is near its expiry for orders (RENEW_WINDOW = ACCESS_TOKEN_TTL); 5 requests
      // per consumer per 30 s.
      const env = {
        AUTH_ISSUER: ISSUER,
        ACCESS_TOKEN_TTL: '900',
        RENEW_WINDOW: '900',
        THROTTLE_LIMIT: '5',
        THROTTLE_TTL: '30',
      };
      const auth = await createAuthApp(loadConfig(env), {
        adapter,
        logger: new JsonLogger('auth'),
        keyRing: KeyRing.ephemeral('ES256'),
        revocations,
      });
      apps.push(auth);
      await auth.listen(0, '127.0.0.1');
      authUrl = await auth.getUrl();
      const config = loadConfig({
        ...env,
        ORDERS_JWKS_URLS: `${authUrl}/.well-known/jwks.json`,
        ORDERS_RENEW_URL: `${authUrl}/auth/renew`,
      });
      const orders = await createOrdersApp(config, {
        adapter,
        logger: new JsonLogger('orders'),
        revocations,
      });
      apps.push(orders);
      await orders.listen(0, '127.0.0.1');
      ordersUrl = await orders.getUrl();
    });

    afterAll(async () => {
      for (const app of apps.reverse()) await app.close();
      await revocations.close();
      stdout.stop();
    });

    async function metricsOf(url: string): Promise<Map<string, number>> {
      const response = await request(url).get('/metrics').expect(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      return samples(response.text);
    }

    /** How much each sample moved while `step` ran, on `url`'s /metrics. */
    async function moved(url: string, step: () => Promise<void>): Promise<Map<string, number>> {
      const before = await metricsOf(url);
      await step();
      const after = await metricsOf(url);
      return new Map([...after].map(([name, value]) => [name, value - (before.get(name) ?? 0)]));
    }

    async function login(username: string): Promise<{ access: string; refresh: string }> {
      const response = await request(authUrl)
        .post('/auth/login')
        .send({ username, password: `${username}-password` })
        .expect(200);
      const cookie = ([] as string[])
        .concat(response.headers['set-cookie'] ?? [])
        .find((c) => c.startsWith('refresh_token='))!;
      const tokens = {
        access: response.body.access_token as string,
        refresh: cookie.split(';')[0].slice('refresh_token='.length),
      };
      secrets.add(tokens.access);
      refreshTokens.add(tokens.refresh);
      return tokens;
    }

    it('serves Prometheus text on both services, without a token and each its own', async () => {
      const orders = await metricsOf(ordersUrl);
      const auth = await metricsOf(authUrl);
      for (const metrics of [orders, auth]) {
        expect(metrics.get('tessera_revocation_hits_total')).toEqual(expect.any(Number));
        expect(metrics.get('tessera_throttled_requests_total')).toEqual(expect.any(Number));
        expect(metrics.get('tessera_token_renewals_total{result="renewed"}')).toEqual(
          expect.any(Number),
        );
      }
      expect(auth.get('tessera_refresh_total{result="rotated"}')).toEqual(expect.any(Number));
      expect(auth.get('tessera_refresh_reuse_detected_total')).toEqual(expect.any(Number));
    });

    it('counts a forged token as a verification failure with its reason', async () => {
      const { access } = await login('alice');
      // alice's token claiming bob's tenant: the signature no longer matches.
      const [header, payload, signature] = access.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const forgedPayload = Buffer.from(JSON.stringify({ ...claims, tid: 'seller-b' })).toString(
        'base64url',
      );
      const forged = `${header}.${forgedPayload}.${signature}`;
      secrets.add(forgedPayload);
      const delta = await moved(ordersUrl, async () => {
        await request(ordersUrl).get('/orders').set(bearer(forged)).expect(401);
      });
      expect(
        delta.get('tessera_token_verifications_total{result="failure",reason="bad_signature"}'),
      ).toBe(1);
      expect(delta.get('tessera_token_verifications_total{result="success",reason="none"}')).toBe(
        0,
      );
    });

    it('counts a revoked token (after logout) as a revocation hit', async () => {
      const { access } = await login('carol');
      await request(ordersUrl).get('/orders').set(bearer(access)).expect(200);
      await request(authUrl).post('/auth/logout').set(bearer(access)).expect(204);
      const delta = await moved(ordersUrl, async () => {
        await request(ordersUrl).get('/orders').set(bearer(access)).expect(401);
      });
      expect(delta.get('tessera_revocation_hits_total')).toBe(1);
    });

    it('counts a renewal', async () => {
      const { access } = await login('alice');
      const delta = await moved(ordersUrl, async () => {
        for (let i = 0; i < 5; i++) {
          const response = await request(ordersUrl).get('/orders').set(bearer(access)).expect(200);
          const renewed = response.headers['x-renewed-token'];
          if (typeof renewed === 'string') {
            secrets.add(renewed);
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        throw new Error('no renewed token');
      });
      expect(delta.get('tessera_token_renewals_total{result="renewed"}')).toBe(1);
      expect(delta.get('tessera_token_renewals_total{result="failed"}')).toBe(0);
    });

    it('counts refreshes and a refresh-token reuse on the auth service', async () => {
      const { refresh } = await login('dave');
      const delta = await moved(authUrl, async () => {
        const rotated = await request(authUrl)
          .post('/auth/refresh')
          .send({ refresh_token: refresh })
          .expect(200);
        secrets.add(rotated.body.access_token);
        const cookie = ([] as string[]).concat(rotated.headers['set-cookie'] ?? [])[0];
        refreshTokens.add(cookie.split(';')[0].slice('refresh_token='.length));
        await request(authUrl).post('/auth/refresh').send({ refresh_token: refresh }).expect(401);
      });
      expect(delta.get('tessera_refresh_total{result="rotated"}')).toBe(1);
      expect(delta.get('tessera_refresh_total{result="reused"}')).toBe(1);
      expect(delta.get('tessera_refresh_reuse_detected_total')).toBe(1);
      // The orders service has counters of its own: no refresh ever happened there.
      const orders = await metricsOf(ordersUrl);
      expect(orders.get('tessera_refresh_total{result="rotated"}')).toBe(0);
    });

    it('counts a throttled request', async () => {
      const { access } = await login('bob');
      const delta = await moved(ordersUrl, async () => {
        const statuses: number[] = [];
        for (let i = 0; i < 6; i++) {
          statuses.push((await request(ordersUrl).get('/orders').set(bearer(access))).status);
        }
        expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
      });
      expect(delta.get('tessera_throttled_requests_total')).toBe(1);
    });

    it('logs one JSON line per event, and never a token, a refresh token, a password or a secret', async () => {
      // The client secret goes through the log's service too.
      secrets.add(await reportsJobToken(authUrl));
      secrets.add('reports-job-secret');
      await new Promise((resolve) => setTimeout(resolve, 50));

      const output = stdout.text;
      const lines = output.split('\n').filter((line) => line !== '');
      const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const events = (name: string) => entries.filter((e) => e.event === name);
      expect(events('token_rejected')).toContainEqual(
        expect.objectContaining({ service: 'orders', reason: 'bad_signature' }),
      );
      expect(events('revocation_hit')).toContainEqual(
        expect.objectContaining({ service: 'orders', level: 'warn', sub: 'carol' }),
      );
      expect(events('token_renewal')).toContainEqual(
        expect.objectContaining({ service: 'orders', result: 'renewed' }),
      );
      expect(events('refresh_reuse_detected')).toContainEqual(
        expect.objectContaining({ service: 'auth', level: 'warn', sub: 'dave' }),
      );
      expect(events('request_throttled')).toContainEqual(
        expect.objectContaining({ service: 'orders', tracker: 'principal' }),
      );
      expect(events('jwks_fetch')).toContainEqual(
        expect.objectContaining({ service: 'orders', ok: true, issuer: ISSUER }),
      );
      expect(entries).toContainEqual(
        expect.objectContaining({ service: 'auth', path: '/auth/token', status: 200 }),
      );

      expect(secrets.size).toBeGreaterThan(8);
      expect(refreshTokens.size).toBeGreaterThan(2);
      for (const token of refreshTokens) {
        for (const secret of [token, ...token.split('.').slice(2)]) {
          expect(output).not.toContain(secret);
        }
      }
      for (const secret of secrets) {
        expect(output).not.toContain(secret);
        // Nor any part of a token: its claims or its signature.
        for (const part of secret.split('.').filter((p) => p.length > 20)) {
          expect(output).not.toContain(part);
        }
      }
    });
  },
);

describe('GET /health of the orders service', () => {
  const apps: INestApplication[] = [];

  afterAll(async () => {
    for (const app of apps.reverse()) await app.close().catch(() => undefined);
  });

  async function startAuth(issuer: string): Promise<{ app: INestApplication; url: string }> {
    const app = await createAuthApp(loadConfig({ AUTH_ISSUER: issuer }), {
      logger: quiet,
      keyRing: KeyRing.ephemeral('EdDSA'),
    });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    return { app, url: await app.getUrl() };
  }

  async function startOrders(env: Record<string, string>): Promise<string> {
    const app = await createOrdersApp(loadConfig(env), { adapter: 'fastify', logger: quiet });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    return app.getUrl();
  }

  it('is 200 ok with keys to be had, 503 naming jwks without any, degraded with some', async () => {
    const auth = await startAuth('https://a.health.test');
    const nowhere = `http://127.0.0.1:${await freePort()}/.well-known/jwks.json`;

    const ready = await startOrders({
      AUTH_ISSUER: 'https://a.health.test',
      ORDERS_JWKS_URLS: `${auth.url}/.well-known/jwks.json`,
    });
    await request(ready).get('/health').expect(200, { status: 'ok' });

    const blind = await startOrders({
      AUTH_ISSUER: 'https://a.health.test',
      ORDERS_JWKS_URLS: nowhere,
    });
    const down = await request(blind).get('/health').expect(503);
    expect(down.headers['cache-control']).toBe('no-store');
    expect(down.body).toEqual({
      status: 'unavailable',
      failing: { jwks: expect.stringContaining('https://a.health.test') },
    });

    const half = await startOrders({
      AUTH_ISSUER: 'https://a.health.test',
      ORDERS_TRUSTED_ISSUERS: 'https://a.health.test,https://b.health.test',
      ORDERS_JWKS_URLS: `${auth.url}/.well-known/jwks.json,${nowhere}`,
    });
    const degraded = await request(half).get('/health').expect(200);
    expect(degraded.body).toEqual({
      status: 'degraded',
      failing: { jwks: expect.stringContaining('https://b.health.test') },
    });
    expect(degraded.body.failing.jwks).not.toContain('https://a.health.test');
  });

  it('stays 200 once the keys are loaded, though the JWKS endpoint goes away', async () => {
    const auth = await startAuth('https://c.health.test');
    const orders = await startOrders({
      AUTH_ISSUER: 'https://c.health.test',
      ORDERS_JWKS_URLS: `${auth.url}/.well-known/jwks.json`,
    });
    const login = await request(auth.url)
      .post('/auth/login')
      .send({ username: 'alice', password: 'alice-password' })
      .expect(200);
    await request(orders).get('/orders').set(bearer(login.body.access_token)).expect(200);
    await auth.app.close();
    // The verifier keeps the keys it loaded: tokens are still verified, so the service is ready.
    await request(orders).get('/health').expect(200, { status: 'ok' });
    await request(orders).get('/orders').set(bearer(login.body.access_token)).expect(200);
  });
});
