import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Body,
  Controller,
  Get,
  type INestApplication,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  Post,
  Req,
} from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import request from 'supertest';
import {
  AuthModule,
  BearerGuard,
  CurrentPrincipal,
  MissingTokenError,
  Public,
  RevocationStore,
  Scopes,
  Tenant,
  type AuthError,
  type Principal,
} from 'nest-tessera';
import {
  AUDIENCE,
  forgedTokens,
  ISSUER,
  makeForgeryKeys,
  OTHER_ISSUER,
} from '../support/forged-tokens.js';
import { ADAPTERS, createHttpApp } from '../support/http-app.js';
import { JwksServer, tripwire } from '../support/jwks-server.js';
import { validToken } from '../support/keys.js';

@Controller()
@Scopes('items:read')
class ItemsController {
  @Public()
  @Get('health')
  health() {
    return { ok: true };
  }

  @Get('items')
  list(@CurrentPrincipal() principal: Principal) {
    return { subject: principal.subject, scopes: principal.scopes };
  }

  @Scopes('items:write', 'items:read')
  @Post('items')
  create(@Tenant() tenant: string, @Body() body: { name?: string }) {
    return { tenant, name: body?.name };
  }

  @Get('tenant')
  tenant(@Tenant() tenant: string) {
    return { tenant };
  }

  /** `request.user` of the adapter's request and of the Node request (Fastify's `raw`). */
  @Get('whoami')
  whoami(@Req() req: UserCarrier & { raw?: UserCarrier }) {
    return { user: req.user?.subject ?? null, nodeUser: (req.raw ?? req).user?.subject ?? null };
  }

  /** `request.user` of the Node request, which the app's own middleware works on. */
  @Public()
  @Get('public/whoami')
  publicWhoami(@Req() req: UserCarrier & { raw?: UserCarrier }) {
    return { nodeUser: (req.raw ?? req).user?.subject ?? null };
  }
}

interface UserCarrier {
  user?: { subject: string };
}

/** One handler inherited by two controllers that require different scopes. */
class ReportsBase {
  @Get()
  list() {
    return { ok: true };
  }
}

@Controller('reports/sales')
@Scopes('sales:read')
class SalesReportsController extends ReportsBase {}

@Controller('reports/payroll')
@Scopes('payroll:read')
class PayrollReportsController extends ReportsBase {}

/** Middleware of the app's own (a cookie session, say) that sets `request.user` to its user. */
@Module({})
class SessionUserModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer
      .apply(
        (
          req: { user?: unknown; headers: Record<string, unknown> },
          _res: unknown,
          next: () => void,
        ) => {
          if (req.headers['x-session-user'] !== undefined) {
            req.user = { subject: 'mallory', scopes: ['items:read', 'items:write'], tenant: 't' };
          }
          next();
        },
      )
      .forRoutes(ItemsController);
  }
}

const keys = makeForgeryKeys();
const now = () => Math.floor(Date.now() / 1000);

