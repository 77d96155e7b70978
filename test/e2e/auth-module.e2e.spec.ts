import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Injectable, Module, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  AuthConfigError,
  AuthModule,
  BearerGuard,
  Scopes,
  type AuthModuleOptions,
} from 'nest-tessera';
import { AUDIENCE, ISSUER } from '../support/forged-tokens.js';
import { createHttpApp } from '../support/http-app.js';
import { makeKey, validToken } from '../support/keys.js';

const key = makeKey('ES256');

@Injectable()
class SettingsService {
  readonly audience = AUDIENCE;
}

@Module({ providers: [SettingsService], exports: [SettingsService] })
class SettingsModule {}

@Controller()
class PingController {
  @Scopes('ping')
  @Get('ping')
  ping() {
    return 'pong';
  }
}

@Controller()
class GuardedPerRouteController {
  @Get('open')
  open() {
    return 'open';
  }

  @UseGuards(BearerGuard)
  @Scopes('ping')
  @Get('guarded')
  guarded() {
    return 'guarded';
  }
}

describe('AuthModule', () => {
  it('with globalGuard off, guards only the routes that ask with @UseGuards(BearerGuard)', async () => {
    const app = await createHttpApp('express', {
      imports: [
        AuthModule.forRoot({
          issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }],
          audience: AUDIENCE,
          globalGuard: false,
        }),
      ],
      controllers: [GuardedPerRouteController],
    });
    const token = validToken(key, Math.floor(Date.now() / 1000), { scope: 'ping' });
    await request(app.getHttpServer()).get('/open').expect(200);
    await request(app.getHttpServer()).get('/guarded').expect(401);
    await request(app.getHttpServer())
      .get('/guarded')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    await app.close();
  });

  it('forRootAsync builds its options from injected providers', async () => {
    const app = await createHttpApp('express', {
      imports: [
        AuthModule.forRootAsync({
          imports: [SettingsModule],
          inject: [SettingsService],
          useFactory: (settings: SettingsService): AuthModuleOptions => ({
            issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }],
            audience: settings.audience,
          }),
        }),
      ],
      controllers: [PingController],
    });
    const token = validToken(key, Math.floor(Date.now() / 1000), { scope: 'ping' });
    await request(app.getHttpServer())
      .get('/ping')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    await request(app.getHttpServer()).get('/ping').expect(401);
    await app.close();
  });

  it.each([
    ['no issuers', { issuers: [], audience: AUDIENCE }, /at least one is required/],
    [
      'no audience',
      { issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }], audience: [] },
      /audience/,
    ],
    [
      'both a JWKS URL and keys',
      {
        issuers: [{ issuer: ISSUER, keys: [key.publicJwk], jwksUri: 'https://x.test/jwks' }],
        audience: AUDIENCE,
      },
      /exactly one of jwksUri, keys and keySource/,
    ],
    [
      'a JWKS URL that is not http(s)',
      { issuers: [{ issuer: ISSUER, jwksUri: 'file:///etc/passwd' }], audience: AUDIENCE },
      /http\(s\)/,
    ],
    [
      'an HMAC algorithm',
      {
        issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }],
        audience: AUDIENCE,
        algorithms: ['HS256'],
      },
      /HS256/,
    ],
    [
      'a negative clock tolerance',
      {
        issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }],
        audience: AUDIENCE,
        clockToleranceSeconds: -1,
      },
      /clockToleranceSeconds/,
    ],
    [
      'a static key without kid',
      {
        issuers: [{ issuer: ISSUER, keys: [{ ...key.publicJwk, kid: undefined }] }],
        audience: AUDIENCE,
      },
      /without kid/,
    ],
    [
      'a symmetric static key',
      {
        issuers: [{ issuer: ISSUER, keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'h' }] }],
        audience: AUDIENCE,
      },
      /unsupported kty/,
    ],
    [
      'a Redis URL where a RedisBackend goes',
      {
        issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }],
        audience: AUDIENCE,
        redis: 'redis://127.0.0.1:6379',
      },
      /redis must be a RedisBackend: redis\(connection\) from 'nest-tessera\/redis'/,
    ],
    [
      "revocation.redis (now the module's redis option)",
      {
        issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }],
        audience: AUDIENCE,
        revocation: { redis: 'redis://127.0.0.1:6379' },
      },
      /revocation\.redis was replaced by the module's redis option/,
    ],
    [
      "throttle.redis (now the module's redis option)",
      {
        issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }],
        audience: AUDIENCE,
        throttle: { limit: 1, ttlSeconds: 1, redis: 'redis://127.0.0.1:6379' },
      },
      /throttle\.redis was replaced by the module's redis option/,
    ],
  ])('stops start-up with a clear AuthConfigError for %s', async (_name, options, message) => {
    const boot = Test.createTestingModule({
      imports: [AuthModule.forRoot(options as unknown as AuthModuleOptions)],
    }).compile();
    await expect(boot).rejects.toThrow(AuthConfigError);
    await expect(
      Test.createTestingModule({
        imports: [AuthModule.forRoot(options as unknown as AuthModuleOptions)],
      }).compile(),
    ).rejects.toThrow(message);
  });
});
