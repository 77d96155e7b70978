import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  applyDecorators,
  type ArgumentsHost,
  type CallHandler,
  Catch,
  Controller,
  type ExceptionFilter,
  type ExecutionContext,
  Get,
  Inject,
  Injectable,
  type INestApplication,
  Module,
  type NestInterceptor,
  NotFoundException,
  Param,
  Scope,
} from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, LazyModuleLoader, REQUEST } from '@nestjs/core';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { delay, from, map, of, switchMap, type Observable } from 'rxjs';
import request from 'supertest';
import { AuthModule, Public, RunAs, Scopes, Tenant } from 'nest-tessera';
import { TestIssuer } from 'nest-tessera/testing';
import { AUDIENCE } from '../support/forged-tokens.js';
import { ADAPTERS, createHttpApp } from '../support/http-app.js';

// Every code shape that reaches a protected method, from an HTTP handler that checks nothing
// itself: a caller with the scope and tenant runs the body; a caller without the scope, or of
// another tenant, is refused and the body provably did not run. Start-up errors:
// method-security-startup.e2e.spec.ts; scheduled tasks: method-security-schedule.e2e.spec.ts.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Bodies that ran, by name; cleared before each request. */
const ran: string[] = [];

/** The rule every shape carries, as two decorators (applyDecorators, as users compose them). */
const DeleteRule = () => applyDecorators(Scopes('orders:delete'), Tenant({ arg: 0 }));

@Injectable()
class Orders {
  @DeleteRule()
  delete(tenant: string, id: string): string {
    ran.push('Orders.delete');
    return `${tenant}/${id}`;
  }

  @Scopes('orders:delete')
  @Tenant({ arg: 0 })
  static purgeAll(tenant: string): string {
    ran.push('Orders.purgeAll');
    return `${tenant}/*`;
  }
}

/** A subclass adding auditing: its override is protected, and so is the super call. */
@Injectable()
class AuditedOrders extends Orders {
  @DeleteRule()
  override delete(tenant: string, id: string): string {
    ran.push('AuditedOrders.delete');
    return super.delete(tenant, id);
  }
}

/** A reference to a protected method taken in the constructor, called later. */
@Injectable()
class BoundOrders {
  readonly run: (tenant: string, id: string) => Promise<string>;

  constructor() {
    this.run = this.delete.bind(this);
  }

  @DeleteRule()
  async delete(tenant: string, id: string): Promise<string> {
    ran.push('BoundOrders.delete');
    return `${tenant}/${id}`;
  }
}

/** Another provider that takes the reference while it is built. */
@Injectable()
class Purger {
  private readonly remove: (tenant: string, id: string) => string;

  constructor(orders: Orders) {
    this.remove = orders.delete.bind(orders);
  }

  purge(tenant: string, id: string): string {
    return this.remove(tenant, id);
  }
}

@Injectable({ scope: Scope.REQUEST })
class RequestOrders {
  @DeleteRule()
  delete(tenant: string, id: string): string {
    ran.push('RequestOrders.delete');
    return `${tenant}/${id}`;
  }
}

/** Request-scoped only because it injects the request. */
@Injectable()
class RequestAwareOrders {
  constructor(@Inject(REQUEST) readonly req: unknown) {}

  @DeleteRule()
  delete(tenant: string, id: string): string {
    ran.push('RequestAwareOrders.delete');
    return `${tenant}/${id}`;
  }
}

class FactoryOrders {
  @DeleteRule()
  delete(tenant: string, id: string): string {
    ran.push('FactoryOrders.delete');
    return `${tenant}/${id}`;
  }
}

class ValueOrders {
  @DeleteRule()
  delete(tenant: string, id: string): string {
    ran.push('ValueOrders.delete');
    return `${tenant}/${id}`;
  }
}

@Injectable()
class LazyOrders {
  @DeleteRule()
  delete(tenant: string, id: string): string {
    ran.push('LazyOrders.delete');
    return `${tenant}/${id}`;
  }
}

@Module({ providers: [LazyOrders] })
class LazyOrdersModule {}

/** A class-level rule. */
@Injectable()
@Scopes('orders:delete')
@Tenant({ arg: 0 })
class ClassRuleOrders {
  delete(tenant: string, id: string): string {
    ran.push('ClassRuleOrders.delete');
    return `${tenant}/${id}`;
  }
}

/** An event listener: the emitter's caller is the listener's. */
@Injectable()
class OrderEvents {
  @OnEvent('orders.delete', { suppressErrors: false })
  @DeleteRule()
  onDelete(tenant: string, id: string): string {
    ran.push('OrderEvents.onDelete');
    return `${tenant}/${id}`;
  }
}

