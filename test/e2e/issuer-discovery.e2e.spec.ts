import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import {
  AuthModule,
  CurrentPrincipal,
  type AuthError,
  type IssuerDiscoveryEvent,
  type Principal,
} from 'nest-tessera';
import { AUDIENCE } from '../support/forged-tokens.js';
import { ADAPTERS, createHttpApp } from '../support/http-app.js';
import { IssuerServer, RFC8414_PATH } from '../support/issuer-server.js';
import { makeKey, validToken } from '../support/keys.js';
import { settlesWithin } from '../support/settles-within.js';

@Controller()
class ItemsController {
  @Get('items')
  list(@CurrentPrincipal() principal: Principal) {
    return { subject: principal.subject, issuer: principal.issuer };
  }
}

const key = makeKey('EdDSA');

describe.each(ADAPTERS)('an issuer configured for discovery, on %s', (adapter) => {
  let app: INestApplication;
  let issuer: IssuerServer;
  const rejections: AuthError[] = [];
  const discoveries: IssuerDiscoveryEvent[] = [];

  beforeAll(async () => {
    issuer = await new IssuerServer().start();
    issuer.keys = [key.publicJwk];
    // Only the RFC 8414 location: the OpenID Connect one answers 404.
    issuer.routes.set(RFC8414_PATH, issuer.metadata());
    // Down when the application starts.
    await issuer.stop();
    app = await createHttpApp(adapter, {
      imports: [
        AuthModule.forRoot({
          issuers: [{ issuer: issuer.issuer, discovery: true }],
          audience: AUDIENCE,
          // Longer than the test: a token never makes it read the metadata again, the
          // background retry must.
          jwks: { cooldownSeconds: 3600 },
          events: {
            requestRejected: ({ error }) => rejections.push(error),
            issuerDiscovered: (event) => discoveries.push(event),
          },
        }),
      ],
      controllers: [ItemsController],
    });
  });
  afterAll(async () => {
    await app.close();
    await issuer.stop();
  });

  it('starts while the issuer is down, refuses its tokens with 401, and verifies the same token once it is up', async () => {
    const token = validToken(key, Date.now() / 1000, { iss: issuer.issuer });
    const refused = await request(app.getHttpServer())
      .get('/items')
      .set('Authorization', `Bearer ${token}`)
      .expect(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(rejections.at(-1)).toMatchObject({ reason: 'keys_unavailable' });
    await settlesWithin(
      until(() => discoveries.length > 0),
      5_000,
    );
    expect(discoveries[0]).toMatchObject({ ok: false, cause: 'start', issuer: issuer.issuer });

    await issuer.restart();
    await settlesWithin(
      until(() => discoveries.some((d) => d.ok)),
      20_000,
    );
    expect(discoveries.at(-1)).toMatchObject({ ok: true, cause: 'retry', jwksUri: issuer.jwksUri });
    const res = await request(app.getHttpServer())
      .get('/items')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(res.body).toEqual({ subject: 'alice', issuer: issuer.issuer });
  }, 30_000);
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}
