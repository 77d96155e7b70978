import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Injectable, type INestApplication, Param } from '@nestjs/common';
import {
  ClientProxyFactory,
  EventPattern,
  MessagePattern,
  Transport,
  type ClientProxy,
} from '@nestjs/microservices';
import { Interval, ScheduleModule } from '@nestjs/schedule';
import { firstValueFrom } from 'rxjs';
import request from 'supertest';
import {
  AuthModule,
  CurrentPrincipal,
  currentPrincipal,
  InsufficientScopeError,
  MissingTokenError,
  RunAs,
  runAs,
  Scopes,
  Tenant,
  type AuthError,
  type Principal,
} from 'nest-tessera';
import { TestIssuer } from 'nest-tessera/testing';
import { AUDIENCE } from '../support/forged-tokens.js';
import { createHttpApp } from '../support/http-app.js';
import { freePort } from '../support/redis-process.js';

interface Order {
  id: string;
  tenant: string;
}

const ORDERS: Order[] = [
  { id: 'a-1', tenant: 'seller-a' },
  { id: 'b-1', tenant: 'seller-b' },
];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The domain service carries the rules; nothing reaches it unchecked. */
@Injectable()
class OrdersDomain {
  @Scopes('orders:read')
  @Tenant({ arg: 0 })
  async list(tenant: string): Promise<Order[]> {
    await sleep(Math.random() * 5);
    return ORDERS.filter((o) => o.tenant === tenant);
  }

  @Scopes('orders:read')
  @Tenant({ result: 'tenant' })
  async load(id: string): Promise<Order | undefined> {
    return ORDERS.find((o) => o.id === id);
  }

  @Scopes('orders:delete')
  @Tenant({ arg: 0 })
  remove(tenant: string, id: string): boolean {
    return ORDERS.some((o) => o.tenant === tenant && o.id === id);
  }

  /** Who the service sees as caller, after an await. */
  @Scopes('orders:read')
  async whoAmI(): Promise<string | undefined> {
    await sleep(Math.random() * 10);
    return currentPrincipal()?.tenant;
  }
}

/** A controller that forgot every @Scopes: the service still checks. */
@Controller('forgetful')
class ForgetfulController {
  constructor(private readonly orders: OrdersDomain) {}

  @Get(':tenant/orders')
  list(@Param('tenant') tenant: string) {
    return this.orders.list(tenant);
  }

  @Get(':tenant/remove/:id')
  remove(@Param('tenant') tenant: string, @Param('id') id: string) {
    return { removed: this.orders.remove(tenant, id) };
  }

  @Get('who')
  async who() {
    return { tenant: await this.orders.whoAmI() };
  }
}

@Injectable()
class ReportsJob {
  readonly runs: string[] = [];

  constructor(private readonly orders: OrdersDomain) {}

  @Interval('reports', 20)
  @RunAs('reports-job')
  async report(): Promise<number> {
    const orders = await this.orders.list('seller-a');
    this.runs.push(`${currentPrincipal()?.subject}:${orders.length}`);
    return orders.length;
  }

  @RunAs('reports-job')
  async purge(): Promise<boolean> {
    return this.orders.remove('seller-a', 'a-1');
  }

  @RunAs('reports-job')
  async peekOtherTenant(): Promise<Order[]> {
    return this.orders.list('seller-b');
  }

  @RunAs('auditor')
  async auditAll(): Promise<number> {
    return (
      (await this.orders.list('seller-a')).length + (await this.orders.list('seller-b')).length
    );
  }

  async withoutIdentity(): Promise<Order[]> {
    return this.orders.list('seller-a');
  }
}

@Controller()
class OrdersConsumer {
  readonly events: { subject: string; tenant: string }[] = [];

  constructor(private readonly orders: OrdersDomain) {}

  @MessagePattern('orders.list')
  list(data: { tenant: string }) {
    return this.orders.list(data.tenant);
  }

  /** The caller's own orders: the principal and tenant come from the message's token. */
  @MessagePattern('orders.mine')
  mine(@CurrentPrincipal() principal: Principal, @Tenant() tenant: string) {
    return this.orders.list(tenant).then((orders) => ({ subject: principal.subject, orders }));
  }