/** A @RunAs method reached by a caller: the caller's identity is used, never the service's. */
@Injectable()
class PurgeJob {
  @RunAs('purger')
  @DeleteRule()
  async purge(tenant: string, id: string): Promise<string> {
    ran.push('PurgeJob.purge');
    return `${tenant}/${id}`;
  }
}

const FACTORY = 'FACTORY_ORDERS';
const VALUE = 'VALUE_ORDERS';

/** A rule on a route: @Tenant is checked on the handler too, not only @Scopes by the guard. */
@Controller('tenant-route')
class TenantRouteController {
  @Scopes('orders:delete')
  @Tenant({ arg: 0 })
  @Get(':tenant')
  remove(@Param('tenant') tenant: string) {
    ran.push('TenantRouteController.remove');
    return { result: `${tenant}/o-1` };
  }
}

/** A handler whose work runs in the observable it returns, after a delay. */
@Controller('observable')
class ObservableController {
  constructor(private readonly orders: Orders) {}

  @Get(':tenant')
  remove(@Param('tenant') tenant: string): Observable<{ result: string }> {
    return of(tenant).pipe(
      delay(1),
      map((t) => ({ result: this.orders.delete(t, 'o-1') })),
    );
  }
}

/** Handlers without a rule of their own: only the service layer checks. */
@Controller('shapes')
class ShapesController {
  constructor(
    private readonly orders: Orders,
    private readonly audited: AuditedOrders,
    private readonly bound: BoundOrders,
    private readonly purger: Purger,
    @Inject(FACTORY) private readonly factory: FactoryOrders,
    @Inject(VALUE) private readonly value: ValueOrders,
    private readonly classRule: ClassRuleOrders,
    private readonly job: PurgeJob,
    private readonly lazy: LazyModuleLoader,
    private readonly events: EventEmitter2,
  ) {}

  @Get(':shape/:tenant')
  async call(@Param('shape') shape: string, @Param('tenant') tenant: string) {
    const calls: Record<string, () => unknown> = {
      direct: () => this.orders.delete(tenant, 'o-1'),
      'detached reference': () => {
        const { delete: remove } = this.orders;
        return remove.call(this.orders, tenant, 'o-1');
      },
      'super call from an override': () => this.audited.delete(tenant, 'o-1'),
      'base method under a subclass instance': () =>
        Orders.prototype.delete.call(this.audited, tenant, 'o-1'),
      static: () => Orders.purgeAll(tenant),
      'reference taken in the constructor': () => this.bound.run(tenant, 'o-1'),
      'reference taken by another provider while built': () => this.purger.purge(tenant, 'o-1'),
      'useFactory provider': () => this.factory.delete(tenant, 'o-1'),
      'useValue provider': () => this.value.delete(tenant, 'o-1'),
      'class-level rule': () => this.classRule.delete(tenant, 'o-1'),
      'lazily loaded module': async () => {
        const moduleRef = await this.lazy.load(() => LazyOrdersModule);
        return moduleRef.get(LazyOrders).delete(tenant, 'o-1');
      },
      '@RunAs method called by a caller': () => this.job.purge(tenant, 'o-1'),
      'event listener (@OnEvent)': async () =>
        (await this.events.emitAsync('orders.delete', tenant, 'o-1'))[0],
    };
    return { result: await calls[shape]!() };
  }
}

@Controller('request-scoped')
class RequestScopedController {
  constructor(
    private readonly requestOrders: RequestOrders,
    private readonly requestAware: RequestAwareOrders,
  ) {}

  @Get(':shape/:tenant')
  call(@Param('shape') shape: string, @Param('tenant') tenant: string) {
    const provider = shape === 'request-scoped' ? this.requestOrders : this.requestAware;
    return { result: provider.delete(tenant, 'o-1') };
  }
}

/** Anonymous callers reach the @RunAs job through a public route. */
@Controller('public')
class PublicController {
  constructor(private readonly job: PurgeJob) {}

  @Public()
  @Get('purge/:tenant')
  async purge(@Param('tenant') tenant: string) {
    return { result: await this.job.purge(tenant, 'o-1') };
  }

  /** The same, from the observable the handler returns, after a delay. */
  @Public()
  @Get('purge-later/:tenant')
  purgeLater(@Param('tenant') tenant: string): Observable<{ result: string }> {
    return of(tenant).pipe(
      delay(1),
      switchMap((t) => from(this.job.purge(t, 'o-1'))),
      map((result) => ({ result })),
    );
  }
}

