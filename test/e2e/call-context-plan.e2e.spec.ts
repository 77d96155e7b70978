import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Param } from '@nestjs/common';
import request from 'supertest';
import { AuthModule, currentPrincipal, MissingTokenError, Scopes, Tenant } from 'nest-tessera';
import { CALL_CONTEXT_PLAN, type CallContextPlan } from '../../lib/nest/call-context-plan.js';
import { TestIssuer } from 'nest-tessera/testing';
import { createHttpApp } from '../support/http-app.js';

// When requests run in a call context (a middleware and an interceptor per request). Secured
// classes are definition metadata of the whole process, so each test defines its classes in
// turn, in order: the first sees only scopes-only route handlers, which the guard checks whole.

const issuer = TestIssuer.create({ audience: 'orders-api' });
const tokenOf = (scope: string, tid: string) => issuer.token({ scope, tid, client_id: 'web' });
const auth = (globalGuard = true) =>
  AuthModule.forRoot({ issuers: [issuer.trusted], audience: 'orders-api', globalGuard });

describe('the call context, planned from the secured classes of the process', () => {
  it('stays off while every rule is a route handler scope that the guard checks whole', async () => {
    @Controller('plain')
    class PlainController {
      @Scopes('orders:read')
      @Get()
      list() {
        return { inContext: currentPrincipal() !== undefined };
      }

      @Scopes('admin:purge')
      @Get('purge')
      purge() {
        purged.push('purge');
        return { purged: true };
      }

      /** A route of its own that calls another route's handler. */
      @Scopes('orders:read')
      @Get('purge-through-list')
      purgeThroughList() {
        return this.purge();
      }
    }
    const purged: string[] = [];
    const app = await createHttpApp('express', {
      imports: [auth()],
      controllers: [PlainController],
    });
    try {
      expect(app.get<CallContextPlan>(CALL_CONTEXT_PLAN).on).toBe(false);
      const get = (path: string, token: string) =>
        request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);
      await get('/plain', tokenOf('orders:read', 'seller-a')).expect(200, { inContext: false });
      await get('/plain', tokenOf('orders:write', 'seller-a')).expect(403);
      await get('/plain/purge', tokenOf('admin:purge', 'seller-a')).expect(200);
      expect(purged).toEqual(['purge']);
      // Reached otherwise than by the router after the guard, a handler is refused: there is
      // no context to check, and only the router's entry is left unchecked.
      await get('/plain/purge-through-list', tokenOf('orders:read', 'seller-a')).expect(401);
      expect(() => app.get(PlainController).purge()).toThrow(MissingTokenError);
      expect(purged).toEqual(['purge']);
    } finally {
      await app.close();
    }
  });

  it('turns on for a handler no guard checks (globalGuard off, no @UseGuards): refused', async () => {
    @Controller('unguarded')
    class UnguardedController {
      @Scopes('admin')
      @Get()
      wipe() {
        return { wiped: true };
      }
    }
    const app = await createHttpApp('express', {
      imports: [auth(false)],
      controllers: [UnguardedController],
    });
    try {
      const res = await request(app.getHttpServer()).get('/unguarded');
      expect(res.status).toBe(401);
    } finally {
      await app.close();
    }
  });

  it("turns on for a route's @Tenant, which the guard does not check, and enforces it", async () => {
    @Controller('tenant')
    class TenantController {
      @Scopes('orders:read')
      @Tenant({ arg: 0 })
      @Get(':tenant')
      list(@Param('tenant') tenant: string) {
        return { tenant, caller: currentPrincipal()?.tenant };
      }
    }
    const app = await createHttpApp('express', {
      imports: [auth()],
      controllers: [TenantController],
    });
    try {
      const get = (path: string) =>
        request(app.getHttpServer())
          .get(path)
          .set('Authorization', `Bearer ${tokenOf('orders:read', 'seller-a')}`);
      await get('/tenant/seller-a').expect(200, { tenant: 'seller-a', caller: 'seller-a' });
      await get('/tenant/seller-b').expect(403);
    } finally {
      await app.close();
    }
  });
});
