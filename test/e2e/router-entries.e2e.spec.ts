import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Global, Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import request from 'supertest';
import { AuthModule, MissingTokenError, Scopes } from 'nest-tessera';
import { CALL_CONTEXT_PLAN, type CallContextPlan } from '../../lib/nest/call-context-plan.js';
import { TestIssuer } from 'nest-tessera/testing';
import { AUDIENCE } from '../support/forged-tokens.js';
import { createHttpApp } from '../support/http-app.js';

// With the call context off (this file's only rule is a route's scopes, which the guard checks
// whole), Nest's router alone reads an unchecked entry to the handler, from the controller
// instance of the application that registers its routes; everything else gets the checked one.

const issuer = TestIssuer.create({ audience: AUDIENCE });
const tokenOf = (scope: string, tid: string) => issuer.token({ scope, tid, client_id: 'web' });
const auth = (globalGuard = true) =>
  AuthModule.forRoot({
    issuers: [issuer.trusted],
    audience: AUDIENCE,
    globalGuard,
  });

describe('the router entries of an application whose context is off', () => {
  const purged: string[] = [];

  @Controller('admin')
  class AdminController {
    @Scopes('admin:purge')
    @Get('purge')
    purge() {
      purged.push('purge');
      return { purged: true };
    }
  }

  /** Takes a reference to the handler in its onModuleInit, before AuthModule's explorer runs. */
  @Injectable()
  class EarlyCollector implements OnModuleInit {
    taken: (() => unknown) | undefined;
    constructor(private readonly moduleRef: ModuleRef) {}
    onModuleInit() {
      const controller = this.moduleRef.get(AdminController, { strict: false });
      this.taken = controller.purge.bind(controller);
    }
  }
  @Global()
  @Module({ providers: [EarlyCollector], exports: [EarlyCollector] })
  class EarlyModule {}

  @Injectable()
  class FailingStart implements OnModuleInit {
    onModuleInit() {
      throw new Error('the database is down');
    }
  }
  @Global()
  @Module({ providers: [FailingStart] })
  class FailingModule {}

  it('are taken by the router alone: a reference taken while routes register is checked', async () => {
    purged.length = 0;
    const app = await createHttpApp('express', {
      imports: [EarlyModule, auth()],
      controllers: [AdminController],
    });
    try {
      expect(app.get<CallContextPlan>(CALL_CONTEXT_PLAN).on).toBe(false);
      await request(app.getHttpServer())
        .get('/admin/purge')
        .set('Authorization', `Bearer ${tokenOf('admin:purge', 'seller-a')}`)
        .expect(200);
      expect(() => app.get(EarlyCollector).taken!()).toThrow(MissingTokenError);
      expect(purged).toEqual(['purge']);
    } finally {
      await app.close();
    }
  });

  it('never reach another application initialising at the same time', async () => {
    purged.length = 0;
    const [guarded, unguarded] = await Promise.all([
      createHttpApp('express', { imports: [auth()], controllers: [AdminController] }),
      createHttpApp('express', { imports: [auth(false)], controllers: [AdminController] }),
    ]);
    try {
      await request(guarded.getHttpServer()).get('/admin/purge').expect(401);
      await request(unguarded.getHttpServer()).get('/admin/purge').expect(401);
      expect(purged).toEqual([]);
    } finally {
      await Promise.all([guarded.close(), unguarded.close()]);
    }
  });

  it('leave nothing unchecked when start-up fails while routes register', async () => {
    purged.length = 0;
    await expect(
      createHttpApp('express', {
        imports: [FailingModule, auth()],
        controllers: [AdminController],
      }),
    ).rejects.toThrow('the database is down');
    expect(() => new AdminController().purge()).toThrow(MissingTokenError);
    expect(purged).toEqual([]);
  });
});
