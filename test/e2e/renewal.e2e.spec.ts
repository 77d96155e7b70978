import { createServer, type Server, type Socket } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { KeyRing } from 'nest-tessera/issuer';
import { MemoryRevocationStore, type RevocationStore } from 'nest-tessera';
import { createAuthApp } from '../../sample-app/auth/auth-app.js';
import { loadConfig, type HttpAdapterName } from '../../sample-app/config.js';
import { createOrdersApp } from '../../sample-app/orders/orders-app.js';
import { CapturingLogger, decodeJwt, reportsJobToken } from '../support/sample-testing.js';

// Sliding renewal through the sample app: the orders service asks the running auth service's
// POST /auth/renew for a new token when a valid session token has less than RENEW_WINDOW left,
// and hands it back in X-Renewed-Token on a 2xx answer, without holding the answer back.

const ISSUER = 'https://auth.renewal.test';
const HEADER = 'x-renewed-token';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

const decode = decodeJwt;

/** A TCP listener that accepts connections and never answers: a renewal endpoint that hangs. */
class SilentListener {
  readonly sockets: Socket[] = [];
  private constructor(private readonly server: Server) {}

  static async start(): Promise<SilentListener> {
    const server = createServer();
    const listener = new SilentListener(server);
    server.on('connection', (socket) => listener.sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return listener;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/auth/renew`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe.each(['express', 'fastify'] as HttpAdapterName[])(
  'sliding renewal through the sample app on %s',
  (adapter) => {
    const apps: INestApplication[] = [];
    const stores: RevocationStore[] = [];
    let silent: SilentListener;

    /** An auth service and its URL; in-memory stores, the revocation list shared with `shared`. */
    async function startAuth(env: Record<string, string>, revocations: RevocationStore) {
      const logger = new CapturingLogger();
      const app = await createAuthApp(loadConfig({ AUTH_ISSUER: ISSUER, ...env }), {
        adapter,
        logger,
        keyRing: KeyRing.ephemeral('ES256'),
        revocations,
      });
      apps.push(app);
      await app.listen(0, '127.0.0.1');
      return { url: await app.getUrl(), logger };
    }

    /** An orders service trusting the auth service at `authUrl`, renewing there by default. */
    async function startOrders(
      authUrl: string,
      env: Record<string, string>,
      revocations?: RevocationStore,
    ) {
      const config = loadConfig({
        AUTH_ISSUER: ISSUER,
        ORDERS_JWKS_URLS: `${authUrl}/.well-known/jwks.json`,
        ORDERS_RENEW_URL: `${authUrl}/auth/renew`,
        ...env,
      });
      const logger = new CapturingLogger();
      const app = await createOrdersApp(config, { adapter, logger, revocations });
      apps.push(app);
      await app.listen(0, '127.0.0.1');
      return { url: await app.getUrl(), logger };
    }

    // Tokens live 900 s (the default). `eager` renews any token with less than 900 s left, so
    // every token is near its expiry there; `standard` keeps the default window (300 s).
    const EAGER = { ACCESS_TOKEN_TTL: '900', RENEW_WINDOW: '900' };
    let auth: { url: string; logger: CapturingLogger };
    let eager: { url: string; logger: CapturingLogger };
    let standard: { url: string; logger: CapturingLogger };

    beforeAll(async () => {
      // As under `npm start`: the auth and the orders services share one revocation list.
      const shared = new MemoryRevocationStore();
      stores.push(shared);
      auth = await startAuth({}, shared);
      eager = await startOrders(auth.url, EAGER, shared);
      standard = await startOrders(auth.url, {}, shared);
      silent = await SilentListener.start();
    });

    afterAll(async () => {
      for (const app of apps.reverse()) await app.close();
      for (const store of stores) await store.close();
      await silent.close();
    });

    async function login(username = 'alice', authUrl = auth.url): Promise<string> {
      const response = await request(authUrl)
        .post('/auth/login')
        .send({ username, password: `${username}-password` })
        .expect(200);
      return response.body.access_token;
    }

    /**
     * Sends `GET /orders` with `token` until an answer carries a renewed token; every answer must
     * be a 200. Fails after `attempts` requests.
     */
    async function renewedWithin(url: string, token: string, attempts = 5): Promise<string> {
      for (let i = 0; i < attempts; i++) {
        const response = await request(url).get('/orders').set(bearer(token)).expect(200);
        const renewed = response.headers[HEADER];
        if (typeof renewed === 'string') return renewed;
        await sleep(20);
      }
      throw new Error(`no ${HEADER} within ${attempts} requests`);
    }

    /** Sends `count` requests built by `send`, each a little apart, and returns the answers. */
    async function answers(count: number, send: () => request.Test): Promise<request.Response[]> {
      const all: request.Response[] = [];
      for (let i = 0; i < count; i++) {
        all.push(await send());
        await sleep(30);
      }
      return all;
    }

    it('renews a near-expiry token within a few requests: same sub, tid, scope, sid, a new jti and exp, from the auth service', async () => {
      const token = await login('alice');
      // A second later, so that the renewed token's exp differs from the first one's.
      await sleep(1100);
      const renewed = await renewedWithin(eager.url, token);

      const before = decode(token);
      const after = decode(renewed);
      expect(after.header).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
      for (const claim of ['iss', 'sub', 'aud', 'tid', 'scope', 'sid', 'client_id']) {
        expect(after.claims[claim]).toEqual(before.claims[claim]);
      }
      expect(after.claims).toMatchObject({ sub: 'alice', tid: 'seller-a', iss: ISSUER });
      expect(after.claims.jti).not.toBe(before.claims.jti);
      expect(after.claims.exp).toBeGreaterThan(before.claims.exp as number);
      expect(after.claims.iat).toBeGreaterThan(before.claims.iat as number);
      // The default session limit is a day from login.
      expect(after.claims.exp).toBeLessThanOrEqual((before.claims.iat as number) + 86_400);

      // It came from the running auth service's POST /auth/renew, asked with the old token.
      expect(auth.logger.requests('/auth/renew')).toContainEqual(
        expect.objectContaining({ method: 'POST', status: 200, sub: 'alice' }),
      );
      // And it is a token like any other: orders accepts it.
      await request(eager.url).get('/orders').set(bearer(renewed)).expect(200);
      await request(standard.url).get('/orders').set(bearer(renewed)).expect(200);
    });

    it('gives a token far from its expiry no renewed token', async () => {
      const token = await login('bob');
      const calls = auth.logger.requests('/auth/renew').length;
      const all = await answers(5, () => request(standard.url).get('/orders').set(bearer(token)));
      for (const response of all) {
        expect(response.status).toBe(200);
        expect(response.headers[HEADER]).toBeUndefined();
      }
      expect(auth.logger.requests('/auth/renew')).toHaveLength(calls);
    });

    it('never renews a service client token', async () => {
      const token = await reportsJobToken(auth.url);
      expect(decode(token).claims.sid).toBeUndefined();
      const calls = auth.logger.requests('/auth/renew').length;
      const all = await answers(5, () => request(eager.url).get('/orders').set(bearer(token)));
      for (const response of all) {
        expect(response.status).toBe(200);
        expect(response.headers[HEADER]).toBeUndefined();
      }
      expect(auth.logger.requests('/auth/renew')).toHaveLength(calls);
      // Asked directly, the auth service refuses it too: a client token has no session.
      const direct = await request(auth.url).post('/auth/renew').set(bearer(token)).expect(401);
      expect(direct.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });

    it('gives no renewed token to a 4xx answer, even once the renewal is ready', async () => {
      const token = await login('alice');
      const missing = () => request(eager.url).get('/orders/no-such-order').set(bearer(token));
      const first = await missing().expect(404);
      expect(first.headers[HEADER]).toBeUndefined();
      // The renewal started with the first request; let it finish at the auth service.
      for (let i = 0; auth.logger.requests('/auth/renew').length === 0 && i < 100; i++) {
        await sleep(10);
      }
      await sleep(50);
      for (const response of await answers(3, missing)) {
        expect(response.status).toBe(404);
        expect(response.headers[HEADER]).toBeUndefined();
      }
      // carol may read but not create: 403, and no token either.
      const carol = await login('carol');
      const refused = await answers(3, () =>
        request(eager.url).post('/orders').set(bearer(carol)).send({ item: 'pen', qty: 1 }),
      );
      for (const response of refused) {
        expect(response.status).toBe(403);
        expect(response.headers[HEADER]).toBeUndefined();
      }
      // The renewal was there all along: the next 2xx answer carries it at once.
      const ok = await request(eager.url).get('/orders').set(bearer(token)).expect(200);
      expect(ok.headers[HEADER]).toEqual(expect.any(String));
    });

    it('renews nothing for a revoked session: orders refuses the token, and the auth service will not renew it even for an orders instance that has not heard of the logout', async () => {
      const token = await login('dave');
      await request(auth.url).post('/auth/logout').set(bearer(token)).expect(204);

      const refused = await request(eager.url).get('/orders').set(bearer(token)).expect(401);
      expect(refused.headers[HEADER]).toBeUndefined();

      const direct = await request(auth.url).post('/auth/renew').set(bearer(token)).expect(401);
      expect(direct.headers['www-authenticate']).toBe('Bearer error="invalid_token"');

      // An orders instance with a revocation list of its own, which never heard of the logout,
      // still accepts the token; the auth service asks its own list and refuses to renew it.
      const own = new MemoryRevocationStore();
      stores.push(own);
      const unaware = await startOrders(auth.url, EAGER, own);
      const refusals = () =>
        auth.logger.requests('/auth/renew').filter((r) => r.status === 401).length;
      const before = refusals();
      const all = await answers(5, () => request(unaware.url).get('/orders').set(bearer(token)));
      for (const response of all) {
        expect(response.status).toBe(200);
        expect(response.headers[HEADER]).toBeUndefined();
      }
      expect(refusals()).toBeGreaterThan(before);
      expect(auth.logger.requests('/auth/renew').at(-1)).toMatchObject({
        status: 401,
        reason: 'revoked',
      });
    });

    it('never renews past the absolute session limit (SESSION_MAX_AGE=3), and refuses to renew at the limit', async () => {
      const shared = new MemoryRevocationStore();
      stores.push(shared);
      const short = await startAuth({ SESSION_MAX_AGE: '3' }, shared);
      const orders = await startOrders(short.url, EAGER, shared);
      const token = await login('alice', short.url);
      const sessionEnd = (decode(token).claims.iat as number) + 3;
      expect(decode(token).claims.exp).toBeLessThanOrEqual(sessionEnd);

      const renewed = await renewedWithin(orders.url, token);
      const claims = decode(renewed).claims;
      expect(claims.jti).not.toBe(decode(token).claims.jti);
      expect(claims.sid).toBe(decode(token).claims.sid);
      expect(claims.exp).toBeLessThanOrEqual(sessionEnd);

      // Under a second before the end: the token is still valid, but nothing more is issued.
      await sleep(Math.max(0, (sessionEnd - 0.8) * 1000 - Date.now()));
      const late = await request(short.url).post('/auth/renew').set(bearer(renewed));
      expect(late.status).toBe(401);
      expect(late.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });

    it('does not hold the answer back for a renewal that hangs (the renewal endpoint never answers)', async () => {
      const stalled = await startOrders(auth.url, { ...EAGER, ORDERS_RENEW_URL: silent.url });
      const token = await login('bob');
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const response = await request(stalled.url).get('/orders').set(bearer(token));
        const ms = performance.now() - started;
        expect(response.status).toBe(200);
        expect(response.headers[HEADER]).toBeUndefined();
        // The renewal call itself is abandoned only after 2 s: the answer did not wait for it.
        expect(ms).toBeLessThan(1000);
      }
      // The renewal was asked for (once: requests with the same token share it).
      expect(silent.sockets.length).toBeGreaterThanOrEqual(1);
      const metrics = await request(stalled.url).get('/metrics').expect(200);
      expect(counter(metrics.text, 'tessera_token_renewals_total{result="timeout"}')).toBe(5);
      expect(counter(metrics.text, 'tessera_token_renewals_total{result="renewed"}')).toBe(0);
    });
  },
);

/** The value of the sample `name{labels}` in a Prometheus text exposition. */
function counter(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  if (line === undefined) throw new Error(`no ${sample} in:\n${text}`);
  return Number(line.slice(sample.length + 1));
}
