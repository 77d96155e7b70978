import { describe, expect, it } from '@jest/globals';
import { Controller, Get } from '@nestjs/common';
import request from 'supertest';
import { AnyScope, AuthModule, currentPrincipal, MissingTokenError, Scopes } from 'nest-tessera';
import { CALL_CONTEXT_PLAN, type CallContextPlan } from '../../lib/nest/call-context-plan.js';
import { AUDIENCE, ISSUER } from '../support/forged-tokens.js';
import { ADAPTERS, createHttpApp } from '../support/http-app.js';
import { makeKey, validToken } from '../support/keys.js';

// Secured classes are definition metadata of the whole process (this file's): here only route
// handlers with @AnyScope, which the guard checks whole, so requests run without a call context
// and the guard alone decides.

const key = makeKey('ES256');
const tokenOf = (scope: string) =>
  validToken(key, Math.floor(Date.now() / 1000), { scope, client_id: 'web' });

@Controller('reports')
class ReportsController {
  @AnyScope('reports:read', 'reports:admin')
  @Get()
  list() {
    return { inContext: currentPrincipal() !== undefined };
  }

  @Scopes('reports:export')
  @AnyScope('tier:gold', 'tier:silver')
  @Get('export')
  export() {
    return { exported: true };
  }
}

describe.each(ADAPTERS.map((adapter) => ({ adapter })))(
  '@AnyScope checked by the guard alone on $adapter',
  ({ adapter }) => {
    it('keeps the call context off and refuses what the rule refuses', async () => {
      const app = await createHttpApp(adapter, {
        imports: [
          AuthModule.forRoot({
            issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }],
            audience: AUDIENCE,
          }),
        ],
        controllers: [ReportsController],
      });
      try {
        expect(app.get<CallContextPlan>(CALL_CONTEXT_PLAN).on).toBe(false);
        const get = (path: string, scope: string) =>
          request(app.getHttpServer())
            .get(path)
            .set('Authorization', `Bearer ${tokenOf(scope)}`);
        await get('/reports', 'reports:admin').expect(200, { inContext: false });
        const refused = await get('/reports', 'reports:write').expect(403);
        expect(refused.headers['www-authenticate']).toBe(
          'Bearer error="insufficient_scope", scope="reports:read reports:admin"',
        );
        await get('/reports/export', 'reports:export tier:gold').expect(200);
        await get('/reports/export', 'reports:export').expect(403);
        await get('/reports/export', 'tier:gold').expect(403);
        expect(() => app.get(ReportsController).list()).toThrow(MissingTokenError);
      } finally {
        await app.close();
      }
    });
  },
);
