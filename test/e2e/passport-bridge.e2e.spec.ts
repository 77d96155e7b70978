import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Catch,
  Controller,
  type ExceptionFilter,
  type ArgumentsHost,
  Get,
  type INestApplication,
  Injectable,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import { ExtractJwt } from 'passport-jwt';
import request from 'supertest';
import {
  type AccessTokenClaims,
  AuthModule,
  principalOf,
  type Principal,
  RevocationStore,
} from 'nest-tessera';
import { JwtPassportStrategy, TesseraJwtStrategy } from 'nest-tessera/passport';
import { ApiKeyStrategy, cookieToken } from '../../examples/migration/routes.js';
import { AUDIENCE, ISSUER } from '../support/forged-tokens.js';
import { ADAPTERS, createHttpApp } from '../support/http-app.js';
import { makeKey, validToken } from '../support/keys.js';

// JwtPassportStrategy and TesseraJwtStrategy behave as passport-jwt's strategy does under
// @nestjs/passport: failures reach handleRequest's `info` and let a chain go on, `validate` gets
// the payload; the library's own rules (the query string, the size limit) still hold.

const key = makeKey('EdDSA');
const now = () => Math.floor(Date.now() / 1000);
const token = (claims: Record<string, unknown> = {}) => validToken(key, now(), claims);
const expired = () => token({ iat: now() - 900, exp: now() - 600 });
const API_KEY = { 'x-api-key': 'reports-job-key' };

@Injectable()
class PayloadStrategy extends PassportStrategy(TesseraJwtStrategy, 'jwt-payload') {
  validate(payload: AccessTokenClaims, principal: Principal) {
    return { sub: payload.sub, subject: principal.subject, tenant: principal.tenant };
  }
}

@Injectable()
class RequestStrategy extends PassportStrategy(TesseraJwtStrategy, 'jwt-request') {
  constructor() {
    super({ passReqToCallback: true });
  }

  async validate(req: { url: string }, payload: AccessTokenClaims, principal: Principal) {
    await new Promise((resolve) => setImmediate(resolve));
    return { url: req.url, sub: payload.sub, subject: principal.subject };
  }
}

/** Accepts alice only: a falsy `validate` refuses, as with passport-jwt. */
@Injectable()
class AliceOnlyStrategy extends PassportStrategy(TesseraJwtStrategy, 'jwt-alice') {
  validate(payload: AccessTokenClaims) {
    return payload.sub === 'alice' ? payload : false;
  }
}

@Injectable()
class ThrowingStrategy extends PassportStrategy(TesseraJwtStrategy, 'jwt-throws') {
  validate(): unknown {
    throw new Error('user store unavailable');
  }
}

@Injectable()
class CookieStrategy extends PassportStrategy(TesseraJwtStrategy, 'jwt-cookie') {
  constructor() {
    super({ jwtFromRequest: ExtractJwt.fromExtractors([cookieToken]) });
  }

  validate(payload: AccessTokenClaims) {
    return payload;
  }
}

@Injectable()
class QueryStrategy extends PassportStrategy(TesseraJwtStrategy, 'jwt-query') {
  constructor() {
    super({ jwtFromRequest: ExtractJwt.fromUrlQueryParameter('token') });
  }

  validate(payload: AccessTokenClaims) {
    return payload;
  }
}

/** passport-jwt's common pattern: `validate` adds to the payload it is given and returns it. */
@Injectable()
class MutatingStrategy extends PassportStrategy(TesseraJwtStrategy, 'jwt-mutates') {
  validate(payload: AccessTokenClaims & { userId?: string; prefs?: { visits: number } }) {
    payload.userId = payload.sub;
    if (payload.prefs) payload.prefs.visits += 1;
    return payload;
  }
}

/** Reads the token from a value that carries a prefix: `?auth=Bearer <token>`. */
@Injectable()
class PrefixedQueryStrategy extends PassportStrategy(TesseraJwtStrategy, 'jwt-prefixed') {
  constructor() {
    super({
      jwtFromRequest: (req: { query: Record<string, string | undefined> }) =>
        req.query.auth?.replace(/^Bearer /, ''),
    });
  }

  validate(payload: AccessTokenClaims) {
    return payload;
  }
}

/** Parses a header the client sends: JSON.parse throws on what is not JSON. */
@Injectable()
class JsonHeaderStrategy extends PassportStrategy(TesseraJwtStrategy, 'jwt-json') {
  constructor() {
    super({
      jwtFromRequest: (req: { headers: Record<string, string | undefined> }) =>
        (JSON.parse(req.headers['x-credentials'] ?? '{}') as { token?: string }).token,
    });
  }

