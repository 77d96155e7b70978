import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Get,
  type INestApplication,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  TerminusModule,
  type HealthCheckResult,
} from '@nestjs/terminus';
import request from 'supertest';
import {
  AuthModule,
  MemoryRevocationStore,
  Public,
  type AuthModuleOptions,
  type RevocationStore,
} from 'nest-tessera';
import { redis } from 'nest-tessera/redis';
import { AuthHealthIndicator } from 'nest-tessera/terminus';
// Not exported: AuthModule's own verifier, as an application's first request would use it.
import { TokenVerifier } from '../../lib/verify/token-verifier.js';
import { AUDIENCE, ISSUER, OTHER_ISSUER } from '../support/forged-tokens.js';
import { ADAPTERS, createHttpApp, type AdapterName } from '../support/http-app.js';
import { IssuerServer, OIDC_PATH } from '../support/issuer-server.js';
import { JwksServer } from '../support/jwks-server.js';
import { makeKey, validToken } from '../support/keys.js';
import { freePort } from '../support/redis-process.js';
import { RedisServer, uniquePrefix } from '../support/redis-server.js';

// nest-tessera/terminus: AuthHealthIndicator's two checks run by terminus's own HealthCheckService,
// against a real JWKS endpoint on loopback and a redis-server of this suite's own that it kills and
// starts again. What terminus answers is what an application's /health would serve.

const key = makeKey('ES256');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** terminus's result, whether it resolved (all up) or rejected with its 503 (something down). */
type Outcome = HealthCheckResult & { readonly httpStatus: 200 | 503 };

interface HealthFixture {
  readonly app: INestApplication;
  /** Both checks, under their default keys `jwks` and `revocation`. */
  check(): Promise<Outcome>;
}

const apps: INestApplication[] = [];
afterEach(async () => {
  for (const app of apps.splice(0).reverse()) await app.close();
});

/** `options` over a static key and revocation in memory (`revocation: undefined` turns it off). */
async function healthOf(options: Partial<AuthModuleOptions>): Promise<HealthFixture> {
  const app = await createHttpApp('express', {
    imports: [
      TerminusModule.forRoot({ logger: false }),
      AuthModule.forRoot({
        issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }],
        audience: AUDIENCE,
        revocation: {},
        ...options,
      }),
    ],
    providers: [AuthHealthIndicator],
  });
  apps.push(app);
  const health = app.get(HealthCheckService);
  const auth = app.get(AuthHealthIndicator);
  return {
    app,
    check: () =>
      health.check([() => auth.checkKeys(), () => auth.checkRevocationStore()]).then(
        (result) => ({ ...result, httpStatus: 200 as const }),
        (error: unknown) => {
          if (!(error instanceof ServiceUnavailableException)) throw error;
          return { ...(error.getResponse() as HealthCheckResult), httpStatus: 503 as const };
        },
      ),
  };
}

/** Polls `check` until `done` holds (or fails with the last outcome after `ms`). */
async function until(
  check: () => Promise<Outcome>,
  done: (outcome: Outcome) => boolean,
  ms: number,
): Promise<Outcome> {
  const deadline = performance.now() + ms;
  for (;;) {
    const outcome = await check();
    if (done(outcome)) return outcome;
    if (performance.now() > deadline) throw new Error(`still ${JSON.stringify(outcome)}`);
    await sleep(100);
  }
}

