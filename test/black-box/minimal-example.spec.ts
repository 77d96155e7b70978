import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestIssuer } from 'nest-tessera/testing';
import { JwksServer } from '../support/jwks-server.js';
import { ensureBuild, freePort, MINIMAL_EXAMPLE_MAIN, ROOT } from './built-app.js';
import { Service } from './service-process.js';

// examples/minimal, built by `npm run build` and run as a user would run it, against a JWKS the
// test serves for an issuer of nest-tessera/testing.

describe('examples/minimal (built, run as a process)', () => {
  const issuer = TestIssuer.create({ issuer: 'https://issuer.example', audience: 'orders-api' });
  const stranger = TestIssuer.create({ issuer: 'https://issuer.example', audience: 'orders-api' });
  let jwks: JwksServer;
  let service: Service;

  beforeAll(async () => {
    ensureBuild();
    jwks = await new JwksServer().start();
    jwks.keys = [...issuer.jwks().keys];
    const port = await freePort();
    service = new Service(
      'minimal',
      `http://127.0.0.1:${port}`,
      MINIMAL_EXAMPLE_MAIN,
      {
        ISSUER: issuer.issuer,
        JWKS_URI: jwks.uri,
        AUDIENCE: 'orders-api',
        PORT: String(port),
      },
      ROOT,
    );
    await service.ready();
  }, 120_000);

  afterAll(async () => {
    await service?.kill();
    await jwks?.stop();
  });

  const get = (path: string, token?: string) =>
    fetch(`${service.url}${path}`, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });

  it('answers a token with the scope with its subject', async () => {
    const response = await get('/orders', issuer.token({ sub: 'alice', scope: 'orders:read' }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ owner: 'alice', orders: [] });
  });

  it.each([
    { case: 'no token', token: undefined, status: 401, challenge: /^Bearer$/ },
    {
      case: 'a token without the scope',
      token: issuer.token({ scope: 'orders:write' }),
      status: 403,
      challenge: /error="insufficient_scope", scope="orders:read"/,
    },
    {
      case: 'a token signed by another key',
      token: stranger.token({ scope: 'orders:read' }),
      status: 401,
      challenge: /error="invalid_token"/,
    },
    {
      case: 'an expired token',
      token: issuer.token({ scope: 'orders:read' }, { expiresIn: -60 }),
      status: 401,
      challenge: /error="invalid_token"/,
    },
    {
      case: 'a token for another audience',
      token: issuer.token({ scope: 'orders:read', aud: 'billing-api' }),
      status: 401,
      challenge: /error="invalid_token"/,
    },
  ])('refuses $case with $status and WWW-Authenticate', async ({ token, status, challenge }) => {
    const response = await get('/orders', token);
    expect(response.status).toBe(status);
    expect(response.headers.get('www-authenticate')).toMatch(challenge);
  });
});
