import { describe, expect, it } from '@jest/globals';
import {
  Controller,
  type ExecutionContext,
  Get,
  Inject,
  Injectable,
  Module,
  Optional,
  UseGuards,
} from '@nestjs/common';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import request from 'supertest';
import {
  AuthConfigError,
  AuthModule,
  BearerGuard,
  RevocationStore,
  Scopes,
  type AuthModuleOptions,
} from 'nest-tessera';
import { TestIssuer } from 'nest-tessera/testing';
import { AUDIENCE, ISSUER } from '../support/forged-tokens.js';
import { ADAPTERS, createHttpApp } from '../support/http-app.js';

const issuer = TestIssuer.create({ issuer: ISSUER, audience: AUDIENCE });
const publicJwk = issuer.jwks().keys[0];

@Injectable()
class SettingsService {
  readonly audience = AUDIENCE;
}

@Module({ providers: [SettingsService], exports: [SettingsService] })
class SettingsModule {}

@Controller()
class PingController {
  @Scopes('ping')
  @Get('ping')
  ping() {
    return 'pong';
  }
}

@Controller()
class GuardedPerRouteController {
  @Get('open')
  open() {
    return 'open';
  }

  @UseGuards(BearerGuard)
  @Scopes('ping')
  @Get('guarded')
  guarded() {
    return 'guarded';
  }
}

describe('AuthModule', () => {
  it('with globalGuard off, guards only the routes that ask with @UseGuards(BearerGuard)', async () => {
    const app = await createHttpApp('express', {
      imports: [
        AuthModule.forRoot({
          issuers: [issuer.trusted],
          audience: AUDIENCE,
          globalGuard: false,
        }),
      ],
      controllers: [GuardedPerRouteController],
    });
    const token = issuer.token({ scope: 'ping' });
    await request(app.getHttpServer()).get('/open').expect(200);
    await request(app.getHttpServer()).get('/guarded').expect(401);
    await request(app.getHttpServer())
      .get('/guarded')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    await app.close();
  });

  it('forRootAsync builds its options from injected providers', async () => {
    const app = await createHttpApp('express', {
      imports: [
        AuthModule.forRootAsync({
          imports: [SettingsModule],
          inject: [SettingsService],
          useFactory: (settings: SettingsService): AuthModuleOptions => ({
            issuers: [issuer.trusted],
            audience: settings.audience,
          }),
        }),
      ],
      controllers: [PingController],
    });
    const token = issuer.token({ scope: 'ping' });
    await request(app.getHttpServer())
      .get('/ping')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    await request(app.getHttpServer()).get('/ping').expect(401);
    await app.close();
  });

  it.each([
    ['no issuers', { issuers: [], audience: AUDIENCE }, /at least one is required/],
    ['no audience', { issuers: [issuer.trusted], audience: [] }, /audience/],
    [
      'both a JWKS URL and keys',
      {
        issuers: [{ ...issuer.trusted, jwksUri: 'https://x.test/jwks' }],
        audience: AUDIENCE,
      },
      /exactly one of jwksUri, keys, keySource and discovery/,
    ],
    [
      'a JWKS URL that is not http(s)',
      { issuers: [{ issuer: ISSUER, jwksUri: 'file:///etc/passwd' }], audience: AUDIENCE },
      /http\(s\)/,
    ],
    [
      'an HMAC algorithm',
      {
        issuers: [issuer.trusted],
        audience: AUDIENCE,
        algorithms: ['HS256'],
      },
      /HS256/,
    ],
    [
      'a negative clock tolerance',
      {
        issuers: [issuer.trusted],
        audience: AUDIENCE,
        clockToleranceSeconds: -1,
      },
      /clockToleranceSeconds/,
    ],
    [
      'a static key without kid',
      {
        issuers: [{ issuer: ISSUER, keys: [{ ...publicJwk, kid: undefined }] }],
        audience: AUDIENCE,
      },
      /without kid/,
    ],
    [
      'a symmetric static key',
      {
        issuers: [{ issuer: ISSUER, keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'h' }] }],
        audience: AUDIENCE,
      },
      /unsupported kty/,
    ],
    [
      'a Redis URL where a RedisBackend goes',
      {
        issuers: [issuer.trusted],
        audience: AUDIENCE,
        redis: 'redis://127.0.0.1:6379',
      },
      /redis must be a RedisBackend: redis\(connection\) from 'nest-tessera\/redis'/,
    ],
    [
      "revocation.redis (now the module's redis option)",
      {
        issuers: [issuer.trusted],
        audience: AUDIENCE,
        revocation: { redis: 'redis://127.0.0.1:6379' },
      },
      /unknown option: revocation\.redis \(give the module's redis option/,
    ],
    [
      'the removed throttle option (now @nestjs/throttler with nest-tessera/throttler)',
      {
        issuers: [issuer.trusted],
        audience: AUDIENCE,
        throttle: { limit: 1, ttlSeconds: 1 },
      },
      /unknown option: throttle \(throttling runs on @nestjs\/throttler: .*ConsumerThrottlerGuard from 'nest-tessera\/throttler'/,
    ],
    [
      'ignoreExpiration (a check cannot be switched off by an option of another library)',
      {
        issuers: [issuer.trusted],
        audience: AUDIENCE,
        ignoreExpiration: true,
      },
      /unknown option: ignoreExpiration \(expiry is always checked; clockToleranceSeconds sets/,
    ],
    [
      'unknown keys at any depth, every one named with its path',
      {
        issuers: [{ ...issuer.trusted, jwksUrl: 'https://x.test/jwks' }],
        audience: AUDIENCE,
        jwks: { ttl: 60 },
        revocation: { onOutage: { standrad: 'fail-closed' } },
        serviceIdentities: { reports: { principal: { subject: 'r', scopes: [], scope: 'x' } } },
      },
      /unknown options: issuers\[0\]\.jwksUrl; jwks\.ttl; revocation\.onOutage\.standrad; serviceIdentities\.reports\.principal\.scope$/,
    ],
    [
      'revocation: false (absent means off, the only way)',
      {
        issuers: [issuer.trusted],
        audience: AUDIENCE,
        revocation: false,
      },
      /revocation must be an object \(leave it out to turn revocation checks off\)/,
    ],
    [
      'a key inherited from Object.prototype, which must not count as known',
      { issuers: [issuer.trusted], audience: AUDIENCE, toString: 'x' },
      /unknown option: toString$/,
    ],
  ])('stops start-up with a clear AuthConfigError for %s', async (_name, options, message) => {
    const boot = Test.createTestingModule({
      imports: [AuthModule.forRoot(options as unknown as AuthModuleOptions)],
    }).compile();
    await expect(boot).rejects.toThrow(AuthConfigError);
    await expect(
      Test.createTestingModule({
        imports: [AuthModule.forRoot(options as unknown as AuthModuleOptions)],
      }).compile(),
    ).rejects.toThrow(message);
  });
});

describe('revocation left out of the options', () => {
  @Injectable()
  class LogoutService {
    constructor(@Inject(RevocationStore) readonly store: RevocationStore) {}
  }

  @Injectable()
  class OptionalRevocations {
    constructor(@Optional() @Inject(RevocationStore) readonly store: RevocationStore | null) {}
  }

  const base = { issuers: [issuer.trusted], audience: AUDIENCE };

  @Injectable()
  class OptionalProperty {
    @Optional() @Inject(RevocationStore) readonly store: RevocationStore | null = null;
  }

  it('starts with the store as an @Optional() property, and with two modules of revocation off', async () => {
    @Module({ imports: [AuthModule.forRoot({ ...base, isGlobal: false })] })
    class First {}
    @Module({ imports: [AuthModule.forRoot({ ...base, isGlobal: false })] })
    class Second {}
    const moduleRef = await Test.createTestingModule({
      imports: [First, Second],
      providers: [OptionalProperty],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    expect(app.get(OptionalProperty).store ?? null).toBeNull();
    await app.close();
  });

  it('stops start-up when a provider needs the RevocationStore that is not there', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [AuthModule.forRoot(base)],
      providers: [LogoutService],
    }).compile();
    await expect(moduleRef.createNestApplication({ logger: false }).init()).rejects.toThrow(
      /LogoutService injects RevocationStore, but revocation is off: add revocation: \{\}/,
    );
  });

  it('starts when the store is injected as @Optional(), and with revocation: {} it is there', async () => {
    const off = await Test.createTestingModule({
      imports: [AuthModule.forRoot(base)],
      providers: [OptionalRevocations],
    }).compile();
    const app = off.createNestApplication({ logger: false });
    await app.init();
    expect(app.get(OptionalRevocations).store).toBeNull();
    await app.close();

    const on = await Test.createTestingModule({
      imports: [AuthModule.forRoot({ ...base, revocation: {} })],
      providers: [LogoutService],
    }).compile();
    const onApp = on.createNestApplication({ logger: false });
    await onApp.init();
    expect(typeof onApp.get(LogoutService).store.revokeToken).toBe('function');
    await onApp.close();
  });
});