describe('AuthHealthIndicator.checkKeys', () => {
  let jwks: JwksServer;
  let clock: number;

  beforeAll(async () => {
    jwks = await new JwksServer().start();
  });
  afterAll(() => jwks.stop());

  const jwksOptions = (jwksUri: string, cooldownSeconds = 5): Partial<AuthModuleOptions> => ({
    issuers: [{ issuer: ISSUER, jwksUri }],
    jwks: { cooldownSeconds, cacheTtlSeconds: 60 },
    now: () => clock,
    verifiedTokenCacheSize: 0,
  });

  it('is up once the JWKS answers with keys, and the check loaded them for the first token', async () => {
    clock = 1_700_000_000;
    jwks.keys = [key.publicJwk];
    jwks.fetches = 0;
    const { app, check } = await healthOf(jwksOptions(jwks.uri));

    const outcome = await check();
    expect(outcome).toMatchObject({
      status: 'ok',
      httpStatus: 200,
      details: {
        jwks: {
          status: 'up',
          issuers: { [ISSUER]: { available: true, keyCount: 1, fetchedAt: clock } },
        },
        revocation: { status: 'up', enabled: true, reachable: true, current: true },
      },
    });
    expect(outcome.details.jwks).not.toHaveProperty('message');
    expect(jwks.fetches).toBe(1);
    // The first token is verified from the keys the check fetched: no download of its own.
    await app.get(TokenVerifier).verify(validToken(key, clock));
    expect(jwks.fetches).toBe(1);
  });

  it('is down, naming the issuer, while its JWKS is unreachable and no keys were ever had', async () => {
    clock = 1_700_000_000;
    const nowhere = `http://127.0.0.1:${await freePort()}/jwks.json`;
    const { check } = await healthOf({
      ...jwksOptions(nowhere),
      issuers: [
        { issuer: ISSUER, jwksUri: nowhere },
        { issuer: OTHER_ISSUER, keys: [makeKey('EdDSA').publicJwk] },
      ],
    });

    const outcome = await check();
    expect(outcome).toMatchObject({
      status: 'error',
      httpStatus: 503,
      error: {
        jwks: {
          status: 'down',
          message: `no usable keys for ${ISSUER}`,
          issuers: {
            [ISSUER]: { available: false, keyCount: 0, lastError: expect.stringMatching(/fetch/) },
            [OTHER_ISSUER]: { available: true, keyCount: 1 },
          },
        },
      },
      // The revocation store (in memory) is up all the same.
      info: { revocation: { status: 'up' } },
    });
    expect(outcome.details.jwks.issuers[ISSUER]).not.toHaveProperty('fetchedAt');
  });

  it('is down while an issuer configured for discovery has not been found, up once it is', async () => {
    clock = 1_700_000_000;
    const issuer = await new IssuerServer().start();
    issuer.keys = [key.publicJwk];
    issuer.routes.set(OIDC_PATH, issuer.metadata());
    await issuer.stop();
    try {
      const { check } = await healthOf({
        ...jwksOptions(jwks.uri, 1),
        issuers: [{ issuer: issuer.issuer, discovery: true }],
      });
      expect((await check()).error?.jwks).toMatchObject({
        status: 'down',
        message: `no usable keys for ${issuer.issuer}`,
        issuers: {
          [issuer.issuer]: { available: false, lastError: expect.stringMatching(/^discovery: /) },
        },
      });
      await issuer.restart();
      const outcome = await until(check, (o) => o.status === 'ok', 10_000);
      expect(outcome.details.jwks.issuers[issuer.issuer]).toMatchObject({
        available: true,
        keyCount: 1,
      });
    } finally {
      await issuer.stop();
    }
  });

  it('is down while the JWKS has no usable key, and asks it again only once per cooldown', async () => {
    clock = 1_700_000_000;
    jwks.keys = [];
    jwks.fetches = 0;
    const { check } = await healthOf(jwksOptions(jwks.uri, 5));

    for (let i = 0; i < 3; i++) {
      expect((await check()).error?.jwks).toMatchObject({
        status: 'down',
        issuers: { [ISSUER]: { available: false, keyCount: 0 } },
      });
    }
    expect(jwks.fetches).toBe(1);
    jwks.keys = [key.publicJwk];
    clock += 6;
    expect(await check()).toMatchObject({ status: 'ok', details: { jwks: { status: 'up' } } });
    expect(jwks.fetches).toBe(2);
  });

  it('stays up on keys it fetched once the endpoint goes away, and says the refetch failed', async () => {
    clock = 1_700_000_000;
    const own = await new JwksServer().start();
    own.keys = [key.publicJwk];
    const { app, check } = await healthOf(jwksOptions(own.uri, 1));
    expect((await check()).status).toBe('ok');
    await own.stop();
    // Past the cache's lifetime a token makes the client fetch again, in vain.
    clock += 120;
    await app.get(TokenVerifier).verify(validToken(key, clock));
    await until(check, (o) => o.details.jwks.issuers[ISSUER].lastError !== undefined, 5000);

    const outcome = await check();
    expect(outcome).toMatchObject({
      status: 'ok',
      details: {
        jwks: {
          status: 'up',
          issuers: {
            [ISSUER]: { available: true, keyCount: 1, fetchedAt: 1_700_000_000 },
          },
        },
      },
    });
  });
});

