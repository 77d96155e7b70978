import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Controller,
  type DynamicModule,
  Get,
  Injectable,
  type INestApplication,
  Module,
} from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import request from 'supertest';
import { AuthModule, RevocationStore, Scopes, type AuthModuleOptions } from 'nest-tessera';
import { TestIssuer } from 'nest-tessera/testing';
import { ADAPTERS, type AdapterName } from '../support/http-app.js';

// TestIssuer.override(): an app's AuthModule, configured for its production issuers, trusts the
// test issuer instead, whichever way the module was configured, keeping every other option.

const AUDIENCE = 'orders-api';
/** Stands in for the app's production issuer: its tokens must stop working once overridden. */
const production = TestIssuer.create({ issuer: 'https://login.example.com', audience: AUDIENCE });

const appOptions = (): AuthModuleOptions => ({
  issuers: [production.trusted],
  audience: AUDIENCE,
  revocation: {},
  tokenSources: { headers: ['x-access-token'] },
});

@Controller('orders')
class OrdersController {
  @Scopes('orders:read')
  @Get()
  list() {
    return [];
  }
}

@Injectable()
class AppConfig {
  auth(): AuthModuleOptions {
    return appOptions();
  }
}

@Module({ providers: [AppConfig], exports: [AppConfig] })
class ConfigModule {}

/** A user's root module, as it is in production. */
function appModule(auth: DynamicModule): DynamicModule {
  @Module({})
  class AppModule {}
  return { module: AppModule, imports: [auth], controllers: [OrdersController] };
}

const CONFIGURATIONS = [
  { configured: 'forRoot', auth: () => AuthModule.forRoot(appOptions()) },
  {
    configured: 'forRootAsync (useFactory with inject)',
    auth: () =>
      AuthModule.forRootAsync({
        imports: [ConfigModule],
        inject: [AppConfig],
        useFactory: async (config: AppConfig) => config.auth(),
      }),
  },
  {
    configured: 'forRootAsync (useClass)',
    auth: () =>
      AuthModule.forRootAsync({
        useClass: class {
          create = appOptions;
        },
      }),
  },
];

async function start(adapter: AdapterName, builder: TestingModuleBuilder) {
  const moduleRef = await builder.compile();
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  await app.init();
  if (adapter === 'fastify') await app.getHttpAdapter().getInstance().ready();
  return app;
}

const CASES = ADAPTERS.flatMap((adapter) => CONFIGURATIONS.map((c) => ({ adapter, ...c })));

describe.each(CASES)('TestIssuer.override on $adapter, $configured', ({ adapter, auth }) => {
  const issuer = TestIssuer.create({ audience: AUDIENCE });
  let app: INestApplication;
  const get = (token: string) =>
    request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`);

  beforeAll(async () => {
    app = await start(
      adapter,
      issuer.override(Test.createTestingModule({ imports: [appModule(auth())] })),
    );
  });
  afterAll(() => app.close());

  it("accepts the test issuer's tokens", async () => {
    await get(issuer.token({ scope: 'orders:read' })).expect(200, []);
  });

  it("refuses the production issuer's tokens: the issuers are replaced, not added to", async () => {
    await get(production.token({ scope: 'orders:read' }))
      .expect(401)
      .expect('WWW-Authenticate', 'Bearer error="invalid_token"');
  });

  it("keeps the app's audience", async () => {
    await get(issuer.token({ scope: 'orders:read', aud: 'billing-api' })).expect(401);
  });

  it("keeps the app's scopes", async () => {
    await get(issuer.token({ scope: 'orders:create' }))
      .expect(403)
      .expect('WWW-Authenticate', 'Bearer error="insufficient_scope", scope="orders:read"');
  });

  it("keeps the app's token sources", async () => {
    await request(app.getHttpServer())
      .get('/orders')
      .set('X-Access-Token', issuer.token({ scope: 'orders:read' }))
      .expect(200);
  });

  it("keeps the app's revocation list", async () => {
    const token = issuer.token({ scope: 'orders:read', jti: 'revoked-in-this-test' });
    await get(token).expect(200);
    await app.get<RevocationStore>(RevocationStore).revokeToken('revoked-in-this-test', 2e9);
    await get(token).expect(401);
  });
});

describe('TestIssuer.override, around the swap', () => {
  const issuer = TestIssuer.create({ audience: AUDIENCE });
  let app: INestApplication | undefined;
  afterEach(async () => app?.close());

  it('without it, the app trusts its production issuer only', async () => {
    app = await start(
      'express',
      Test.createTestingModule({ imports: [appModule(AuthModule.forRoot(appOptions()))] }),
    );
    const get = (token: string) =>
      request(app!.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`);
    await get(production.token({ scope: 'orders:read' })).expect(200);
    await get(issuer.token({ scope: 'orders:read' })).expect(401);
  });

  it("renewal limited to the production issuer renews the test issuer's session tokens", async () => {
    const renewer = { renew: async () => 'renewed-token' };
    const options: AuthModuleOptions = {
      ...appOptions(),
      renewal: { renewer, windowSeconds: 600, issuers: [production.issuer] },
    };
    app = await start(
      'express',
      issuer.override(
        Test.createTestingModule({ imports: [appModule(AuthModule.forRoot(options))] }),
      ),
    );
    const token = issuer.token({ scope: 'orders:read', sid: 'session-1' });
    let renewed: string | undefined;
    for (let i = 0; i < 20 && renewed === undefined; i++) {
      const response = await request(app.getHttpServer())
        .get('/orders')
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
      renewed = response.headers['x-renewed-token'];
    }
    expect(renewed).toBe('renewed-token');
  });
});

describe.each(ADAPTERS)('TestIssuer.serve with override on %s', (adapter) => {
  let issuer: TestIssuer;
  let app: INestApplication | undefined;
  beforeAll(async () => (issuer = await TestIssuer.serve({ audience: AUDIENCE })));
  afterEach(async () => app?.close());
  afterAll(() => issuer.close());

  it('fetches its JWKS, and again for the new kid after rotate()', async () => {
    app = await start(
      adapter,
      // The module's cooldown (5 s by default) would hold the refetch back: laid over for the test.
      issuer.override(
        Test.createTestingModule({ imports: [appModule(AuthModule.forRoot(appOptions()))] }),
        { jwks: { cooldownSeconds: 0 } },
      ),
    );
    const get = (token: string) =>
      request(app!.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`);
    await get(issuer.token({ scope: 'orders:read' })).expect(200);
    const fetched = issuer.jwksRequests;
    expect(fetched).toBeGreaterThan(0);
    issuer.rotate();
    await get(issuer.token({ scope: 'orders:read' })).expect(200);
    expect(issuer.jwksRequests).toBe(fetched + 1);
  });
});
