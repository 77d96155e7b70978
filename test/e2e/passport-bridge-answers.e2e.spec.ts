import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type ArgumentsHost,
  Catch,
  Controller,
  type ExceptionFilter,
  Get,
  type INestApplication,
  Injectable,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { APP_FILTER, ExternalContextCreator, ModuleRef } from '@nestjs/core';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import { ExtractJwt } from 'passport-jwt';
import { lastValueFrom, type Observable } from 'rxjs';
import request from 'supertest';
import { type AccessTokenClaims, AuthConfigError, AuthModule, Scopes } from 'nest-tessera';
import { JwtPassportStrategy, TesseraJwtStrategy } from 'nest-tessera/passport';
import { cookieToken } from '../../examples/migration/routes.js';
import { AUDIENCE, ISSUER } from '../support/forged-tokens.js';
import { ADAPTERS, createHttpApp } from '../support/http-app.js';
import { makeKey, validToken } from '../support/keys.js';

// Which answers the strategies of nest-tessera/passport give, and which they leave to the
// application: only AuthGuard()'s refusal of a request one of them refused gets the RFC 6750
// answer; any other UnauthorizedException keeps the application's filter or Nest's answer.

const key = makeKey('EdDSA');
const now = () => Math.floor(Date.now() / 1000);
const token = (claims: Record<string, unknown> = {}) => validToken(key, now(), claims);
const expired = () => token({ iat: now() - 900, exp: now() - 600 });
const moduleOptions = (globalGuard: boolean, rejected: string[]) =>
  AuthModule.forRoot({
    issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }],
    audience: AUDIENCE,
    globalGuard,
    events: { requestRejected: ({ error }) => void rejected.push(error.reason) },
  });

/** A catch-all filter of the application's own, as an error reporter's (Sentry's) is. */
@Catch()
class CatchAllFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost) {
    const response = host.switchToHttp().getResponse<{
      status?: (code: number) => { send: (b: unknown) => void };
      code?: (code: number) => { send: (b: unknown) => void };
    }>();
    const message = error instanceof Error ? error.message : 'unknown';
    (response.code ?? response.status)!.call(response, 418).send({ mine: message });
  }
}

/** A strategy Nest builds from a factory: its class is not the provider's metatype. */
@Injectable()
class FactoryStrategy extends PassportStrategy(TesseraJwtStrategy, 'jwt-factory') {
  validate(payload: AccessTokenClaims) {
    return payload;
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

@Controller('a')
class AnswersController {
  @UseGuards(AuthGuard('jwt'))
  @Get('guarded')
  guarded() {
    return {};
  }

  @UseGuards(AuthGuard('jwt'))
  @Get('guarded-throws')
  guardedThrows() {
    throw new UnauthorizedException();
  }

  @Get('login')
  login() {
    throw new UnauthorizedException();
  }

  @UseGuards(AuthGuard('jwt-factory'))
  @Get('factory')
  factory() {
    return {};
  }
}

describe.each(ADAPTERS)('the answers of the Passport strategies on %s', (adapter) => {
  let app: INestApplication;
  let withFilter: INestApplication;
  const rejected: string[] = [];
  beforeAll(async () => {
    const metadata = {
      imports: [moduleOptions(false, rejected)],
      controllers: [AnswersController],
      providers: [JwtPassportStrategy],
    };
    app = await createHttpApp(adapter, metadata);
    withFilter = await createHttpApp(adapter, {
      ...metadata,
      providers: [...metadata.providers, { provide: APP_FILTER, useClass: CatchAllFilter }],
    });
  });
  afterAll(async () => {
    await app.close();
    await withFilter.close();
  });

  it("leaves a handler's own UnauthorizedException behind a passing guard to Nest", async () => {
    rejected.length = 0;
    const res = await request(app.getHttpServer())
      .get('/a/guarded-throws')
      .set('Authorization', `Bearer ${token()}`)
      .expect(401);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.body).toEqual({ statusCode: 401, message: 'Unauthorized' });
    expect(rejected).toEqual([]);
  });

  it("leaves a login route's UnauthorizedException to Nest, uncounted", async () => {
    rejected.length = 0;
    const res = await request(app.getHttpServer()).get('/a/login').expect(401);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(rejected).toEqual([]);
  });

  it("leaves every UnauthorizedException but the strategy's refusal to the app's catch-all filter", async () => {
    rejected.length = 0;
    const server = withFilter.getHttpServer();
    await request(server).get('/a/login').expect(418, { mine: 'Unauthorized' });
    await request(server)
      .get('/a/guarded-throws')
      .set('Authorization', `Bearer ${token()}`)
      .expect(418, { mine: 'Unauthorized' });
    expect(rejected).toEqual([]);
    const refused = await request(server)
      .get('/a/guarded')
      .set('Authorization', `Bearer ${expired()}`)
      .expect(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(rejected).toEqual(['expired']);
  });

  it('answers the refusal of a strategy registered through a factory per RFC 6750', async () => {
    const factoryOnly = await createHttpApp(adapter, {
      imports: [moduleOptions(false, [])],
      controllers: [AnswersController],
      providers: [
        {
          provide: 'FACTORY_STRATEGY',
          useFactory: (moduleRef: ModuleRef) => moduleRef.create(FactoryStrategy),
          inject: [ModuleRef],
        },
      ],
    });
    try {
      const res = await request(factoryOnly.getHttpServer())
        .get('/a/factory')
        .set('Authorization', `Bearer ${expired()}`)
        .expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    } finally {
      await factoryOnly.close();
    }
  });
});

@Injectable()
class MeResolver {
  me(): never {
    throw new UnauthorizedException();
  }
}

describe('the strategies in an application with resolvers and message handlers', () => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await createHttpApp('express', {
      imports: [moduleOptions(false, [])],
      providers: [JwtPassportStrategy, MeResolver],
    });
  });
  afterAll(() => app.close());

