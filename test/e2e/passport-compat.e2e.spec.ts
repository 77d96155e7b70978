import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type INestApplication, Req, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import request from 'supertest';
import { AuthModule, type Principal } from 'nest-tessera';
import { JwtPassportStrategy } from 'nest-tessera/passport';
import { TestIssuer } from 'nest-tessera/testing';
import { AUDIENCE } from '../support/forged-tokens.js';
import { ADAPTERS, createHttpApp } from '../support/http-app.js';

@Controller('legacy')
@UseGuards(AuthGuard('jwt'))
class LegacyController {
  @Get('me')
  me(@Req() req: { user: Principal }) {
    return { subject: req.user.subject, tenant: req.user.tenant };
  }
}

const issuer = TestIssuer.create({ audience: AUDIENCE, alg: 'EdDSA' });
/** Another key under the trusted issuer's name. */
const impostor = TestIssuer.create({ audience: AUDIENCE, alg: 'EdDSA' });

describe.each(ADAPTERS)('AuthGuard("jwt") from @nestjs/passport on %s', (adapter) => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await createHttpApp(adapter, {
      imports: [
        AuthModule.forRoot({
          issuers: [issuer.trusted],
          audience: AUDIENCE,
          globalGuard: false,
        }),
      ],
      controllers: [LegacyController],
      providers: [JwtPassportStrategy],
    });
  });
  afterAll(() => app.close());

  it('authenticates an EdDSA token with the same verifier', async () => {
    await request(app.getHttpServer())
      .get('/legacy/me')
      .set('Authorization', `Bearer ${issuer.token({ sub: 'alice', tid: 'seller-a' })}`)
      .expect(200, { subject: 'alice', tenant: 'seller-a' });
  });

  it('answers a forged token with the same RFC 6750 answer as the bearer guard', async () => {
    const res = await request(app.getHttpServer())
      .get('/legacy/me')
      .set('Authorization', `Bearer ${impostor.token({}, { header: { kid: issuer.kid } })}`)
      .expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('answers a missing token with 401 Bearer', async () => {
    const res = await request(app.getHttpServer()).get('/legacy/me').expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });
});
