import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import {
  AuthModule,
  CurrentPrincipal,
  Scopes,
  type AuthModuleRootOptions,
  type Principal,
  type TrustedIssuerOptions,
} from 'nest-tessera';
import { TestIssuer, type TestClaims } from 'nest-tessera/testing';
import { createHttpApp } from '../support/http-app.js';

// Each provider page's configuration, run as it is printed: the page's `AuthModule.forRoot({…})`
// block is evaluated, its issuer's JWKS URL swapped for a local issuer minting tokens shaped as
// that provider emits them (header and claims, from nest-tessera/testing) under the page's `iss`
// and audience. The provider's own way of granting a permission must pass `@Scopes()`, the
// same token without it must not, and its ID token and a token for another API are refused.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The options a page's first TypeScript block hands `AuthModule.forRoot`, evaluated. */
function recipeOf(page: string): AuthModuleRootOptions {
  const markdown = readFileSync(join(ROOT, 'docs/providers', page), 'utf8');
  const block = /^```ts\n([\s\S]*?)^```$/m.exec(markdown);
  if (block === null) throw new Error(`${page} has no TypeScript block`);
  let options: AuthModuleRootOptions | undefined;
  const forRoot = (given: AuthModuleRootOptions) => (options = given);
  new Function('AuthModule', block[1]!)({ forRoot });
  if (options === undefined) throw new Error(`${page}'s block calls no AuthModule.forRoot`);
  return options;
}

const PROVIDERS: readonly {
  page: string;
  profile: 'keycloak' | 'auth0' | 'entra' | 'cognito' | 'okta';
  /** How that provider grants `orders:read` in its access tokens. */
  granted: TestClaims;
  /** The same token's claims without it. */
  withheld: TestClaims;
}[] = [
  {
    page: 'keycloak.md',
    profile: 'keycloak',
    granted: { realm_access: { roles: ['orders:read'] } },
    withheld: { realm_access: { roles: ['offline_access'] } },
  },
  {
    page: 'auth0.md',
    profile: 'auth0',
    granted: { permissions: ['orders:read'] },
    withheld: { permissions: [] },
  },
  {
    page: 'entra-id.md',
    profile: 'entra',
    granted: { scp: 'orders:read' },
    withheld: { scp: 'User.Read' },
  },
  {
    page: 'cognito.md',
    profile: 'cognito',
    granted: { scope: 'orders:read' },
    withheld: { scope: 'aws.cognito.signin.user.admin' },
  },
  {
    page: 'okta.md',
    profile: 'okta',
    granted: { scp: ['orders:read'] },
    withheld: { scp: ['openid'] },
  },
];

@Controller('orders')
class OrdersController {
  @Scopes('orders:read')
  @Get()
  list(@CurrentPrincipal() principal: Principal) {
    return { subject: principal.subject };
  }
}

describe.each(PROVIDERS)(
  'docs/providers/$page as printed',
  ({ page, profile, granted, withheld }) => {
    const recipe = recipeOf(page);
    const entry = recipe.issuers[0] as TrustedIssuerOptions;
    const audience = entry.audience ?? recipe.audience;
    const issuer = TestIssuer.create({ profile, issuer: entry.issuer, audience });
    let app: INestApplication;

    beforeAll(async () => {
      const { jwksUri, ...rest } = entry;
      expect(jwksUri).toMatch(/^https:\/\//);
      const issuers = [{ ...rest, keys: issuer.jwks().keys }];
      app = await createHttpApp('express', {
        imports: [AuthModule.forRoot({ ...recipe, issuers })],
        controllers: [OrdersController],
      });
    });
    afterAll(() => app?.close());

    const get = (token: string) =>
      request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`);

    it(`names the ${profile} profile`, () => {
      expect(entry.profile).toBe(profile);
    });

    it("accepts the provider's access token granting the scope", async () => {
      await get(issuer.token(granted)).expect(200);
    });

    it('answers the same token without the grant 403 insufficient_scope', async () => {
      const res = await get(issuer.token(withheld)).expect(403);
      expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
    });

    it("refuses the provider's ID token, whatever it grants", async () => {
      await get(issuer.idToken(granted)).expect(401);
    });

    it('refuses an access token for another API (Cognito: another app client)', async () => {
      const elsewhere =
        profile === 'cognito' ? { client_id: 'another-client' } : { aud: 'another-api' };
      const res = await get(issuer.token({ ...granted, ...elsewhere })).expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });
  },
);