describe('BearerGuard replaced or extended', () => {
  const base = { issuers: [issuer.trusted], audience: AUDIENCE };

  /** A subclass with a method of its own that a base-class member of that name would shadow. */
  @Injectable()
  class NetworkBearerGuard extends BearerGuard {
    override async canActivate(context: ExecutionContext): Promise<boolean> {
      return (await super.canActivate(context)) && this.check();
    }

    check(): boolean {
      return true;
    }
  }

  @Controller()
  class AdminController {
    @UseGuards(NetworkBearerGuard)
    @Get('admin')
    admin() {
      return 'secret';
    }
  }

  it.each(ADAPTERS)(
    "still authenticates in a subclass whose own members could shadow the guard's (%s)",
    async (adapter) => {
      const app = await createHttpApp(adapter, {
        imports: [AuthModule.forRoot({ ...base, globalGuard: false })],
        controllers: [AdminController],
        providers: [NetworkBearerGuard],
      });
      try {
        await request(app.getHttpServer()).get('/admin').expect(401);
        await request(app.getHttpServer())
          .get('/admin')
          .set('Authorization', `Bearer ${issuer.token()}`)
          .expect(200, 'secret');
      } finally {
        await app.close();
      }
    },
  );

  it('asks a guard put in place of the provider through its canActivate, globally', async () => {
    @Injectable()
    class Refusing extends BearerGuard {
      override async canActivate(): Promise<boolean> {
        return false;
      }
    }
    const token = issuer.token({ scope: 'ping' });
    for (const [override, status] of [
      [(m: TestingModuleBuilder) => m.overrideProvider(BearerGuard).useClass(Refusing), 403],
      [
        (m: TestingModuleBuilder) =>
          m.overrideProvider(BearerGuard).useValue({ canActivate: () => true }),
        200,
      ],
    ] as const) {
      const moduleRef = await override(
        Test.createTestingModule({
          imports: [AuthModule.forRoot(base)],
          controllers: [PingController],
        }),
      ).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      try {
        await request(app.getHttpServer())
          .get('/ping')
          .set('Authorization', `Bearer ${token}`)
          .expect(status);
      } finally {
        await app.close();
      }
    }
  });
});
