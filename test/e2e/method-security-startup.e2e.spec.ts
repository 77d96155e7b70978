import { describe, expect, it } from '@jest/globals';
import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  type ModuleMetadata,
  Scope,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { OnEvent } from '@nestjs/event-emitter';
import { Cron, Interval, Timeout } from '@nestjs/schedule';
import { ApiOperation } from '@nestjs/swagger';
import request from 'supertest';
import {
  AnyScope,
  AuthConfigError,
  AuthModule,
  BearerGuard,
  MissingTokenError,
  Public,
  RunAs,
  Scopes,
  Tenant,
  type AuthModuleOptions,
} from 'nest-tessera';
import { TestIssuer } from 'nest-tessera/testing';
import { AUDIENCE } from '../support/forged-tokens.js';
import { createHttpApp } from '../support/http-app.js';

// A rule that cannot be enforced, or contradicts another, stops the application (or the class
// definition) with an AuthConfigError naming the class and member: never a warning, never
// silently ignored. Each row below is refused; the last rows show that other decorators'
// metadata survives ours, in either order.

const issuer = TestIssuer.create({ audience: AUDIENCE, alg: 'EdDSA' });
const auth = (options: Partial<AuthModuleOptions> = {}) =>
  AuthModule.forRoot({
    issuers: [issuer.trusted],
    audience: AUDIENCE,
    serviceIdentities: { job: { principal: { subject: 'job', scopes: ['admin'] } } },
    ...options,
  });

@Injectable()
class Orders {
  @Scopes('orders:delete')
  delete(id: string): string {
    return id;
  }
}

/** A user's own wrapping decorator (tracing, say): ours is found under it. */
const Traced = (): MethodDecorator => (_target, _key, descriptor) => {
  const inner = descriptor.value as unknown as (...args: unknown[]) => unknown;
  (descriptor as PropertyDescriptor).value = function (this: unknown, ...args: unknown[]) {
    return inner.apply(this, args);
  };
  return descriptor;
};

@Injectable()
class TracedOrders {
  @Traced()
  @Scopes('orders:delete')
  delete(id: string): string {
    return id;
  }
}

@Injectable()
class UntracedOverride extends TracedOrders {
  override delete(id: string): string {
    return id;
  }
}

@Injectable()
class ArrowOverride extends Orders {
  override delete = (id: string): string => id;
}

@Injectable()
class ConstructorOverride extends Orders {
  constructor() {
    super();
    this.delete = (id: string) => id;
  }
}

@Injectable()
class WeakerOverride extends Orders {
  @Scopes('orders:read')
  override delete(id: string): string {
    return id;
  }
}

@Tenant({ arg: 0 })
abstract class TenantControllerBase {}

@Controller('tenant-base')
class InheritsTenantController extends TenantControllerBase {
  @Get(':tenant')
  list(): string {
    return 'list';
  }
}

@Public()
@Tenant({ arg: 0 })
@Controller('public-tenant')
class PublicTenantController {
  @Get(':tenant')
  list(): string {
    return 'list';
  }
}

@Scopes('admin:purge')
@Controller('admin-base')
class AdminBaseController {
  @Get('purge')
  purge(): string {
    return 'purged';
  }
}

@Public()
@Controller('status')
class PublicStatusController extends AdminBaseController {}

@Injectable()
class UnruledOverride extends Orders {
  override delete(id: string): string {
    return super.delete(id);
  }
}

@Injectable()
@Scopes('admin')
class FieldAdmin {
  wipeLater = () => 'wiped';
}

@Scopes('admin')
class AdminBase {}

@Injectable()
class InheritsClassRule extends AdminBase {
  wipe(): string {
    return 'wiped';
  }
}

@Injectable()
class UnattendedJob {
  @Interval(60_000)
  @Scopes('admin')
  sweep(): void {}
}

@Injectable({ scope: Scope.REQUEST })
class RequestScopedJob {
  @RunAs('job')
  run(): void {}
}

@Public()
@Controller('public')
class PublicController {
  @Scopes('admin')
  @Get('admin')
  admin(): string {
    return 'admin';
  }
}

@Controller('mixed')
class PublicRouteController {
  @Public()
  @Scopes('admin')
  @Get('admin')
  admin(): string {
    return 'admin';
  }
}

@Controller('lend')
class LendingController {
  @RunAs('job')
  @Get()
  lend(): string {
    return 'lent';
  }
}

