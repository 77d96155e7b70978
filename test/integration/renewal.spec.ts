import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type INestApplication, NotFoundException } from '@nestjs/common';
import request from 'supertest';
import {
  AuthModule,
  MemoryRevocationStore,
  Scopes,
  type Principal,
  type TokenRenewer,
} from 'nest-tessera';
import {
  KeyRing,
  LocalTokenRenewer,
  MemorySessionStore,
  SessionManager,
  TokenIssuer,
} from 'nest-tessera/issuer';
import { ADAPTERS, createHttpApp, type AdapterName } from '../support/http-app.js';

const ISSUER = 'https://auth.renewal.test';

@Controller('orders')
class OrdersController {
  @Scopes('orders:read')
  @Get()
  list() {
    return [];
  }

  @Scopes('orders:read')
  @Get('missing')
  missing() {
    throw new NotFoundException();
  }
}

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Fixture {
  app: INestApplication;
  issuer: TokenIssuer;
  sessions: SessionManager;
  sessionStore: MemorySessionStore;
  renewals: string[];
}

async function fixture(
  adapter: AdapterName,
  options: {
    ttl?: number;
    sessionMaxAge?: number;
    renewer?: (local: TokenRenewer) => TokenRenewer;
  } = {},
): Promise<Fixture> {
  const keyRing = KeyRing.ephemeral('ES256');
  const revocations = new MemoryRevocationStore();
  const sessionStore = new MemorySessionStore();
  const issuer = new TokenIssuer({
    issuer: ISSUER,
    audience: 'orders-api',
    keyRing,
    accessTokenTtlSeconds: options.ttl ?? 60,
  });
  const sessions = new SessionManager({
    issuer,
    sessions: sessionStore,
    revocations,
    refreshTokenTtlSeconds: 3600,
    sessionMaxAgeSeconds: options.sessionMaxAge ?? 3600,
  });
  const local = new LocalTokenRenewer(sessions);
  const renewals: string[] = [];
  const app = await createHttpApp(adapter, {
    imports: [
      AuthModule.forRoot({
        issuers: [{ issuer: ISSUER, keys: keyRing.publicJwks().keys }],
        audience: 'orders-api',
        revocation: { store: revocations },
        renewal: {
          renewer: options.renewer?.(local) ?? local,
          windowSeconds: 300,
          budgetMs: 50,
        },
        events: { tokenRenewed: ({ result }) => renewals.push(result) },
      }),
    ],
    controllers: [OrdersController],
  });
  return { app, issuer, sessions, sessionStore, renewals };
}

/** `GET path` on the fixture's app with `token` as bearer token. */
const getOrders = (f: Fixture, token: string, path = '/orders') =>
  request(f.app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);

const login = (f: Fixture) =>
  f.sessions.login({
    subject: 'alice',
    tenant: 'seller-a',
    scopes: ['orders:read'],
    clientId: 'sample-app',
  });

describe.each(ADAPTERS)('sliding renewal on %s', (adapter) => {
  let f: Fixture;
  beforeAll(async () => (f = await fixture(adapter)));
  afterAll(() => f.app.close());

  it('answers a near-expiry token with a renewed one: same sub, tid, scope, sid; new jti and exp', async () => {
    const { access, session } = await login(f);
    await sleep(1100); // so the renewed token's exp is later by the clock's second
    const res = await getOrders(f, access.token).expect(200);
    const renewed = res.headers['x-renewed-token'];
    expect(typeof renewed).toBe('string');
    const claims = claimsOf(renewed);
    expect(claims).toMatchObject({
      sub: 'alice',
      tid: 'seller-a',
      scope: 'orders:read',
      sid: session.id,
      iss: ISSUER,
    });
    expect(claims.jti).not.toBe(access.claims.jti);
    expect(claims.exp as number).toBeGreaterThan(access.claims.exp);
    expect(claims.exp as number).toBeLessThanOrEqual(session.expiresAt);
    // The renewed token works, and is itself renewed when due.
    await getOrders(f, renewed).expect(200);
    expect(f.renewals).toContain('renewed');
  });

  it('gives no renewed token on an answer that is not a success', async () => {
    const { access } = await login(f);
    const res = await getOrders(f, access.token, '/orders/missing');
    expect(res.status).toBe(404);
    expect(res.headers['x-renewed-token']).toBeUndefined();
  });

  it('renews nothing for a session that has ended or been revoked', async () => {
    const { access, session } = await login(f);
    await f.sessionStore.revoke(session.id);
    const res = await getOrders(f, access.token).expect(200);
    expect(res.headers['x-renewed-token']).toBeUndefined();
    expect(f.renewals).toContain('skipped');
  });

  it('renews nothing for a client token (no session)', async () => {
    const client = f.issuer.issueAccessToken({
      subject: 'reports-job',
      scopes: ['orders:read'],
      clientId: 'reports-job',
    });
    const before = f.renewals.length;
    const res = await getOrders(f, client.token).expect(200);
    expect(res.headers['x-renewed-token']).toBeUndefined();
    expect(f.renewals.length).toBe(before);
  });
});

describe('renewal limits', () => {
  it('never renews past the session limit, and not at all once it is reached', async () => {
    const f = await fixture('express', { sessionMaxAge: 3 });
    try {
      const { access, session } = await login(f);
      const res = await getOrders(f, access.token).expect(200);
      const renewed = res.headers['x-renewed-token'];
      expect(typeof renewed).toBe('string');
      expect(claimsOf(renewed).exp as number).toBeLessThanOrEqual(session.expiresAt);
      await sleep(2100);
      // Less than a second of the session left: the renewed token is not renewed again.
      const late = await getOrders(f, renewed);
      expect(late.headers['x-renewed-token']).toBeUndefined();
    } finally {
      await f.app.close();
    }
  });

  it('does not hold the answer for a slow renewal, and delivers it on a later answer', async () => {
    const f = await fixture('express', {
      renewer: (local) => ({
        renew: async (token: string, principal: Principal) => {
          await sleep(700);
          return local.renew(token, principal);
        },
      }),
    });
    try {
      const { access } = await login(f);
      const started = performance.now();
      const first = await getOrders(f, access.token).expect(200);
      expect(performance.now() - started).toBeLessThan(600);
      expect(first.headers['x-renewed-token']).toBeUndefined();
      expect(f.renewals).toContain('timeout');
      await sleep(800);
      const later = await getOrders(f, access.token).expect(200);
      expect(typeof later.headers['x-renewed-token']).toBe('string');
    } finally {
      await f.app.close();
    }
  });

  it('turns a failing renewal into no header, never an error', async () => {
    const f = await fixture('express', {
      renewer: () => ({ renew: async () => Promise.reject(new Error('issuer down')) }),
    });
    try {
      const { access } = await login(f);
      const res = await getOrders(f, access.token).expect(200);
      expect(res.headers['x-renewed-token']).toBeUndefined();
      expect(f.renewals).toContain('failed');
    } finally {
      await f.app.close();
    }
  });

  it('leaves a token with more than the window left alone', async () => {
    const f = await fixture('express', { ttl: 900 });
    try {
      const { access } = await login(f);
      const res = await getOrders(f, access.token).expect(200);
      expect(res.headers['x-renewed-token']).toBeUndefined();
      expect(f.renewals).toEqual([]);
    } finally {
      await f.app.close();
    }
  });
});
