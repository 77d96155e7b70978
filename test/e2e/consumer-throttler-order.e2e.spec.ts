import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, type INestApplication, Module, UseGuards } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import request from 'supertest';
import { AuthModule, BearerGuard, Scopes } from 'nest-tessera';
import { ConsumerThrottlerGuard, MemoryThrottlerStorage } from 'nest-tessera/throttler';
import { TestIssuer } from 'nest-tessera/testing';
import { ADAPTERS, createHttpApp, type AdapterName } from '../support/http-app.js';
import { CapturingLogger } from '../support/sample-testing.js';

// Where ConsumerThrottlerGuard is registered decides whether it runs before the bearer guard
// (and so counts the requests that guard refuses) or after it (and never sees them). Nest runs
// the root module's global guards first, then those of each imported module in import order.
// Run after it, the guard says so once through Nest's Logger, naming the fix.

const issuer = TestIssuer.create({ audience: 'orders-api' });
/** Names the trusted issuer, with a key of its own. */
const attacker = TestIssuer.create({ issuer: issuer.issuer, audience: 'orders-api' });
const LIMIT = 3;
const user = (sub: string) => issuer.token({ sub, scope: 'orders:read' });
const forged = () => attacker.token({ sub: 'victim' });

@Controller('orders')
class OrdersController {
  @Scopes('orders:read')
  @Get()
  list() {
    return [];
  }
}

@Controller('orders')
@UseGuards(ConsumerThrottlerGuard)
class ThrottledOrdersController extends OrdersController {}

@Controller('orders')
@UseGuards(BearerGuard, ConsumerThrottlerGuard)
class GuardedOrdersController extends OrdersController {}

/** A feature module that registers the throttler guard as a global guard of its own. */
@Module({ providers: [{ provide: APP_GUARD, useClass: ConsumerThrottlerGuard }] })
class ThrottlingFeatureModule {}

const authModule = (globalGuard = true) =>
  AuthModule.forRoot({
    issuers: [issuer.trusted],
    audience: 'orders-api',
    globalGuard,
  });
const throttlerModule = () =>
  ThrottlerModule.forRoot({
    throttlers: [{ limit: LIMIT, ttl: 60_000 }],
    storage: new MemoryThrottlerStorage(),
  });

/** The layouts, as a user might write them. */
const LAYOUTS = {
  'an APP_GUARD of the root module': () => ({
    imports: [authModule(), throttlerModule()],
    controllers: [OrdersController],
    providers: [{ provide: APP_GUARD, useClass: ConsumerThrottlerGuard }],
  }),
  'an APP_GUARD of a feature module imported before AuthModule': () => ({
    imports: [ThrottlingFeatureModule, authModule(), throttlerModule()],
    controllers: [OrdersController],
  }),
  'an APP_GUARD of a feature module imported after AuthModule': () => ({
    imports: [authModule(), throttlerModule(), ThrottlingFeatureModule],
    controllers: [OrdersController],
  }),
  "@UseGuards() on a controller, after AuthModule's global guard": () => ({
    imports: [authModule(), throttlerModule()],
    controllers: [ThrottledOrdersController],
  }),
  '@UseGuards(BearerGuard, ConsumerThrottlerGuard), no global guard': () => ({
    imports: [authModule(false), throttlerModule()],
    controllers: [GuardedOrdersController],
  }),
};
type Layout = keyof typeof LAYOUTS;

async function statuses(app: INestApplication, count: number, token: string): Promise<number[]> {
  const codes: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await request(app.getHttpServer())
      .get('/orders')
      .set('Authorization', `Bearer ${token}`);
    codes.push(response.status);
  }
  return codes;
}

describe.each(ADAPTERS)('where ConsumerThrottlerGuard is registered, on %s', (adapter) => {
  let app: INestApplication | undefined;
  let logger: CapturingLogger;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const start = async (layout: Layout, on: AdapterName = adapter) => {
    logger = new CapturingLogger();
    app = await createHttpApp(on, LAYOUTS[layout](), { logger });
    return app;
  };
  const warnings = () =>
    logger.entries.filter(
      (e) => e.level === 'warn' && String(e.message).includes('ConsumerThrottlerGuard runs after'),
    );

  it.each<Layout>([
    'an APP_GUARD of the root module',
    'an APP_GUARD of a feature module imported before AuthModule',
  ])(
    'as %s: runs first, so a flood of bad tokens is throttled, and says nothing',
    async (layout) => {
      const started = await start(layout);
      expect(await statuses(started, LIMIT + 1, forged())).toEqual([401, 401, 401, 429]);
      expect(await statuses(started, LIMIT, user('alice'))).toEqual([200, 200, 200]);
      expect(warnings()).toEqual([]);
    },
  );

  it.each<Layout>([
    'an APP_GUARD of a feature module imported after AuthModule',
    "@UseGuards() on a controller, after AuthModule's global guard",
  ])('as %s: warns once at start-up, naming the fix', async (layout) => {
    const started = await start(layout);
    expect(warnings()).toHaveLength(1);
    const [warning] = warnings();
    expect(warning.message).toMatch(/APP_GUARD/);
    expect(warning.message).toMatch(/module that imports AuthModule/);
    // What it warns of: the bearer guard refuses them first, and they are never counted.
    expect(await statuses(started, LIMIT + 2, forged())).toEqual(Array(LIMIT + 2).fill(401));
    expect(await statuses(started, LIMIT + 1, user('bob'))).toEqual([200, 200, 200, 429]);
    expect(warnings()).toHaveLength(1);
  });

  it('behind the bearer guard of the same route: warns once, at the first request it finds authenticated', async () => {
    const started = await start('@UseGuards(BearerGuard, ConsumerThrottlerGuard), no global guard');
    expect(warnings()).toEqual([]);
    expect(await statuses(started, LIMIT + 1, user('carol'))).toEqual([200, 200, 200, 429]);
    expect(warnings()).toHaveLength(1);
  });
});