const STARTUP_ERRORS: readonly {
  row: string;
  metadata: ModuleMetadata;
  names: RegExp;
  options?: Partial<AuthModuleOptions>;
}[] = [
  {
    row: 'an override of a protected method without a rule of its own',
    metadata: { providers: [UnruledOverride] },
    names: /UnruledOverride\.delete overrides Orders\.delete/,
  },
  {
    row: 'an override of a protected method under another decorator, without a rule',
    metadata: { providers: [UntracedOverride] },
    names: /UntracedOverride\.delete overrides TracedOrders\.delete/,
  },
  {
    row: 'an arrow-function field overriding a protected method',
    metadata: { providers: [ArrowOverride] },
    names: /ArrowOverride\.delete is a field that shadows the protected Orders\.delete/,
  },
  {
    row: 'a constructor replacing a protected method',
    metadata: { providers: [ConstructorOverride] },
    names: /ConstructorOverride\.delete is a field that shadows the protected Orders\.delete/,
  },
  {
    row: 'an override with a weaker rule',
    metadata: { providers: [WeakerOverride] },
    names: /WeakerOverride\.delete overrides Orders\.delete with a weaker rule/,
  },
  {
    row: 'a controller under an inherited class-level @Tenant',
    metadata: { controllers: [InheritsTenantController] },
    names: /InheritsTenantController\.list is under InheritsTenantController's inherited/,
  },
  {
    row: '@Tenant on a @Public() controller',
    metadata: { controllers: [PublicTenantController] },
    names: /PublicTenantController has @Tenant under @Public\(\)/,
  },
  {
    row: "a @Public() controller serving a base controller's protected handler",
    metadata: { controllers: [PublicStatusController] },
    names: /PublicStatusController has @Scopes under @Public\(\)/,
  },
  {
    row: 'a function field under a class-level rule',
    metadata: { providers: [FieldAdmin] },
    names: /FieldAdmin\.wipeLater is a function field/,
  },
  {
    row: 'a member under an inherited class-level rule it does not reach',
    metadata: { providers: [InheritsClassRule] },
    names: /InheritsClassRule\.wipe is under InheritsClassRule's inherited class-level rule/,
  },
  {
    row: 'a protected scheduled method without @RunAs',
    metadata: { providers: [UnattendedJob] },
    names: /UnattendedJob\.sweep is scheduled and protected/,
  },
  {
    row: '@RunAs on a request-scoped provider',
    metadata: { providers: [RequestScopedJob] },
    names: /RequestScopedJob is request-scoped/,
  },
  {
    row: '@Scopes on a route of a @Public() controller',
    metadata: { controllers: [PublicController] },
    names: /PublicController\.admin has @Scopes under @Public\(\)/,
  },
  {
    row: '@Scopes and @Public() on one route',
    metadata: { controllers: [PublicRouteController] },
    names: /PublicRouteController\.admin has @Scopes under @Public\(\)/,
  },
  {
    row: '@RunAs on a route handler',
    metadata: { controllers: [LendingController] },
    names: /LendingController\.lend is a route or message handler/,
  },
  {
    row: 'principalContext: false with a protected provider',
    metadata: { providers: [Orders] },
    names: /Orders\.delete carries @Scopes\/@AnyScope\/@Tenant\/@RunAs, but principalContext/,
    options: { principalContext: false },
  },
];

describe('rules that cannot be enforced stop the app at start', () => {
  it.each(STARTUP_ERRORS)('$row', async ({ metadata, names, options }) => {
    const start = createHttpApp('express', {
      ...metadata,
      imports: [auth(options), ...(metadata.imports ?? [])],
    });
    await expect(start).rejects.toThrow(AuthConfigError);
    await expect(start).rejects.toThrow(names);
  });

  it('starts the same shapes once each rule can hold', async () => {
    @Injectable()
    class RuledOverride extends Orders {
      @Scopes('orders:delete')
      override delete(id: string): string {
        return super.delete(id);
      }
    }
    @Injectable()
    @Scopes('admin')
    class OwnClassRule extends AdminBase {
      wipe(): string {
        return 'wiped';
      }
    }
    @Injectable()
    class TracedOverride extends TracedOrders {
      @Traced()
      @Scopes('orders:delete', 'orders:audit')
      override delete(id: string): string {
        return id;
      }
    }
    const CLOCK = 'CLOCK';
    @Injectable()
    @Scopes('admin')
    class InjectsFunctions {
      constructor(@Inject(CLOCK) private readonly now: () => number) {}
      time(): number {
        return this.now();
      }
    }
    @Injectable()
    class Jobs {
      @Interval(60_000)
      @RunAs('job')
      @Scopes('admin')
      async sweep(): Promise<void> {}
    }
    @Injectable()
    @Scopes('admin')
    class AuditedJobs extends Jobs {}
    const app = await createHttpApp('express', {
      imports: [auth()],
      providers: [
        RuledOverride,
        OwnClassRule,
        TracedOverride,
        InjectsFunctions,
        { provide: CLOCK, useValue: () => 0 },
        AuditedJobs,
      ],
    });
    await app.close();
  });
});