describe('AuthHealthIndicator.checkRevocationStore', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(() => server.stop());

  it('is down while its Redis is unreachable, and up again once it answers', async () => {
    const { check } = await healthOf({
      redis: redis(server.url),
      revocation: { keyPrefix: uniquePrefix('terminus-health') },
    });
    const up = await until(check, (o) => o.status === 'ok', 5000);
    expect(up.details.revocation).toEqual({
      status: 'up',
      enabled: true,
      reachable: true,
      current: true,
    });

    await server.stop();
    const down = await until(check, (o) => o.status === 'error', 5000);
    expect(down).toMatchObject({
      httpStatus: 503,
      error: {
        revocation: {
          status: 'down',
          enabled: true,
          reachable: false,
          message: expect.stringContaining('Redis did not answer'),
        },
      },
      // The keys are not Redis's business.
      info: { jwks: { status: 'up' } },
    });
    expect(down.error).not.toHaveProperty('jwks');

    await server.start();
    const again = await until(check, (o) => o.status === 'ok', 10_000);
    expect(again.details.revocation).toMatchObject({ reachable: true, current: true });
  });

  it('is down when its Redis was never reachable', async () => {
    const { check } = await healthOf({
      redis: redis(`redis://127.0.0.1:${await freePort()}`),
      revocation: { keyPrefix: uniquePrefix('terminus-health') },
    });
    expect(await check()).toMatchObject({
      status: 'error',
      error: { revocation: { status: 'down', reachable: false, current: false } },
    });
  });

  it('is always up in memory, and up with enabled: false when revocation is off (no start-up error)', async () => {
    expect((await (await healthOf({})).check()).details.revocation).toEqual({
      status: 'up',
      enabled: true,
      reachable: true,
      current: true,
    });
    expect((await (await healthOf({ revocation: undefined })).check()).details.revocation).toEqual({
      status: 'up',
      enabled: false,
    });
  });

  it('judges a store without health() by isCurrent', async () => {
    const memory = new MemoryRevocationStore();
    let current = true;
    const store: RevocationStore = {
      revokeToken: (jti, at) => memory.revokeToken(jti, at),
      revokeSession: (sid, at) => memory.revokeSession(sid, at),
      revokeSubject: (subject, before, at) => memory.revokeSubject(subject, before, at),
      isRevoked: (query) => memory.isRevoked(query),
      isRevokedStrong: (query) => memory.isRevokedStrong(query),
      get isCurrent() {
        return current;
      },
      close: () => memory.close(),
    };
    const { check } = await healthOf({ revocation: { store } });
    expect((await check()).status).toBe('ok');
    current = false;
    expect((await check()).error?.revocation).toMatchObject({
      status: 'down',
      reachable: false,
      current: false,
    });
  });
});

/** The wiring docs/health.md shows: terminus's answer as it is, behind @Public(). */
@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly auth: AuthHealthIndicator,
  ) {}

  @Public()
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.auth.checkKeys('jwks'),
      () => this.auth.checkRevocationStore('revocation'),
    ]);
  }
}

describe.each(ADAPTERS)(
  'GET /health wired as docs/health.md shows, on %s',
  (adapter: AdapterName) => {
    const healthApp = async (jwksUri: string) => {
      const app = await createHttpApp(adapter, {
        imports: [
          TerminusModule.forRoot({ logger: false }),
          AuthModule.forRoot({
            issuers: [{ issuer: ISSUER, jwksUri }],
            audience: AUDIENCE,
            revocation: {},
          }),
        ],
        controllers: [HealthController],
        providers: [AuthHealthIndicator],
      });
      apps.push(app);
      return app;
    };

    it('answers 200 without a token while the keys are to be had, 503 naming jwks when not', async () => {
      const jwks = await new JwksServer().start();
      jwks.keys = [key.publicJwk];
      try {
        const ok = await request((await healthApp(jwks.uri)).getHttpServer())
          .get('/health')
          .expect(200);
        expect(ok.body).toMatchObject({
          status: 'ok',
          details: { jwks: { status: 'up' }, revocation: { status: 'up' } },
        });
      } finally {
        await jwks.stop();
      }
      const nowhere = `http://127.0.0.1:${await freePort()}/jwks.json`;
      const down = await request((await healthApp(nowhere)).getHttpServer())
        .get('/health')
        .expect(503);
      expect(down.body).toMatchObject({
        status: 'error',
        error: { jwks: { status: 'down', message: `no usable keys for ${ISSUER}` } },
      });
    });
  },
);