const SHAPES: readonly [shape: string, body: string][] = [
  ['direct', 'Orders.delete'],
  ['detached reference', 'Orders.delete'],
  ['super call from an override', 'AuditedOrders.delete'],
  ['base method under a subclass instance', 'Orders.delete'],
  ['static', 'Orders.purgeAll'],
  ['reference taken in the constructor', 'BoundOrders.delete'],
  ['reference taken by another provider while built', 'Orders.delete'],
  ['useFactory provider', 'FactoryOrders.delete'],
  ['useValue provider', 'ValueOrders.delete'],
  ['class-level rule', 'ClassRuleOrders.delete'],
  ['lazily loaded module', 'LazyOrders.delete'],
  ['@RunAs method called by a caller', 'PurgeJob.purge'],
  ['event listener (@OnEvent)', 'OrderEvents.onDelete'],
];
/** Shapes with a route of their own: `${path}/seller-a`. */
const ROUTE_SHAPES: readonly [shape: string, path: string, body: string][] = [
  ['@Scopes and @Tenant on the route itself', '/tenant-route', 'TenantRouteController.remove'],
  ['an observable the handler returns', '/observable', 'Orders.delete'],
];
const REQUEST_SHAPES: readonly [shape: string, body: string][] = [
  ['request-scoped', 'RequestOrders.delete'],
  ['request-scoped by injecting REQUEST', 'RequestAwareOrders.delete'],
];

const issuer = TestIssuer.create({ audience: AUDIENCE });
const tokenOf = (scope: string, tid: string) =>
  issuer.token({ scope, tid, sub: `user-of-${tid}`, client_id: 'web' });
const CALLERS = {
  /** Holds orders:delete, tenant seller-a: runs. */
  allowed: () => tokenOf('orders:read orders:delete', 'seller-a'),
  /** orders:read and tenant seller-a only. */
  'without the scope': () => tokenOf('orders:read', 'seller-a'),
  /** The scope, but another tenant's data. */
  'of another tenant': () => tokenOf('orders:read orders:delete', 'seller-b'),
};

describe.each(ADAPTERS)('every shape of reaching a protected method (%s)', (adapter) => {
  let app: INestApplication;
  const denied: string[] = [];

  beforeAll(async () => {
    app = await createHttpApp(adapter, {
      imports: [
        EventEmitterModule.forRoot(),
        AuthModule.forRoot({
          issuers: [issuer.trusted],
          audience: AUDIENCE,
          serviceIdentities: {
            // Holds everything the rule needs: it must never be lent to a caller.
            purger: {
              principal: { subject: 'purger', scopes: ['orders:delete'], tenant: 'seller-a' },
              crossTenant: true,
            },
          },
          events: { accessDenied: ({ method }) => denied.push(method) },
        }),
      ],
      controllers: [
        ShapesController,
        RequestScopedController,
        PublicController,
        TenantRouteController,
        ObservableController,
      ],
      providers: [
        Orders,
        AuditedOrders,
        BoundOrders,
        Purger,
        RequestOrders,
        RequestAwareOrders,
        ClassRuleOrders,
        PurgeJob,
        OrderEvents,
        { provide: FACTORY, useFactory: () => new FactoryOrders() },
        { provide: VALUE, useValue: new ValueOrders() },
      ],
    });
  });
  afterAll(() => app?.close());
  beforeEach(() => {
    ran.length = 0;
    denied.length = 0;
  });

  const call = (path: string, token: string) =>
    request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);

  /** Every shape: its name, the path it is reached at (`${path}/seller-a`), its body. */
  const ALL_SHAPES: readonly (readonly [shape: string, path: string, body: string])[] = [
    ...SHAPES.map(
      ([shape, body]) => [shape, `/shapes/${encodeURIComponent(shape)}`, body] as const,
    ),
    ...REQUEST_SHAPES.map(
      ([shape, body]) => [shape, `/request-scoped/${encodeURIComponent(shape)}`, body] as const,
    ),
    ...ROUTE_SHAPES,
  ];

  it.each(ALL_SHAPES)('%s: a caller with the scope and tenant runs', async (_shape, path, body) => {
    const res = await call(`${path}/seller-a`, CALLERS.allowed());
    expect({ status: res.status, body: res.body }).toEqual({
      status: 200,
      body: { result: expect.stringMatching(/^seller-a\//) },
    });
    expect(ran).toContain(body);
  });

  it.each(
    ALL_SHAPES.flatMap(([shape, path, body]) =>
      (['without the scope', 'of another tenant'] as const).map(
        (caller) => [shape, caller, path, body] as const,
      ),
    ),
  )('%s: a caller %s is refused, and the body never ran', async (_shape, caller, path, body) => {
    const res = await call(`${path}/seller-a`, CALLERS[caller]());
    expect({ status: res.status, error: res.body.error }).toEqual({
      status: 403,
      error: 'insufficient_scope',
    });
    expect(ran).toEqual([]);
    // Refused by the member's own check (a route's scopes are the guard's, before it).
    if (!(path === '/tenant-route' && caller === 'without the scope')) {
      expect(denied).toContain(body);
    }
  });

  it.each(['/public/purge/seller-a', '/public/purge-later/seller-a'])(
    'never lends a @RunAs identity to an anonymous caller of a public route (%s)',
    async (path) => {
      const res = await request(app.getHttpServer()).get(path);
      expect(res.status).toBe(401);
      expect(ran).toEqual([]);
    },
  );
});

/** Code of the application's own that runs around the handler. */
@Injectable()
class AppInterceptor implements NestInterceptor {
  constructor(private readonly job: PurgeJob) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const path = context.switchToHttp().getRequest<{ url: string }>().url;
    if (!path.startsWith('/around/interceptor')) return next.handle();
    return from(this.job.purge('seller-a', 'o-1').catch((error: unknown) => error)).pipe(
      map((outcome) => ({ result: outcome instanceof Error ? outcome.name : outcome })),
    );
  }
}