describe('rules that cannot be enforced stop the class definition', () => {
  // A field is set on each instance after every decorator ran: no wrapper can reach it.
  const FieldScopes = Scopes('orders:delete') as unknown as PropertyDecorator;
  const StaticRunAs = RunAs('job');
  const ClassRunAs = RunAs('job') as unknown as ClassDecorator;

  it.each([
    [
      'an arrow-function field with a method-level @Scopes',
      () => {
        class ArrowOrders {
          @FieldScopes
          remove = (id: string) => id;
        }
        return ArrowOrders;
      },
      /ArrowOrders\.remove: @Scopes on a field cannot be enforced/,
    ],
    [
      '@RunAs on a static method',
      () => {
        class StaticJob {
          @StaticRunAs
          static run(): void {}
        }
        return StaticJob;
      },
      /StaticJob\.run: @RunAs on a static method/,
    ],
    [
      '@RunAs on a class',
      () => {
        @ClassRunAs
        class WholeJob {}
        return WholeJob;
      },
      /WholeJob: @RunAs goes on a method/,
    ],
  ])('%s', (_row, define, names) => {
    expect(define).toThrow(AuthConfigError);
    expect(define).toThrow(names);
  });
});

describe("other decorators' metadata survives ours, in either order", () => {
  class Decorated {
    @Interval(1000)
    @Scopes('a')
    intervalAbove(): void {}

    @Scopes('a')
    @Interval(1000)
    intervalBelow(): void {}

    @Cron('0 * * * * *')
    @RunAs('job')
    @Scopes('a')
    cronAbove(): void {}

    @Scopes('a')
    @RunAs('job')
    @Timeout(5)
    timeoutBelow(): void {}

    @MessagePattern('orders.list')
    @Tenant({ arg: 0 })
    patternAbove(): void {}

    @Tenant({ arg: 0 })
    @MessagePattern('orders.list')
    patternBelow(): void {}

    @OnEvent('orders.created')
    @Scopes('a')
    eventAbove(): void {}

    @Scopes('a')
    @ApiOperation({ summary: 'kept' })
    swaggerBelow(): void {}

    @SetMetadata('user:key', 'kept')
    @Scopes('a')
    userAbove(): void {}

    @Scopes('a')
    @SetMetadata('user:key', 'kept')
    userBelow(): void {}
  }

  const proto = Decorated.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  it.each([
    ['intervalAbove', 'SCHEDULE_INTERVAL_OPTIONS', { timeout: 1000 }],
    ['intervalBelow', 'SCHEDULE_INTERVAL_OPTIONS', { timeout: 1000 }],
    ['cronAbove', 'SCHEDULE_CRON_OPTIONS', expect.objectContaining({ cronTime: '0 * * * * *' })],
    ['timeoutBelow', 'SCHEDULE_TIMEOUT_OPTIONS', { timeout: 5 }],
    ['patternAbove', 'microservices:pattern', ['orders.list']],
    ['patternBelow', 'microservices:pattern', ['orders.list']],
    [
      'eventAbove',
      'EVENT_LISTENER_METADATA',
      [expect.objectContaining({ event: 'orders.created' })],
    ],
    ['swaggerBelow', 'swagger/apiOperation', expect.objectContaining({ summary: 'kept' })],
    ['userAbove', 'user:key', 'kept'],
    ['userBelow', 'user:key', 'kept'],
  ])('%s keeps %s, and is protected', async (member, metadataKey, value) => {
    expect(Reflect.getMetadata(metadataKey, proto[member])).toEqual(value);
    // Protected: a call with no caller at all is refused (a @RunAs one is lent no identity
    // here, since no AuthModule built this instance).
    const call = () => proto[member].call(new Decorated(), 'seller-a');
    if (member === 'cronAbove' || member === 'timeoutBelow') {
      await expect(call()).rejects.toThrow(/no AuthModule built this instance/);
    } else {
      expect(call).toThrow(MissingTokenError);
      expect(call).toThrow(`Decorated.${member} was called with no caller`);
    }
  });

  it('keeps the routes of handlers under a method-level or a class-level rule', async () => {
    class InheritedRoutes {
      @Get('inherited')
      inherited(): string {
        return 'inherited';
      }
    }
    @Controller('class-rule')
    @Scopes('a')
    class ClassRuleController extends InheritedRoutes {
      @Get('own')
      own(): string {
        return 'own';
      }
    }
    @Controller('routes')
    class RoutesController {
      @Get('above')
      @Scopes('a')
      above(): string {
        return 'above';
      }

      @Scopes('a')
      @Get('below')
      below(): string {
        return 'below';
      }
    }
    @Module({ controllers: [RoutesController, ClassRuleController] })
    class RoutesModule {}
    const app = await createHttpApp('express', { imports: [auth(), RoutesModule] });
    try {
      const { default: request } = await import('supertest');
      const token = issuer.token({ scope: 'b' });
      const get = (path: string) =>
        request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);
      // Routed, and the guard read the rule: 403 naming scope a; an unknown path is 404.
      for (const path of [
        '/routes/above',
        '/routes/below',
        '/class-rule/own',
        '/class-rule/inherited',
      ]) {
        const res = await get(path).expect(403);
        expect(res.headers['www-authenticate']).toMatch(/scope="a"/);
      }
      await get('/routes/nowhere').expect(404);
    } finally {
      await app.close();
    }
  });
});