describe.each(ADAPTERS)('the library over HTTP on %s', (adapter) => {
  let app: INestApplication;
  let jwks: JwksServer;
  let otherJwks: JwksServer;
  let wire: Awaited<ReturnType<typeof tripwire>>;
  const rejections: AuthError[] = [];
  const http = () => request(app.getHttpServer());
  const token = (claims: Record<string, unknown> = {}) =>
    validToken(keys.es, now(), { scope: 'items:read items:write', ...claims });

  beforeAll(async () => {
    wire = await tripwire();
    jwks = await new JwksServer().start();
    jwks.keys = [keys.rs, keys.ps, keys.es, keys.ed].map((k) => k.publicJwk);
    otherJwks = await new JwksServer().start();
    otherJwks.keys = [keys.other.publicJwk];
    app = await createHttpApp(adapter, {
      imports: [
        AuthModule.forRoot({
          issuers: [
            { issuer: ISSUER, jwksUri: jwks.uri },
            { issuer: OTHER_ISSUER, jwksUri: otherJwks.uri },
          ],
          audience: AUDIENCE,
          tokenSources: { headers: ['x-access-token'], bodyField: 'access_token' },
          revocation: {},
          events: { requestRejected: ({ error }) => rejections.push(error) },
        }),
        SessionUserModule,
      ],
      controllers: [ItemsController, SalesReportsController, PayrollReportsController],
    });
  });
  afterAll(async () => {
    await app.close();
    await Promise.all([jwks.stop(), otherJwks.stop(), wire.close()]);
  });

  const lastReason = () => rejections.at(-1)?.reason;

  it('lets a valid token through and hands the principal to the handler', async () => {
    const res = await http().get('/items').set('Authorization', `Bearer ${token()}`).expect(200);
    expect(res.body).toEqual({ subject: 'alice', scopes: ['items:read', 'items:write'] });
  });

  it('answers a missing token with 401 and a bare Bearer challenge', async () => {
    const res = await http().get('/items').expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).toEqual({ statusCode: 401, message: 'Unauthorized' });
    expect(lastReason()).toBe('missing_token');
  });

  it('never takes a request.user set by other middleware for a verified principal', async () => {
    await http().get('/items').set('x-session-user', 'mallory').expect(401);
    expect(lastReason()).toBe('missing_token');
    const res = await http()
      .get('/items')
      .set('x-session-user', 'mallory')
      .set('Authorization', `Bearer ${token()}`)
      .expect(200);
    expect(res.body.subject).toBe('alice');
  });

  it('writes the principal to request.user, over a user set by other middleware', async () => {
    const bearer = `Bearer ${token()}`;
    const alice = { user: 'alice', nodeUser: 'alice' };
    await http().get('/whoami').set('Authorization', bearer).expect(200, alice);
    await http()
      .get('/whoami')
      .set('x-session-user', 'mallory')
      .set('Authorization', bearer)
      .expect(200, alice);
  });

  it('revokes a subject at its own issuer: the same sub from the other issuer still passes', async () => {
    const t = now();
    const ours = token({ sub: 'carol', iat: t - 5 });
    const theirs = validToken(keys.other, t, {
      iss: OTHER_ISSUER,
      sub: 'carol',
      iat: t - 5,
      scope: 'items:read',
    });
    await http().get('/items').set('Authorization', `Bearer ${ours}`).expect(200);
    await app
      .get<RevocationStore>(RevocationStore)
      .revokeSubject({ issuer: ISSUER, subject: 'carol' }, t, t + 600);
    await http().get('/items').set('Authorization', `Bearer ${ours}`).expect(401);
    expect(lastReason()).toBe('revoked');
    await http().get('/items').set('Authorization', `Bearer ${theirs}`).expect(200);
    await http()
      .get('/items')
      .set('Authorization', `Bearer ${token({ sub: 'carol' })}`)
      .expect(200);
  });

  it('leaves request.user alone on a request it verified nothing for', async () => {
    await http().get('/whoami').set('Authorization', `Bearer ${token()}`).expect(200);
    await http().get('/public/whoami').expect(200, { nodeUser: null });
    await http()
      .get('/public/whoami')
      .set('x-session-user', 'mallory')
      .expect(200, { nodeUser: 'mallory' });
    await http().get('/public/whoami').expect(200, { nodeUser: null });
  });

  it("enforces each controller's scopes on a handler they inherit from one base class", async () => {
    const sales = token({ scope: 'sales:read' });
    await http().get('/reports/sales').set('Authorization', `Bearer ${sales}`).expect(200);
    await http().get('/reports/payroll').set('Authorization', `Bearer ${sales}`).expect(403);
    const payroll = token({ scope: 'payroll:read' });
    await http().get('/reports/payroll').set('Authorization', `Bearer ${payroll}`).expect(200);
    await http().get('/reports/sales').set('Authorization', `Bearer ${payroll}`).expect(403);
  });

  it('leaves @Public() routes open', async () => {
    await http().get('/health').expect(200, { ok: true });
  });

  it.each(['ws', 'graphql'])(
    'refuses a %s call it reads no token from, unless its handler is @Public()',
    async (type) => {
      const contextOf = (handler: (...args: never[]) => unknown) => {
        const context = new ExecutionContextHost([{}, {}, {}, {}], ItemsController, handler);
        context.setType(type);
        return context;
      };
      const guard = app.get(BearerGuard);
      const outcome = async (handler: (...args: never[]) => unknown) => {
        try {
          return await guard.canActivate(contextOf(handler));
        } catch (error) {
          return error;
        }
      };
      expect(await outcome(ItemsController.prototype.list)).toBeInstanceOf(MissingTokenError);
      expect(await outcome(ItemsController.prototype.health)).toBe(true);
    },
  );

  describe('refuses every forged token with 401 invalid_token and records the reason', () => {
    const rows = forgedTokens(keys, now(), 'http://127.0.0.1:9/unused');
    it.each(rows.map((r) => [r.name, r.reason] as const))('%s → %s', async (name, reason) => {
      const row = forgedTokens(keys, now(), wire.url).find((r) => r.name === name)!;
      const res = await http().get('/items').set('Authorization', `Bearer ${row.token}`);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      expect(res.body).toEqual({
        statusCode: 401,
        message: 'Unauthorized',
        error: 'invalid_token',
      });
      expect(JSON.stringify(res.body)).not.toContain(reason);
      expect(lastReason()).toBe(reason);
    });
    it('never contacted a jku or x5u location', () => {
      expect(wire.hits()).toBe(0);
    });
  });

  it('answers a missing scope with 403 insufficient_scope naming every required scope', async () => {
    const res = await http()
      .post('/items')
      .set('Authorization', `Bearer ${token({ scope: 'items:read' })}`)
      .send({ name: 'x' })
      .expect(403);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer error="insufficient_scope", scope="items:write items:read"',
    );
    expect(res.body).toEqual({
      statusCode: 403,
      message: 'Forbidden',
      error: 'insufficient_scope',
    });
    expect(lastReason()).toBe('missing_scope');
  });

  it('applies the controller scope to routes without their own', async () => {
    await http()
      .get('/items')
      .set('Authorization', `Bearer ${token({ scope: 'items:write' })}`)
      .expect(403);
  });

  it('gives @Tenant() the caller tenant and refuses a token without tid with 403', async () => {
    await http()
      .get('/tenant')
      .set('Authorization', `Bearer ${token()}`)
      .expect(200, { tenant: 'seller-a' });
    const res = await http()
      .get('/tenant')
      .set('Authorization', `Bearer ${token({ tid: undefined })}`)
      .expect(403);
    expect(res.headers['www-authenticate']).toBe('Bearer error="insufficient_scope"');
    expect(lastReason()).toBe('missing_tenant');
  });

  describe('token sources', () => {
    it('reads the configured header', async () => {
      await http().get('/items').set('X-Access-Token', token()).expect(200);
    });

    it('reads the configured JSON body field', async () => {
      await http()
        .post('/items')
        .send({ access_token: token(), name: 'from-body' })
        .expect(201, { tenant: 'seller-a', name: 'from-body' });
    });

    it('reads no token from a form body', async () => {
      const res = await http()
        .post('/items')
        .type('form')
        .send({ access_token: token(), name: 'from-form' });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    });

    it('accepts the same token twice', async () => {
      const t = token();
      await http()
        .get('/items')
        .set('Authorization', `Bearer ${t}`)
        .set('X-Access-Token', t)
        .expect(200);
    });

    it.each([
      [
        'a token in the query string',
        (t: string) => http().get(`/items?access_token=${t}`),
        'token_in_query',
      ],
      [
        'two different tokens',
        (t: string) =>
          http().get('/items').set('Authorization', `Bearer ${t}`).set('X-Access-Token', token()),
        'multiple_tokens',
      ],
      [
        'a header token and a different body token',
        (t: string) =>
          http().post('/items').set('Authorization', `Bearer ${t}`).send({ access_token: token() }),
        'multiple_tokens',
      ],
      [
        'a Bearer credential with no token',
        () => http().get('/items').set('Authorization', 'Bearer '),
        'malformed_credentials',
      ],
      [
        'a Bearer credential with two words',
        (t: string) => http().get('/items').set('Authorization', `Bearer ${t} x`),
        'malformed_credentials',
      ],
      [
        'a body token that is not a string',
        () => http().post('/items').send({ access_token: 42 }),
        'malformed_credentials',
      ],
    ])('answers %s with 400 invalid_request', async (_name, send, reason) => {
      const res = await send(token());
      expect(res.status).toBe(400);
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_request"');
      expect(res.body).toEqual({
        statusCode: 400,
        message: 'Bad Request',
        error: 'invalid_request',
      });
      expect(lastReason()).toBe(reason);
    });

    it('ignores an Authorization header of another scheme', async () => {
      const res = await http().get('/items').set('Authorization', 'Basic YWxpY2U6cHc=').expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    });

    it('refuses a 9 KiB token in a header as oversized', async () => {
      const big = validToken(keys.es, now(), { pad: 'x'.repeat(6_500) });
      await http().get('/items').set('Authorization', `Bearer ${big}`).expect(401);
      expect(lastReason()).toBe('oversized');
    });
  });
});