  it("gives a resolver's UnauthorizedException back to GraphQL, untouched", async () => {
    const resolver = app.get(MeResolver);
    const call = app
      .get(ExternalContextCreator)
      .create(
        resolver,
        resolver.me,
        'me',
        undefined,
        undefined,
        undefined,
        undefined,
        { guards: false, interceptors: false, filters: true },
        'graphql',
      );
    const thrown = await call({}, {}, {}, {}).catch((error: unknown) => error);
    expect(thrown).toBeInstanceOf(UnauthorizedException);
  });

  it("answers a message handler's UnauthorizedException as Nest's RPC filter does", async () => {
    const resolver = app.get(MeResolver);
    const call = app
      .get(ExternalContextCreator)
      .create(
        resolver,
        resolver.me,
        'me',
        undefined,
        undefined,
        undefined,
        undefined,
        { guards: false, interceptors: false, filters: true },
        'rpc',
      );
    const answer = (await call({}, {})) as Observable<unknown>;
    await expect(lastValueFrom(answer)).rejects.toEqual({
      status: 'error',
      message: 'Internal server error',
    });
  });
});

@Controller('orders')
class OrdersController {
  @Scopes('orders:delete')
  @UseGuards(AuthGuard('jwt-cookie'))
  @Get('delete')
  remove(@Req() req: { user: AccessTokenClaims }) {
    return { sub: req.user.sub };
  }
}

describe.each(ADAPTERS)('a cookie strategy behind the global guard on %s', (adapter) => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await createHttpApp(adapter, {
      imports: [moduleOptions(true, [])],
      controllers: [OrdersController],
      providers: [CookieStrategy],
    });
  });
  afterAll(() => app.close());

  const alice = token({ scope: 'orders:read orders:delete' });

  it('refuses a second token that would replace the principal the scopes were checked on', async () => {
    const bob = token({ sub: 'bob', tid: 'seller-b', scope: 'orders:read' });
    const res = await request(app.getHttpServer())
      .get('/orders/delete')
      .set({ authorization: `Bearer ${alice}`, cookie: `access_token=${bob}` })
      .expect(400);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_request"');
  });

  it('accepts the same token in both places', async () => {
    const res = await request(app.getHttpServer())
      .get('/orders/delete')
      .set({ authorization: `Bearer ${alice}`, cookie: `access_token=${alice}` })
      .expect(200);
    expect(res.body).toEqual({ sub: 'alice' });
  });
});

describe('a strategy built outside Nest', () => {
  it('stops start-up rather than fail every request', async () => {
    const started = createHttpApp('express', {
      imports: [moduleOptions(false, [])],
      controllers: [AnswersController],
      providers: [{ provide: 'FACTORY_STRATEGY', useFactory: () => new FactoryStrategy() }],
    });
    await expect(started).rejects.toThrow(AuthConfigError);
  });
});