// With `globalGuard: false`, a child controller's route under its parent's class-level
// @Scopes/@AnyScope is checked by BearerGuard alone: the app must not start unless that guard
// runs for the route (`@UseGuards` with BearerGuard or a subclass, on either class or the route).
describe.each([
  { form: '@Scopes', rule: Scopes('orders:delete') },
  { form: '@AnyScope', rule: AnyScope('orders:delete', 'orders:admin') },
])('an inherited class-level $form without globalGuard', ({ form, rule }) => {
  class SubclassedGuard extends BearerGuard {}
  const variants = () => {
    @Controller('base')
    class BaseController {
      @Get('own')
      own(): string {
        return 'own';
      }
    }
    rule(BaseController);
    @Controller('child')
    class ChildController extends BaseController {
      @Get('purge')
      purge(): string {
        return 'purged';
      }
    }
    @UseGuards(BearerGuard)
    @Controller('guarded-child')
    class GuardedChildController extends BaseController {
      @Get('purge')
      purge(): string {
        return 'purged';
      }
    }
    @Controller('guarded-route')
    class GuardedRouteController extends BaseController {
      @UseGuards(SubclassedGuard)
      @Get('purge')
      purge(): string {
        return 'purged';
      }
    }
    @UseGuards(BearerGuard)
    @Controller('guarded-base')
    class GuardedBaseController {}
    rule(GuardedBaseController);
    @Controller('inherits-guard')
    class InheritsGuardController extends GuardedBaseController {
      @Get('purge')
      purge(): string {
        return 'purged';
      }
    }
    return {
      ChildController,
      GuardedChildController,
      GuardedRouteController,
      InheritsGuardController,
    };
  };

  it('stops the app, naming the route, when no BearerGuard runs for it', async () => {
    const { ChildController } = variants();
    const start = createHttpApp('express', {
      imports: [auth({ globalGuard: false })],
      controllers: [ChildController],
    });
    await expect(start).rejects.toThrow(AuthConfigError);
    await expect(start).rejects.toThrow(
      new RegExp(
        `ChildController\\.purge is a route under ChildController's inherited class-level ` +
          `${form}, which only BearerGuard enforces`,
      ),
    );
  });

  it('starts, and refuses a request without a token, where BearerGuard runs for it', async () => {
    const controllers = Object.values(variants()).filter((c) => c.name !== 'ChildController');
    const app = await createHttpApp('express', {
      imports: [auth({ globalGuard: false })],
      controllers,
      providers: [SubclassedGuard],
    });
    try {
      for (const path of ['guarded-child', 'guarded-route', 'inherits-guard']) {
        await request(app.getHttpServer()).get(`/${path}/purge`).expect(401);
      }
      const granted = issuer.token({ scope: 'orders:delete' });
      await request(app.getHttpServer())
        .get('/guarded-child/purge')
        .set('Authorization', `Bearer ${granted}`)
        .expect(200);
    } finally {
      await app.close();
    }
  });
});