@Catch(NotFoundException)
class AppNotFoundFilter implements ExceptionFilter {
  constructor(private readonly job: PurgeJob) {}

  async catch(_error: NotFoundException, host: ArgumentsHost): Promise<void> {
    const outcome = await this.job.purge('seller-a', 'o-1').catch((error: Error) => error.name);
    const response = host.switchToHttp().getResponse<{ status?: unknown; code?: unknown }>();
    const reply = (response.status ?? response.code) as (status: number) => {
      send(body: unknown): void;
    };
    reply.call(response, 404).send({ result: outcome });
  }
}

/** Work a request or a lent identity leaves running after it ended. */
@Injectable()
class LeftBehind {
  readonly outcomes: string[] = [];

  constructor(private readonly orders: Orders) {}

  later(tenant: string): void {
    setTimeout(() => {
      try {
        this.outcomes.push(this.orders.delete(tenant, 'o-1'));
      } catch (error) {
        this.outcomes.push((error as Error).name);
      }
    }, 30);
  }

  @RunAs('purger')
  async warmUp(): Promise<void> {
    this.later('seller-a');
  }
}

@Controller('around')
class AroundController {
  constructor(private readonly leftBehind: LeftBehind) {}

  @Public()
  @Get('interceptor')
  viaInterceptor() {
    return { result: 'handler' };
  }

  @Get('later/:tenant')
  later(@Param('tenant') tenant: string) {
    this.leftBehind.later(tenant);
    return { result: 'answered' };
  }
}

describe.each(ADAPTERS)('code around the handler and work left behind (%s)', (adapter) => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await createHttpApp(adapter, {
      imports: [
        AuthModule.forRoot({
          issuers: [issuer.trusted],
          audience: AUDIENCE,
          serviceIdentities: {
            purger: {
              principal: { subject: 'purger', scopes: ['orders:delete'], tenant: 'seller-a' },
              crossTenant: true,
            },
          },
        }),
      ],
      controllers: [AroundController],
      providers: [
        Orders,
        PurgeJob,
        LeftBehind,
        { provide: APP_INTERCEPTOR, useClass: AppInterceptor },
        { provide: APP_FILTER, useClass: AppNotFoundFilter },
      ],
    });
  });
  afterAll(() => app?.close());
  beforeEach(() => {
    ran.length = 0;
    app.get(LeftBehind).outcomes.length = 0;
  });

  it('never lends a @RunAs identity to an application interceptor of an anonymous request', async () => {
    const res = await request(app.getHttpServer()).get('/around/interceptor');
    expect(res.body).toEqual({ result: 'MissingTokenError' });
    expect(ran).toEqual([]);
  });

  it('never lends a @RunAs identity to an exception filter of an anonymous request', async () => {
    const res = await request(app.getHttpServer()).get('/around/nowhere');
    expect({ status: res.status, body: res.body }).toEqual({
      status: 404,
      body: { result: 'MissingTokenError' },
    });
    expect(ran).toEqual([]);
  });

  it('runs work a request left behind with no identity once it is answered', async () => {
    await request(app.getHttpServer())
      .get('/around/later/seller-a')
      .set('Authorization', `Bearer ${CALLERS.allowed()}`)
      .expect(200, { result: 'answered' });
    const leftBehind = app.get(LeftBehind);
    while (leftBehind.outcomes.length === 0) await sleep(10);
    expect(leftBehind.outcomes).toEqual(['MissingTokenError']);
    expect(ran).toEqual([]);
  });

  it('runs work a @RunAs call left behind with no identity once it settled', async () => {
    const leftBehind = app.get(LeftBehind);
    await leftBehind.warmUp();
    while (leftBehind.outcomes.length === 0) await sleep(10);
    expect(leftBehind.outcomes).toEqual(['MissingTokenError']);
    expect(ran).toEqual([]);
  });
});