  @EventPattern('orders.seen')
  seen(@CurrentPrincipal() principal: Principal, @Tenant() tenant: unknown) {
    this.events.push({ subject: principal.subject, tenant: String(tenant) });
  }
}

const issuer = TestIssuer.create({ audience: AUDIENCE, alg: 'EdDSA' });
const tokenFor = (tenant: string, scope = 'orders:read') =>
  issuer.token({ tid: tenant, sub: `user-of-${tenant}`, scope });

describe('one authorization path for every caller', () => {
  let app: INestApplication;
  let client: ClientProxy;
  const denied: { method: string; error: AuthError }[] = [];

  beforeAll(async () => {
    app = await createHttpApp('express', {
      imports: [
        ScheduleModule.forRoot(),
        AuthModule.forRoot({
          issuers: [issuer.trusted],
          audience: AUDIENCE,
          serviceIdentities: {
            'reports-job': {
              principal: { subject: 'reports-job', scopes: ['orders:read'], tenant: 'seller-a' },
            },
            auditor: {
              principal: { subject: 'auditor', scopes: ['orders:read'] },
              crossTenant: true,
            },
          },
          events: { accessDenied: (event) => denied.push(event) },
        }),
      ],
      controllers: [ForgetfulController, OrdersConsumer],
      providers: [OrdersDomain, ReportsJob],
    });
    const port = await freePort();
    app.connectMicroservice(
      { transport: Transport.TCP, options: { host: '127.0.0.1', port } },
      { inheritAppConfig: true },
    );
    await app.startAllMicroservices();
    client = ClientProxyFactory.create({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
    });
    await client.connect();
  });
  afterAll(async () => {
    await client.close();
    await app.close();
  });

  describe('through a controller that forgot its @Scopes', () => {
    it('refuses a caller without the scope the service method requires', async () => {
      const res = await request(app.getHttpServer())
        .get('/forgetful/seller-a/remove/a-1')
        .set('Authorization', `Bearer ${tokenFor('seller-a')}`)
        .expect(403);
      expect(res.headers['www-authenticate']).toBe(
        'Bearer error="insufficient_scope", scope="orders:delete"',
      );
      expect(denied.at(-1)).toMatchObject({
        method: 'OrdersDomain.remove',
        error: { reason: 'missing_scope' },
      });
    });

    it('lets a caller with the scope through', async () => {
      await request(app.getHttpServer())
        .get('/forgetful/seller-a/remove/a-1')
        .set('Authorization', `Bearer ${tokenFor('seller-a', 'orders:delete')}`)
        .expect(200, { removed: true });
    });

    it("refuses seller-a acting on seller-b's data", async () => {
      await request(app.getHttpServer())
        .get('/forgetful/seller-b/orders')
        .set('Authorization', `Bearer ${tokenFor('seller-a')}`)
        .expect(403);
      expect(denied.at(-1)?.error.reason).toBe('tenant_mismatch');
    });
  });

  describe('direct service calls', () => {
    it("refuses seller-a acting on seller-b's data, by argument and by loaded entity", async () => {
      const domain = app.get(OrdersDomain);
      const sellerA = await principalOf(tokenFor('seller-a'));
      await expect(runAs(sellerA, () => domain.list('seller-b'))).rejects.toMatchObject({
        reason: 'tenant_mismatch',
      });
      await expect(runAs(sellerA, () => domain.load('b-1'))).rejects.toBeInstanceOf(
        InsufficientScopeError,
      );
      await expect(runAs(sellerA, () => domain.load('a-1'))).resolves.toEqual({
        id: 'a-1',
        tenant: 'seller-a',
      });
    });

    it('refuses a call with no principal at all', async () => {
      const domain = app.get(OrdersDomain);
      await expect(domain.list('seller-a')).rejects.toBeInstanceOf(MissingTokenError);
      expect(() => domain.remove('seller-a', 'a-1')).toThrow(MissingTokenError);
    });

    it('keeps a sync method sync', async () => {
      const sellerA = await principalOf(tokenFor('seller-a', 'orders:delete'));
      expect(runAs(sellerA, () => app.get(OrdersDomain).remove('seller-a', 'a-1'))).toBe(true);
    });
  });

  describe('scheduled tasks', () => {
    it('run as their service identity, on the scheduler', async () => {
      const job = app.get(ReportsJob);
      while (job.runs.length === 0) await sleep(10);
      expect(job.runs[0]).toBe('reports-job:1');
    });

    it('are refused a method needing a scope their identity lacks', async () => {
      await expect(app.get(ReportsJob).purge()).rejects.toMatchObject({ reason: 'missing_scope' });
    });

    it('are held to their tenant unless granted cross-tenant access explicitly', async () => {
      await expect(app.get(ReportsJob).peekOtherTenant()).rejects.toMatchObject({
        reason: 'tenant_mismatch',
      });
      await expect(app.get(ReportsJob).auditAll()).resolves.toBe(2);
    });

    it('are refused when they run with no identity', async () => {
      await expect(app.get(ReportsJob).withoutIdentity()).rejects.toBeInstanceOf(MissingTokenError);
    });
  });

  it('never lets the principal leak between concurrent requests', async () => {
    const tenants = Array.from({ length: 120 }, (_, i) => `tenant-${i % 7}`);
    const answers = await Promise.all(
      tenants.map((tenant) =>
        request(app.getHttpServer())
          .get('/forgetful/who')
          .set('Authorization', `Bearer ${tokenFor(tenant)}`),
      ),
    );
    expect(answers.map((a) => a.body.tenant)).toEqual(tenants);
  });

  describe('message handlers (TCP transport)', () => {
    it('refuse a message without a token', async () => {
      await expect(
        firstValueFrom(client.send('orders.list', { tenant: 'seller-a' })),
      ).rejects.toMatchObject({
        status: 401,
      });
    });

    it('refuse a message with a forged token', async () => {
      // Another key under the trusted issuer's name and kid.
      const impostor = TestIssuer.create({ audience: AUDIENCE, alg: 'EdDSA' });
      const forged = impostor.token({ tid: 'seller-a' }, { header: { kid: issuer.kid } });
      const message = { tenant: 'seller-a', metadata: { authorization: `Bearer ${forged}` } };
      await expect(firstValueFrom(client.send('orders.list', message))).rejects.toMatchObject({
        status: 401,
        error: 'invalid_token',
      });
    });

    it("give @CurrentPrincipal() and @Tenant() the message token's caller", async () => {
      const message = { metadata: { authorization: `Bearer ${tokenFor('seller-a')}` } };
      await expect(firstValueFrom(client.send('orders.mine', message))).resolves.toEqual({
        subject: 'user-of-seller-a',
        orders: [{ id: 'a-1', tenant: 'seller-a' }],
      });
      await firstValueFrom(client.emit('orders.seen', message));
      const consumer = app.get(OrdersConsumer);
      while (consumer.events.length === 0) await sleep(10);
      expect(consumer.events).toEqual([{ subject: 'user-of-seller-a', tenant: 'seller-a' }]);
    });

    it('refuse @Tenant() to a message whose token names no tenant', async () => {
      const token = issuer.token({
        sub: 'no-tenant',
        scope: 'orders:read',
        tid: undefined,
      });
      const message = { metadata: { authorization: `Bearer ${token}` } };
      await expect(firstValueFrom(client.send('orders.mine', message))).rejects.toMatchObject({
        status: 403,
        error: 'insufficient_scope',
      });
    });

    it('accept a message with a valid token, and the service checks its principal', async () => {
      const message = (tenant: string) => ({
        tenant,
        metadata: { authorization: `Bearer ${tokenFor('seller-a')}` },
      });
      await expect(
        firstValueFrom(client.send('orders.list', message('seller-a'))),
      ).resolves.toEqual([{ id: 'a-1', tenant: 'seller-a' }]);
      await expect(
        firstValueFrom(client.send('orders.list', message('seller-b'))),
      ).rejects.toMatchObject({
        status: 403,
        error: 'insufficient_scope',
      });
    });
  });

  async function principalOf(token: string): Promise<Principal> {
    const { TokenVerifier } = await import('../../lib/verify/token-verifier.js');
    return app.get(TokenVerifier).verify(token);
  }
});