  validate(payload: AccessTokenClaims) {
    return payload;
  }
}

/** What `handleRequest` was given, answered as the body (always 401 when refused). */
@Injectable()
class RecordingGuard extends AuthGuard('jwt') {
  override handleRequest<User>(
    error: unknown,
    user: User,
    info: unknown,
    _c: unknown,
    status: unknown,
  ): User {
    if (error || !user) {
      const described = (value: unknown) =>
        value instanceof Error
          ? {
              isError: true,
              name: value.name,
              message: value.message,
              reason: (value as { reason?: string }).reason,
            }
          : (value ?? null);
      throw new UnauthorizedException({
        error: described(error),
        info: described(info),
        status: status ?? null,
      });
    }
    return user;
  }
}

type Req = { user: unknown; url: string };

@Controller('p')
class BridgeController {
  @UseGuards(AuthGuard('jwt'))
  @Get('default')
  default(@Req() req: Req) {
    return { user: req.user, principal: principalOf(req as object)?.subject ?? null };
  }

  @UseGuards(RecordingGuard)
  @Get('recorded')
  recorded() {
    return {};
  }

  @UseGuards(AuthGuard('jwt-payload'))
  @Get('payload')
  payload(@Req() req: Req) {
    return req.user;
  }

  @UseGuards(AuthGuard('jwt-request'))
  @Get('request')
  request(@Req() req: Req) {
    return req.user;
  }

  @UseGuards(AuthGuard(['jwt-alice', 'api-key']))
  @Get('alice-or-key')
  aliceOrKey(@Req() req: Req) {
    return { user: req.user, principal: principalOf(req as object)?.subject ?? null };
  }

  @UseGuards(AuthGuard('jwt-throws'))
  @Get('throws')
  throws() {
    return {};
  }

  @UseGuards(AuthGuard('jwt-cookie'))
  @Get('cookie')
  cookie(@Req() req: Req) {
    return req.user;
  }

  @UseGuards(AuthGuard(['jwt-cookie', 'api-key']))
  @Get('cookie-or-key')
  cookieOrKey(@Req() req: Req) {
    return req.user;
  }

  @UseGuards(AuthGuard('jwt-query'))
  @Get('query')
  query() {
    return {};
  }

  @Get('plain')
  plain() {
    throw new UnauthorizedException();
  }

  @UseGuards(AuthGuard('jwt-mutates'))
  @Get('mutates')
  mutates(@Req() req: Req) {
    return req.user;
  }

  @UseGuards(AuthGuard('jwt-prefixed'))
  @Get('prefixed')
  prefixed() {
    return {};
  }

  @UseGuards(AuthGuard(['jwt-json', 'api-key']))
  @Get('json')
  json(@Req() req: Req) {
    return req.user;
  }
}

