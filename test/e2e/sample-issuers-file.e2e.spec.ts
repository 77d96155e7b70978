import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { KeyRing } from 'nest-tessera/issuer';
import { createAuthApp } from '../../sample-app/auth/auth-app.js';
import { loadConfig } from '../../sample-app/config.js';
import { createOrdersApp } from '../../sample-app/orders/orders-app.js';
import { freePort } from '../support/redis-process.js';
import { CapturingLogger, quiet } from '../support/sample-testing.js';

// ORDERS_ISSUERS_FILE naming the sample's own auth service with discovery: true, in-process. The
// auth service publishes RFC 8414 metadata only, so orders finds it after a 404 on the OpenID
// Connect location, and verifies the auth service's tokens with the keys its jwks_uri names.

describe.each(['express', 'fastify'] as const)(
  'the sample orders service discovering the auth service, on %s',
  (adapter) => {
    const apps: INestApplication[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'tessera-sample-issuers-'));
    const log = new CapturingLogger();
    let auth = '';
    let orders = '';

    beforeAll(async () => {
      const port = await freePort();
      const issuer = `http://127.0.0.1:${port}`;
      const file = join(dir, 'issuers.json');
      writeFileSync(
        file,
        // With a profile and its overrides, as the library takes them per issuer.
        JSON.stringify([
          {
            issuer,
            discovery: true,
            profile: 'generic',
            audience: ['orders-api'],
            scope_claims: ['scope'],
            tenant_claim: 'tid',
          },
        ]),
      );
      const env = { AUTH_ISSUER: issuer, ORDERS_ISSUERS_FILE: file, THROTTLE_LIMIT: '0' };
      const authApp = await createAuthApp(loadConfig(env), {
        adapter,
        logger: quiet,
        keyRing: KeyRing.ephemeral('ES256'),
      });
      apps.push(authApp);
      await authApp.listen(port, '127.0.0.1');
      auth = await authApp.getUrl();
      const ordersApp = await createOrdersApp(loadConfig(env), { adapter, logger: log });
      apps.push(ordersApp);
      await ordersApp.listen(0, '127.0.0.1');
      orders = await ordersApp.getUrl();
    });
    afterAll(async () => {
      for (const app of apps.reverse()) await app.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    });

    it("verifies the auth service's tokens with the keys its metadata names", async () => {
      const login = await request(auth)
        .post('/auth/login')
        .send({ username: 'alice', password: 'alice-password' })
        .expect(200);
      const token = (login.body as { access_token: string }).access_token;
      await request(orders).get('/orders').set('Authorization', `Bearer ${token}`).expect(200);
      expect(log.events('issuer_discovery')).toContainEqual(
        expect.objectContaining({
          ok: true,
          metadataUri: `${auth}/.well-known/oauth-authorization-server`,
          jwksUri: `${auth}/.well-known/jwks.json`,
        }),
      );
      await request(orders).get('/health').expect(200);
    });
  },
);
