import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Injectable, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AnyScope, AuthConfigError, AuthModule, Public, Scopes } from 'nest-tessera';
import { AUDIENCE, ISSUER } from '../support/forged-tokens.js';
import { ADAPTERS, createHttpApp } from '../support/http-app.js';
import { makeKey, validToken } from '../support/keys.js';

// @AnyScope requires one of its scopes, on routes and on service methods alike; beside @Scopes
// both hold. A refusal names the alternatives in the challenge.

@Injectable()
class OrdersService {
  @AnyScope('orders:read', 'orders:admin')
  list(): string {
    return 'listed';
  }

  @Scopes('orders:create')
  @AnyScope('tier:gold', 'tier:silver')
  create(): string {
    return 'created';
  }
}

/** Rules on the service only: the guard authenticates, the service decides. */
@Controller('svc')
class ServiceController {
  constructor(private readonly orders: OrdersService) {}

  @Get('list')
  list() {
    return { result: this.orders.list() };
  }

  @Get('create')
  create() {
    return { result: this.orders.create() };
  }
}

/** Rules on the routes: the guard decides (and a class-level one, overridden by a route's). */
@Controller('routes')
@AnyScope('tier:gold', 'tier:silver')
class RoutesController {
  @AnyScope('orders:read', 'orders:admin')
  @Get('list')
  list() {
    return { result: 'listed' };
  }

  @Scopes('orders:create')
  @Get('create')
  create() {
    return { result: 'created' };
  }
}

const key = makeKey('ES256');
const now = () => Math.floor(Date.now() / 1000);
const tokenWith = (scope: string) => validToken(key, now(), { scope });
const auth = () =>
  AuthModule.forRoot({ issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }], audience: AUDIENCE });

const CASES = [
  { what: 'one alternative', path: 'list', scope: 'orders:read', status: 200 },
  { what: 'the other alternative', path: 'list', scope: 'orders:admin', status: 200 },
  { what: 'both alternatives', path: 'list', scope: 'orders:admin orders:read', status: 200 },
  {
    what: 'neither alternative',
    path: 'list',
    scope: 'orders:create orders:delete',
    status: 403,
    challenge: 'scope="orders:read orders:admin"',
  },
  { what: 'no scope at all', path: 'list', scope: '', status: 403 },
  {
    what: 'the required scope and one alternative',
    path: 'create',
    scope: 'orders:create tier:silver',
    status: 200,
  },
  {
    what: 'the required scope, no alternative',
    path: 'create',
    scope: 'orders:create orders:read',
    status: 403,
    challenge: 'scope="tier:gold tier:silver"',
  },
  {
    what: 'an alternative without the required scope',
    path: 'create',
    scope: 'tier:gold tier:silver',
    status: 403,
    challenge: 'scope="orders:create"',
  },
] as const;

describe.each(ADAPTERS.map((adapter) => ({ adapter })))('@AnyScope on $adapter', ({ adapter }) => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await createHttpApp(adapter, {
      imports: [auth()],
      controllers: [ServiceController, RoutesController],
      providers: [OrdersService],
    });
  });
  afterAll(() => app.close());

  describe.each([{ where: 'svc' }, { where: 'routes' }])('on $where', ({ where }) => {
    it.each(CASES)('$what on $path → $status', async (row) => {
      const res = await request(app.getHttpServer())
        .get(`/${where}/${row.path}`)
        .set('Authorization', `Bearer ${tokenWith(row.scope)}`);
      expect(res.status).toBe(row.status);
      if (row.status === 200) return;
      expect(res.headers['www-authenticate']).toMatch(/^Bearer error="insufficient_scope"/);
      if ('challenge' in row) expect(res.headers['www-authenticate']).toContain(row.challenge);
    });
  });

  it('refuses a call of the service outside any request', () => {
    expect(() => app.get(OrdersService).list()).toThrow(/no caller/);
  });

  it('refuses a call of a route handler outside the router', () => {
    expect(() => app.get(RoutesController).list()).toThrow();
  });
});

describe('@AnyScope rules that cannot hold stop the app', () => {
  it('@AnyScope() with no scope', () => {
    expect(() => AnyScope()).toThrow(AuthConfigError);
    expect(() => AnyScope('orders:read', '')).toThrow(AuthConfigError);
  });

  it.each([
    { decorator: '@AnyScope', make: () => AnyScope('orders:read', 'orders:read orders:admin') },
    { decorator: '@AnyScope', make: () => AnyScope('orders:read\torders:admin') },
    { decorator: '@Scopes', make: () => Scopes('orders:read orders:admin') },
    { decorator: '@Scopes', make: () => Scopes('') },
  ])('$decorator with a scope that no token can hold (spaces, empty)', ({ decorator, make }) => {
    expect(make).toThrow(AuthConfigError);
    expect(make).toThrow(`${decorator}() `);
  });

  it('an override without a rule of an @AnyScope method, naming @AnyScope', async () => {
    @Injectable()
    class Unruled extends OrdersService {
      override list(): string {
        return 'listed';
      }
    }
    await expect(
      createHttpApp('express', { imports: [auth()], providers: [Unruled] }),
    ).rejects.toThrow(
      /Unruled\.list overrides OrdersService\.list, which is protected: give the override its own rule, at least as strict as @AnyScope\('orders:read', 'orders:admin'\)/,
    );
  });

  it('a provider under an inherited class-level @AnyScope, naming @AnyScope', async () => {
    @Injectable()
    @AnyScope('orders:read', 'orders:admin')
    class Base {}
    @Injectable()
    class Inherits extends Base {
      wipe(): string {
        return 'wiped';
      }
    }
    await expect(
      createHttpApp('express', { imports: [auth()], providers: [Inherits] }),
    ).rejects.toThrow(/inherited class-level rule, .* put @AnyScope on Inherits or on the member/);
  });

  it('an override that widens the alternatives of a protected method', async () => {
    @Injectable()
    class Wider extends OrdersService {
      @AnyScope('orders:read', 'orders:admin', 'guest')
      override list(): string {
        return 'listed';
      }
    }
    await expect(
      createHttpApp('express', { imports: [auth()], providers: [Wider] }),
    ).rejects.toThrow(
      /Wider\.list overrides OrdersService\.list with a weaker rule: require at least @AnyScope\('orders:read', 'orders:admin'\)/,
    );
  });

  it('an override that narrows them, or requires one of them outright, starts', async () => {
    @Injectable()
    class Narrower extends OrdersService {
      @AnyScope('orders:admin')
      override list(): string {
        return 'listed';
      }

      @Scopes('orders:create', 'tier:gold')
      override create(): string {
        return 'created';
      }
    }
    const app = await createHttpApp('express', { imports: [auth()], providers: [Narrower] });
    await app.close();
  });

  it('@AnyScope under @Public()', async () => {
    @Controller('open')
    class OpenController {
      @Public()
      @AnyScope('orders:read')
      @Get()
      open() {
        return 'open';
      }
    }
    await expect(
      createHttpApp('express', { imports: [auth()], controllers: [OpenController] }),
    ).rejects.toThrow(/OpenController\.open has @AnyScope under @Public\(\)/);
  });
});