describe.each(ADAPTERS)('the Passport strategies of nest-tessera/passport on %s', (adapter) => {
  let app: INestApplication;
  const rejected: string[] = [];
  beforeAll(async () => {
    app = await createHttpApp(adapter, {
      imports: [
        AuthModule.forRoot({
          issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }],
          audience: AUDIENCE,
          globalGuard: false,
          revocation: {},
          events: { requestRejected: ({ error }) => void rejected.push(error.reason) },
        }),
      ],
      controllers: [BridgeController],
      providers: [
        JwtPassportStrategy,
        PayloadStrategy,
        RequestStrategy,
        AliceOnlyStrategy,
        ThrowingStrategy,
        CookieStrategy,
        QueryStrategy,
        MutatingStrategy,
        PrefixedQueryStrategy,
        JsonHeaderStrategy,
        ApiKeyStrategy,
        RecordingGuard,
      ],
    });
  });
  afterAll(() => app.close());

  const get = (path: string) => request(app.getHttpServer()).get(path);

  it('answers the default refusal as the bearer guard does, and counts it', async () => {
    rejected.length = 0;
    const res = await get('/p/default').set('Authorization', `Bearer ${expired()}`).expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ statusCode: 401, message: 'Unauthorized', error: 'invalid_token' });
    expect(rejected).toEqual(['expired']);
  });

  it('keeps the Principal as request.user by default, and records it', async () => {
    const res = await get('/p/default').set('Authorization', `Bearer ${token()}`).expect(200);
    expect(res.body).toMatchObject({
      user: { subject: 'alice', tenant: 'seller-a' },
      principal: 'alice',
    });
  });

  it.each([
    {
      case: 'no token',
      headers: {},
      reason: 'missing_token',
      message: 'no access token in the request',
    },
    {
      case: 'an expired token',
      headers: { authorization: `Bearer ${expired()}` },
      reason: 'expired',
      message: 'token rejected: expired',
    },
    {
      case: 'a token of another key',
      headers: { authorization: `Bearer ${validToken(makeKey('EdDSA', key.kid), now())}` },
      reason: 'bad_signature',
      message: 'token rejected: bad_signature',
    },
    {
      case: 'another audience',
      headers: { authorization: `Bearer ${token({ aud: 'billing-api' })}` },
      reason: 'audience_mismatch',
      message: 'token rejected: audience_mismatch',
    },
  ])(
    "gives $case to handleRequest as a failure's info: reason $reason",
    async ({ headers, reason, message }) => {
      const res = await get('/p/recorded').set(headers).expect(401);
      expect(res.body).toEqual({
        error: null,
        info: { isError: true, name: expect.any(String), message, reason },
        status: 401,
      });
    },
  );

  it("gives a revoked token to handleRequest as a failure's info: reason revoked", async () => {
    const revoked = token({ jti: 'revoked-1' });
    await app.get(RevocationStore).revokeToken('revoked-1', now() + 300);
    const res = await get('/p/recorded').set('Authorization', `Bearer ${revoked}`).expect(401);
    expect(res.body.info).toMatchObject({ isError: true, reason: 'revoked' });
    const chained = await get('/p/alice-or-key')
      .set({ authorization: `Bearer ${revoked}`, ...API_KEY })
      .expect(200);
    expect(chained.body).toEqual({ user: { client: 'reports-job' }, principal: null });
  });

  it('gives validate the payload and the principal', async () => {
    const res = await get('/p/payload').set('Authorization', `Bearer ${token()}`).expect(200);
    expect(res.body).toEqual({ sub: 'alice', subject: 'alice', tenant: 'seller-a' });
  });

  it('gives an async validate the request first with passReqToCallback', async () => {
    const res = await get('/p/request?page=2')
      .set('Authorization', `Bearer ${token()}`)
      .expect(200);
    expect(res.body).toEqual({ url: '/p/request?page=2', sub: 'alice', subject: 'alice' });
  });

  it('refuses what validate refuses, and a chain goes on without its principal', async () => {
    const mallory = token({ sub: 'mallory' });
    const refused = await get('/p/alice-or-key')
      .set('Authorization', `Bearer ${mallory}`)
      .expect(401);
    expect(refused.headers['www-authenticate']).toBeUndefined();
    const res = await get('/p/alice-or-key')
      .set({ authorization: `Bearer ${mallory}`, ...API_KEY })
      .expect(200);
    // The refused principal is not the request's: no @CurrentPrincipal(), @Tenant() or scope on it.
    expect(res.body).toEqual({ user: { client: 'reports-job' }, principal: null });
    const alice = await get('/p/alice-or-key')
      .set('Authorization', `Bearer ${token()}`)
      .expect(200);
    expect(alice.body).toMatchObject({ user: { sub: 'alice' }, principal: 'alice' });
  });

  it('passes what validate throws to handleRequest as an error, not a failure', async () => {
    await get('/p/throws').set('Authorization', `Bearer ${token()}`).expect(500);
  });

  it('reads the token where jwtFromRequest finds it', async () => {
    await get('/p/cookie').set('Cookie', `access_token=${token()}`).expect(200);
    await get('/p/cookie').set('Authorization', `Bearer ${token()}`).expect(401);
  });

  it('refuses a token in the query string with 400, whatever the extractor and the chain', async () => {
    const res = await get(`/p/cookie-or-key?access_token=${token()}`)
      .set({ cookie: `access_token=${token()}`, ...API_KEY })
      .expect(400);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_request"');
    // The forbidden name, whatever it holds, before any extractor runs.
    await get('/p/cookie?access_token=x').set('Cookie', `access_token=${token()}`).expect(400);
    // Any other name the extractor reads the token from.
    await get(`/p/query?token=${token()}`).expect(400);
    await get(`/p/query?token=${encodeURIComponent(token())}&other=1`).expect(400);
  });

  it('refuses the token anywhere in a query value, whatever prefix the extractor strips', async () => {
    const res = await get(`/p/prefixed?auth=Bearer%20${token()}`).expect(400);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_request"');
    await get(`/p/prefixed?x=1&auth=Bearer+${token()}`).expect(400);
  });

  it('applies the size limit to what the extractor finds', async () => {
    rejected.length = 0;
    const oversized = token({ padding: 'x'.repeat(9000) });
    const res = await get('/p/cookie').set('Cookie', `access_token=${oversized}`).expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(rejected).toEqual(['oversized']);
  });

  it('refuses as malformed a request its extractor throws on, and a chain goes on', async () => {
    rejected.length = 0;
    const res = await get('/p/json').set('X-Credentials', '{not json').expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(rejected).toEqual(['malformed']);
    const chained = await get('/p/json')
      .set({ 'x-credentials': '{not json', ...API_KEY })
      .expect(200);
    expect(chained.body).toEqual({ client: 'reports-job' });
    const ok = await get('/p/json')
      .set('X-Credentials', JSON.stringify({ token: token() }))
      .expect(200);
    expect(ok.body).toMatchObject({ sub: 'alice' });
  });

  it('gives validate a payload of its own to change, every time', async () => {
    const withPrefs = token({ prefs: { visits: 0 } });
    for (let i = 0; i < 2; i++) {
      const res = await get('/p/mutates').set('Authorization', `Bearer ${withPrefs}`).expect(200);
      expect(res.body).toMatchObject({ sub: 'alice', userId: 'alice', prefs: { visits: 1 } });
    }
  });

  it("leaves the application's own UnauthorizedException to Nest", async () => {
    const res = await get('/p/plain').expect(401);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.body).toEqual({ statusCode: 401, message: 'Unauthorized' });
  });
});

