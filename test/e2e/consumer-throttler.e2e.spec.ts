import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  type CanActivate,
  Controller,
  Get,
  type INestApplication,
  Injectable,
  Module,
  type Type,
  UseGuards,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import {
  SkipThrottle,
  Throttle,
  ThrottlerModule,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
} from '@nestjs/throttler';
import { Redis } from 'ioredis';
import request from 'supertest';
import {
  AuthModule,
  BearerGuard,
  MemoryRevocationStore,
  Public,
  Scopes,
  type AuthEvents,
} from 'nest-tessera';
import { redis } from 'nest-tessera/redis';
import {
  ConsumerThrottlerGuard,
  MemoryThrottlerStorage,
  RedisThrottlerStorage,
} from 'nest-tessera/throttler';
import { TestIssuer } from 'nest-tessera/testing';
import { AUDIENCE, ISSUER, OTHER_ISSUER } from '../support/forged-tokens.js';
import { ADAPTERS, createHttpApp, type AdapterName } from '../support/http-app.js';
import { forge, validClaims } from '../support/keys.js';
import { deleteKeys, RedisServer, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';
import { settlesWithin } from '../support/settles-within.js';

// ConsumerThrottlerGuard in Nest applications on Express and Fastify: @nestjs/throttler's guard,
// counting each request against its verified consumer, else against the client IP. Every
// application here is new for its test, since all requests come from one IP. Limit: 3 a minute
// per route (throttler's own keys), so that no window ends during a test.

const issuer = TestIssuer.create({ issuer: ISSUER, audience: AUDIENCE });
/** A second trusted issuer. */
const other = TestIssuer.create({ issuer: OTHER_ISSUER, audience: AUDIENCE });
/** Names the trusted issuer, with a key nobody trusts. */
const attacker = TestIssuer.create({ issuer: ISSUER, audience: AUDIENCE });
const now = () => Math.floor(Date.now() / 1000);
const LIMIT = 3;

const user = (sub: string, claims: Record<string, unknown> = {}) =>
  issuer.token({ sub, sid: 'session-1', scope: 'orders:read', ...claims });

@Controller('orders')
class OrdersController {
  @Scopes('orders:read')
  @Get()
  list() {
    return [];
  }

  @Throttle({ default: { limit: 1, ttl: 60_000 } })
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

/** The same routes, throttled only after the (global) bearer guard has run. */
@Controller('late')
@UseGuards(ConsumerThrottlerGuard)
class LateThrottledController {
  @Scopes('orders:read')
  @Get()
  list() {
    return [];
  }
}

interface Recorded {
  verified: number;
  rejected: string[];
  revocationHits: number;
  throttled: string[];
}

function recorder(): { events: AuthEvents; seen: Recorded } {
  const seen: Recorded = { verified: 0, rejected: [], revocationHits: 0, throttled: [] };
  return {
    seen,
    events: {
      tokenVerified: () => void seen.verified++,
      tokenRejected: ({ error }) => void seen.rejected.push(error.reason),
      revocationHit: () => void seen.revocationHits++,
      requestThrottled: ({ tracker }) => void seen.throttled.push(tracker),
    },
  };
}

interface AppOptions {
  readonly events?: AuthEvents;
  readonly revocations?: MemoryRevocationStore;
  readonly throttler?: Partial<Exclude<ThrottlerModuleOptions, unknown[]>>;
  /** Register the guard as an APP_GUARD of the root module (the documented way). */
  readonly globalThrottler?: boolean;
  /** Trust OTHER_ISSUER too. */
  readonly twoIssuers?: boolean;
  /** The APP_GUARD. @default ConsumerThrottlerGuard */
  readonly guard?: Type<CanActivate>;
}

function appOn(adapter: AdapterName, options: AppOptions = {}): Promise<INestApplication> {
  const { events, revocations, throttler, globalThrottler = true, twoIssuers = false } = options;
  const guard = options.guard ?? ConsumerThrottlerGuard;
  const issuers = twoIssuers ? [issuer.trusted, other.trusted] : [issuer.trusted];
  return createHttpApp(adapter, {
    imports: [
      AuthModule.forRoot({
        issuers,
        audience: AUDIENCE,
        revocation: revocations === undefined ? undefined : { store: revocations },
        events,
      }),
      ThrottlerModule.forRoot({
        throttlers: [{ limit: LIMIT, ttl: 60_000 }],
        storage: new MemoryThrottlerStorage(),
        errorMessage: 'Too Many Requests',
        ...throttler,
      }),
    ],
    controllers: [OrdersController, LateThrottledController],
    providers: globalThrottler ? [{ provide: APP_GUARD, useClass: guard }] : [],
  });
}

async function statuses(
  app: INestApplication,
  count: number,
  token?: string,
  path = '/orders',
): Promise<number[]> {
  const codes: number[] = [];
  for (let i = 0; i < count; i++) {
    const call = request(app.getHttpServer()).get(path);
    codes.push(
      (await (token === undefined ? call : call.set('Authorization', `Bearer ${token}`))).status,
    );
  }
  return codes;
}

const served = Array<number>(LIMIT).fill(200);

describe.each(ADAPTERS)('ConsumerThrottlerGuard on %s', (adapter) => {
  let app: INestApplication;
  let seen: Recorded;
  let revocations: MemoryRevocationStore;

  beforeEach(async () => {
    const recorded = recorder();
    seen = recorded.seen;
    revocations = new MemoryRevocationStore();
    app = await appOn(adapter, { events: recorded.events, revocations });
  });
  afterEach(async () => {
    await app.close();
    await revocations.close();
  });

  it('answers a consumer over its limit 429 with Retry-After in whole seconds, while another is still served', async () => {
    expect(await statuses(app, LIMIT, user('alice'))).toEqual(served);
    const over = await request(app.getHttpServer())
      .get('/orders')
      .set('Authorization', `Bearer ${user('alice')}`);
    expect(over.status).toBe(429);
    expect(over.headers['retry-after']).toMatch(/^\d+$/);
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(over.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(over.body).toEqual({ statusCode: 429, message: 'Too Many Requests' });
    expect(await statuses(app, LIMIT, user('bob'))).toEqual(served);
    expect(seen.throttled).toEqual(['principal']);
  });

  it('counts every token of a user together: a new token is no way around the limit', async () => {
    const codes: number[] = [];
    for (let i = 0; i <= LIMIT; i++) codes.push(...(await statuses(app, 1, user('carol'))));
    expect(codes).toEqual([...served, 429]);
  });

  it("keys a service client's own token by its client_id, apart from a user with the same sub", async () => {
    const client = issuer.token({ sub: 'reports', client_id: 'reports', scope: 'orders:read' });
    expect(await statuses(app, LIMIT + 1, client)).toEqual([...served, 429]);
    // A user whose sub happens to be the client's id is someone else.
    expect(await statuses(app, LIMIT, user('reports', { client_id: 'spa' }))).toEqual(served);
    // Users of one client, with no sid in their tokens, count apart too.
    const spaUser = (sub: string) => user(sub, { client_id: 'spa', sid: undefined });
    expect(await statuses(app, LIMIT, spaUser('erin'))).toEqual(served);
    expect(await statuses(app, LIMIT, spaUser('frank'))).toEqual(served);
  });

  // What an attacker may send naming a victim's sub: each counts against the attacker's IP (a
  // request without a token is refused right after), never against the victim's budget.
  const victim = 'victim';
  const bypasses: [string, () => string][] = [
    ['signed by a key nobody trusts', () => attacker.token({ sub: victim })],
    [
      'unsigned (alg none)',
      () =>
        forge({ alg: 'none', typ: 'at+jwt' }, validClaims(now(), { sub: victim }), { none: true }),
    ],
    [
      "the victim's token with its signature cut off",
      () => user(victim).split('.').slice(0, 2).join('.') + '.',
    ],
    [
      'expired, though signed by the trusted key',
      () => user(victim, { iat: now() - 3600, exp: now() - 600 }),
    ],
    ['revoked', () => user(victim)],
  ];

  it.each(bypasses)(
    'counts a token %s against the client IP, never against the subject it names',
    async (kind, make) => {
      const token = make();
      if (kind === 'revoked') {
        const { jti, exp } = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
        await revocations.revokeToken(jti, exp);
      }
      expect(await statuses(app, LIMIT, token)).toEqual(Array(LIMIT).fill(401));
      // Refused once per request: verified (or checked against the revocation list) once.
      if (kind === 'revoked') expect(seen.revocationHits).toBe(LIMIT);
      else expect(seen.rejected).toHaveLength(LIMIT);
      // The IP's budget is spent: a request without a token, or with that token, is throttled.
      expect(await statuses(app, 1)).toEqual([429]);
      expect(await statuses(app, 1, token)).toEqual([429]);
      // The victim's is whole.
      expect(await statuses(app, LIMIT + 1, user(victim))).toEqual([...served, 429]);
      expect(seen.throttled).toEqual(['ip', 'ip', 'principal']);
    },
  );

  it("counts a stolen DPoP-bound token sent as Bearer against the client IP, never its owner's", async () => {
    const stolen = user(victim, { cnf: { jkt: 'A'.repeat(43) } });
    expect(await statuses(app, LIMIT, stolen)).toEqual(Array(LIMIT).fill(401));
    // The IP's budget is spent; the owner's is whole.
    expect(await statuses(app, 1)).toEqual([429]);
    expect(await statuses(app, LIMIT + 1, user(victim))).toEqual([...served, 429]);
    expect(seen.throttled).toEqual(['ip', 'principal']);
  });

  it('counts malformed requests (a token in the query string) against the IP, answered 400, never a 5xx', async () => {
    expect(await statuses(app, LIMIT, undefined, '/orders?access_token=abc')).toEqual(
      Array(LIMIT).fill(400),
    );
    expect(await statuses(app, 1)).toEqual([429]);
  });

  it('verifies a token once per request when it runs before the bearer guard', async () => {
    expect(await statuses(app, LIMIT, user('gina'))).toEqual(served);
    expect(seen.verified).toBe(LIMIT);
    const forged = attacker.token({ sub: 'gina' });
    await statuses(app, 2, forged);
    expect(seen.rejected).toEqual(['unknown_kid', 'unknown_kid']);
  });

  it("honours @nestjs/throttler's @Throttle() and @SkipThrottle()", async () => {
    expect(await statuses(app, 10, undefined, '/orders/health')).toEqual(Array(10).fill(200));
    const token = user('hank');
    expect(await statuses(app, 2, token, '/orders/export')).toEqual([200, 429]);
    // Throttler's default keys count each route apart.
    expect(await statuses(app, LIMIT, token)).toEqual(served);
  });
});

describe.each(ADAPTERS)('ConsumerThrottlerGuard after the bearer guard on %s', (adapter) => {
  // Registered on a controller, it runs after the global bearer guard: it takes the principal
  // that guard authenticated, and never sees the requests that guard refuses.
  let app: INestApplication;
  let seen: Recorded;
  beforeAll(async () => {
    const recorded = recorder();
    seen = recorded.seen;
    app = await appOn(adapter, { events: recorded.events, globalThrottler: false });
  });
  afterAll(() => app.close());

  it('keys the request by the principal the bearer guard verified, without verifying it again', async () => {
    expect(await statuses(app, LIMIT + 1, user('ivan'), '/late')).toEqual([...served, 429]);
    expect(seen.verified).toBe(LIMIT + 1);
    expect(await statuses(app, LIMIT, user('judy'), '/late')).toEqual(served);
  });
});

describe.each(ADAPTERS)(
  "ConsumerThrottlerGuard with throttler's setHeaders: false on %s",
  (adapter) => {
    let app: INestApplication;
    beforeAll(async () => (app = await appOn(adapter, { throttler: { setHeaders: false } })));
    afterAll(() => app.close());

    it('sends no X-RateLimit-* headers, and still Retry-After on a 429', async () => {
      const token = user('olga');
      const rateLimitHeaders = (response: request.Response) =>
        Object.keys(response.headers).filter((name) => name.startsWith('x-ratelimit'));
      for (let i = 0; i < LIMIT; i++) {
        const response = await request(app.getHttpServer())
          .get('/orders')
          .set('Authorization', `Bearer ${token}`)
          .expect(200);
        expect(rateLimitHeaders(response)).toEqual([]);
      }
      const over = await request(app.getHttpServer())
        .get('/orders')
        .set('Authorization', `Bearer ${token}`)
        .expect(429);
      expect(rateLimitHeaders(over)).toEqual([]);
      expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    });
  },
);

describe.each(ADAPTERS)('ConsumerThrottlerGuard with two trusted issuers on %s', (adapter) => {
  let app: INestApplication;
  beforeAll(async () => (app = await appOn(adapter, { twoIssuers: true })));
  afterAll(() => app.close());

  it("keeps one issuer's subject apart from another's with the same sub", async () => {
    expect(await statuses(app, LIMIT + 1, user('mia'))).toEqual([...served, 429]);
    const sameSubElsewhere = other.token({ sub: 'mia', scope: 'orders:read' });
    expect(await statuses(app, LIMIT, sameSubElsewhere)).toEqual(served);
  });
});

describe.each(ADAPTERS)('ConsumerThrottlerGuard with issuers that hold an @ on %s', (adapter) => {
  // Joined plainly, `sub:<sub>@<iss>` was one key for bob of the first issuer and for the user of
  // the second whose sub is `bob@` + the first issuer's name up to its own `@`.
  const first = `https://idp.test/t@${OTHER_ISSUER}`;
  let app: INestApplication;
  beforeAll(async () => {
    app = await createHttpApp(adapter, {
      imports: [
        AuthModule.forRoot({
          issuers: [{ ...issuer.trusted, issuer: first }, other.trusted],
          audience: AUDIENCE,
        }),
        ThrottlerModule.forRoot({
          throttlers: [{ limit: LIMIT, ttl: 60_000 }],
          storage: new MemoryThrottlerStorage(),
        }),
      ],
      controllers: [OrdersController],
      providers: [{ provide: APP_GUARD, useClass: ConsumerThrottlerGuard }],
    });
  });
  afterAll(() => app.close());

  it("never lets one issuer's user spend another's budget", async () => {
    const mallory = other.token({ sub: 'bob@https://idp.test/t', scope: 'orders:read' });
    expect(await statuses(app, LIMIT + 1, mallory)).toEqual([...served, 429]);
    const bob = issuer.token({ iss: first, sub: 'bob', scope: 'orders:read' });
    expect(await statuses(app, LIMIT, bob)).toEqual(served);
  });
});

/** docs/throttling.md's replacement of the removed `perConsumer` option. */
@Injectable()
class PerConsumerThrottlerGuard extends ConsumerThrottlerGuard {
  static readonly LIMITS: Record<string, number> = { [`client:reports@${ISSUER}`]: LIMIT * 2 };
  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    const { req } = this.getRequestResponse(request.context);
    const tracker = await request.getTracker(req, request.context);
    const limit = PerConsumerThrottlerGuard.LIMITS[tracker] ?? request.limit;
    return super.handleRequest({ ...request, limit });
  }
}

describe.each(ADAPTERS)('a subclass of ConsumerThrottlerGuard on %s', (adapter) => {
  let app: INestApplication;
  let seen: Recorded;
  beforeAll(async () => {
    const recorded = recorder();
    seen = recorded.seen;
    app = await appOn(adapter, { events: recorded.events, guard: PerConsumerThrottlerGuard });
  });
  afterAll(() => app.close());

  it('gives particular consumers limits of their own, verifying each token once', async () => {
    const client = issuer.token({ sub: 'reports', client_id: 'reports', scope: 'orders:read' });
    const twice = Array<number>(LIMIT * 2).fill(200);
    expect(await statuses(app, LIMIT * 2 + 1, client)).toEqual([...twice, 429]);
    expect(await statuses(app, LIMIT + 1, user('nina'))).toEqual([...served, 429]);
    expect(seen.verified).toBe(LIMIT * 3 + 2);
  });
});

describe('ConsumerThrottlerGuard on two applications sharing a Redis storage (Express and Fastify)', () => {
  const keyPrefix = `${uniquePrefix('consumer-throttler')}throttle:`;
  let apps: INestApplication[];

  beforeAll(async () => {
    const backend = redis(sharedRedisUrl());
    apps = await Promise.all(
      (['express', 'fastify'] as const).map((adapter) =>
        appOn(adapter, {
          throttler: {
            storage: new RedisThrottlerStorage(backend, { keyPrefix }),
            // One budget per consumer across routes and instances.
            generateKey: (_context, tracker) => tracker,
          },
        }),
      ),
    );
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await deleteKeys(keyPrefix);
  });

  it('holds one limit for a consumer whichever application it calls, and keeps consumers apart', async () => {
    const sub = `kim-${randomBytes(4).toString('hex')}`;
    const codes = [
      ...(await statuses(apps[0], 2, user(sub))),
      ...(await statuses(apps[1], 1, user(sub))),
      ...(await statuses(apps[0], 1, user(sub))),
      ...(await statuses(apps[1], 1, user(sub))),
    ];
    expect(codes).toEqual([...served, 429, 429]);
    expect(await statuses(apps[1], 1, user(`${sub}-other`))).toEqual([200]);
  });

  it('counts bad tokens against the IP on every application', async () => {
    const forged = attacker.token({ sub: 'lena' });
    expect(await statuses(apps[0], LIMIT, forged)).toEqual(Array(LIMIT).fill(401));
    expect(await statuses(apps[1], 1)).toEqual([429]);
    expect(await statuses(apps[1], 1, user('lena'))).toEqual([200]);
  });
});

describe.each(ADAPTERS)(
  'ConsumerThrottlerGuard on a Redis storage while Redis does not answer, on %s',
  (adapter) => {
    let server: RedisServer;
    let client: Redis;
    let app: INestApplication;
    beforeAll(async () => {
      server = await RedisServer.start();
      // A client of the application's own with ioredis's defaults: no command timeout.
      client = new Redis(server.url);
      app = await appOn(adapter, {
        throttler: {
          storage: new RedisThrottlerStorage(redis(client), { onUnavailable: () => undefined }),
        },
      });
    });
    afterAll(async () => {
      await app.close();
      client.disconnect();
      server.resume();
      await server.stop();
    });

    it('serves requests while Redis is frozen, without waiting for it, and limits again once it answers', async () => {
      const token = user('pia');
      expect(await statuses(app, LIMIT + 1, token)).toEqual([...served, 429]);
      server.pause();
      // Over the limit, but the counters cannot answer: served, and never a 5xx.
      expect(await settlesWithin(statuses(app, 10, token), 10_000)).toEqual(Array(10).fill(200));
      server.resume();
      const codes: number[] = [];
      for (let i = 0; i < 100 && codes.at(-1) !== 429; i++) {
        codes.push(...(await statuses(app, 1, token)));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(codes.at(-1)).toBe(429);
    }, 30_000);
  },
);

// Two AuthModule instances in one application: the root's (issuer ISSUER, the throttler's
// verifier) and a feature module's (OTHER_ISSUER, another audience). A verdict of one module's
// verifier must never pass for the other's.
@Controller('b')
@UseGuards(BearerGuard)
class FeatureBController {
  @Get()
  list() {
    return [];
  }
}

@Module({
  imports: [
    AuthModule.forRoot({
      issuers: [other.trusted],
      audience: 'admin-api',
      isGlobal: false,
      globalGuard: false,
    }),
  ],
  controllers: [FeatureBController],
})
class FeatureBModule {}

describe.each(ADAPTERS)(
  'ConsumerThrottlerGuard beside two AuthModule instances on %s',
  (adapter) => {
    let app: INestApplication;
    beforeEach(async () => {
      app = await createHttpApp(adapter, {
        imports: [
          AuthModule.forRoot({
            issuers: [issuer.trusted],
            audience: AUDIENCE,
            isGlobal: false,
            globalGuard: false,
          }),
          ThrottlerModule.forRoot({
            throttlers: [{ limit: 100, ttl: 60_000 }],
            storage: new MemoryThrottlerStorage(),
          }),
          FeatureBModule,
        ],
        providers: [{ provide: APP_GUARD, useClass: ConsumerThrottlerGuard }],
      });
    });
    afterEach(() => app.close());

    it("never lets one module's verdict stand for another's", async () => {
      // Trusted by the root's verifier (which the throttler used), not by feature B's.
      await request(app.getHttpServer())
        .get('/b')
        .set('Authorization', `Bearer ${user('alice')}`)
        .expect(401);
      // Trusted by feature B only: refused by the throttler's verifier, accepted by B's.
      const forB = other.token({ aud: 'admin-api', sub: 'bob' });
      await request(app.getHttpServer())
        .get('/b')
        .set('Authorization', `Bearer ${forB}`)
        .expect(200);
    });
  },
);
