import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Get,
  Inject,
  Injectable,
  type INestApplication,
  Module,
  Param,
  Scope,
} from '@nestjs/common';
import request from 'supertest';
import { AuthModule, Scopes, Tenant, type AuthModuleOptions } from 'nest-tessera';
import { TestIssuer } from 'nest-tessera/testing';
import { AUDIENCE } from '../support/forged-tokens.js';
import { createHttpApp } from '../support/http-app.js';

// Every way Nest builds a provider, and every kind of member a class-level rule covers (a
// function field under one is a start-up error: method-security-shapes.e2e.spec.ts): each
// must refuse a caller with scope orders:read only, as the plain class provider does.

const WIPE = Symbol('wipe');

@Injectable({ scope: Scope.TRANSIENT })
class TransientAdmin {
  @Scopes('admin')
  wipe() {
    return 'wiped';
  }
}

class ValueAdmin {
  @Scopes('admin')
  wipe() {
    return 'wiped';
  }
}

@Injectable()
@Scopes('orders:read')
@Tenant({ arg: 0 })
class FactoryOrders {
  list(tenant: string) {
    return `orders of ${tenant}`;
  }
}

@Injectable()
@Scopes('admin')
class ClassRuleAdmin {
  get everything() {
    return 'everything';
  }

  wipe() {
    return 'wiped';
  }

  [WIPE]() {
    return 'wiped';
  }

  onModuleInit() {
    // Nest calls this with no caller: a class-level rule does not cover lifecycle hooks.
  }
}

const ALIAS = 'ALIAS';

@Controller()
class CallsController {
  constructor(
    private readonly transient: TransientAdmin,
    private readonly value: ValueAdmin,
    private readonly factory: FactoryOrders,
    private readonly admin: ClassRuleAdmin,
    @Inject(ALIAS) private readonly alias: ClassRuleAdmin,
  ) {}

  @Get('transient')
  viaTransient() {
    return { result: this.transient.wipe() };
  }

  @Get('value')
  viaValue() {
    return { result: this.value.wipe() };
  }

  @Get('factory/:tenant')
  viaFactory(@Param('tenant') tenant: string) {
    return { result: this.factory.list(tenant) };
  }

  @Get('class/:member')
  viaClassRule(@Param('member') member: string) {
    const calls: Record<string, () => unknown> = {
      method: () => this.admin.wipe(),
      symbol: () => this.admin[WIPE](),
      getter: () => this.admin.everything,
      alias: () => this.alias.wipe(),
    };
    return { result: calls[member]!() };
  }
}

const issuer = TestIssuer.create({ audience: AUDIENCE });
const reader = () => issuer.token({ scope: 'orders:read', tid: 'seller-a', client_id: 'web' });
const auth = (options: Pick<AuthModuleOptions, 'principalContext'> = {}) =>
  AuthModule.forRoot({
    issuers: [issuer.trusted],
    audience: AUDIENCE,
    ...options,
  });
const FORBIDDEN = { statusCode: 403, message: 'Forbidden', error: 'insufficient_scope' };

describe('service-layer rules on every provider Nest builds', () => {
  let app: INestApplication;
  const get = (path: string) =>
    request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${reader()}`);

  beforeAll(async () => {
    app = await createHttpApp('express', {
      imports: [auth()],
      controllers: [CallsController],
      providers: [
        TransientAdmin,
        { provide: ValueAdmin, useValue: new ValueAdmin() },
        { provide: FactoryOrders, useFactory: () => new FactoryOrders() },
        ClassRuleAdmin,
        { provide: ALIAS, useExisting: ClassRuleAdmin },
      ],
    });
  });
  afterAll(() => app.close());

  it.each([
    ['a transient provider', '/transient'],
    ['a useValue provider', '/value'],
    ['a method under a class-level rule', '/class/method'],
    ['a symbol-named method under a class-level rule', '/class/symbol'],
    ['a getter under a class-level rule', '/class/getter'],
    ['the same instance under an alias (useExisting)', '/class/alias'],
  ])('refuses a caller without the scope of %s', async (_name, path) => {
    const res = await get(path);
    expect({ status: res.status, body: res.body }).toEqual({ status: 403, body: FORBIDDEN });
  });

  it("holds a useFactory provider to its class's rules: its own tenant only", async () => {
    await get('/factory/seller-a').expect(200, { result: 'orders of seller-a' });
    const res = await get('/factory/seller-b');
    expect(res.status).toBe(403);
  });
});

describe('a protected provider known only after start (an async factory)', () => {
  // An async factory's product is not there yet when the module is planned: the call context is
  // on because some class in the process carries rules, not because this product was seen.
  const slowly = async () => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return new FactoryOrders();
  };

  it('starts, and checks the factory product for every caller', async () => {
    @Module({
      providers: [{ provide: FactoryOrders, useFactory: slowly }],
      exports: [FactoryOrders],
    })
    class FeatureModule {}
    @Controller()
    class FactoryController {
      constructor(private readonly orders: FactoryOrders) {}
      @Get(':tenant')
      list(@Param('tenant') tenant: string) {
        return { result: this.orders.list(tenant) };
      }
    }
    const app = await createHttpApp('express', {
      imports: [auth(), FeatureModule],
      controllers: [FactoryController],
    });
    try {
      const get = (path: string) =>
        request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${reader()}`);
      await get('/seller-a').expect(200, { result: 'orders of seller-a' });
      await get('/seller-b').expect(403);
    } finally {
      await app.close();
    }
  });
});