@Catch(UnauthorizedException)
class TeapotFilter implements ExceptionFilter {
  catch(_error: unknown, host: ArgumentsHost) {
    const response = host.switchToHttp().getResponse<{
      status?: (code: number) => { send: (b: unknown) => void };
      code?: (code: number) => { send: (b: unknown) => void };
    }>();
    (response.code ?? response.status)!.call(response, 418).send({ mine: true });
  }
}

@Controller('plain')
class PlainController {
  @Get()
  plain() {
    throw new UnauthorizedException();
  }
}

describe.each(ADAPTERS)('an application without the strategies on %s', (adapter) => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await createHttpApp(adapter, {
      imports: [
        AuthModule.forRoot({
          issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }],
          audience: AUDIENCE,
          globalGuard: false,
        }),
      ],
      controllers: [PlainController],
      providers: [{ provide: APP_FILTER, useClass: TeapotFilter }],
    });
  });
  afterAll(() => app.close());

  it('keeps its own filter for UnauthorizedException', async () => {
    const res = await request(app.getHttpServer()).get('/plain').expect(418);
    expect(res.body).toEqual({ mine: true });
  });
});

@Controller('dpop')
class DpopRequiredController {
  @UseGuards(AuthGuard('jwt-cookie'))
  @Get('cookie')
  cookie(@Req() req: Req) {
    return req.user;
  }
}

describe.each(ADAPTERS)('the Passport bridge with DPoP required on %s', (adapter) => {
  let app: INestApplication;
  const rejected: string[] = [];
  const issuerWide = (required: true | readonly string[]) =>
    createHttpApp(adapter, {
      imports: [
        AuthModule.forRoot({
          issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }],
          audience: AUDIENCE,
          globalGuard: false,
          dpop: { required },
          events: { requestRejected: ({ error }) => void rejected.push(error.reason) },
        }),
      ],
      controllers: [DpopRequiredController],
      providers: [CookieStrategy],
    });

  it.each([{ required: true as const }, { required: [ISSUER] }])(
    'refuses an unbound token its own extractor finds (required: $required), as the bearer guard would',
    async ({ required }) => {
      app = await issuerWide(required);
      try {
        rejected.length = 0;
        const res = await request(app.getHttpServer())
          .get('/dpop/cookie')
          .set('Cookie', `access_token=${token()}`);
        expect(res.status).toBe(401);
        expect(rejected).toEqual(['dpop_required']);
        // A bound token found there is refused as ever: no proof travels with it.
        const bound = await request(app.getHttpServer())
          .get('/dpop/cookie')
          .set('Cookie', `access_token=${token({ cnf: { jkt: 'A'.repeat(43) } })}`);
        expect(bound.status).toBe(401);
        expect(rejected.at(-1)).toBe('dpop_bound_as_bearer');
      } finally {
        await app.close();
      }
    },
  );
});
