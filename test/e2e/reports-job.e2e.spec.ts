import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { InsufficientScopeError, MissingTokenError, runAs } from 'nest-tessera';
import { KeyRing } from 'nest-tessera/issuer';
import { TokenVerifier } from '../../lib/verify/token-verifier.js';
import { createAuthApp } from '../../sample-app/auth/auth-app.js';
import { loadConfig } from '../../sample-app/config.js';
import { createOrdersApp } from '../../sample-app/orders/orders-app.js';
import { OrdersService } from '../../sample-app/orders/orders.service.js';
import { ReportsJob } from '../../sample-app/orders/reports.job.js';
import { quiet } from '../support/sample-testing.js';

const ISSUER = 'https://auth.sample.test';

describe('the orders domain service and the report job', () => {
  let auth: INestApplication;
  let orders: INestApplication;
  let authUrl: string;

  beforeAll(async () => {
    auth = await createAuthApp(loadConfig({ AUTH_ISSUER: ISSUER }), {
      adapter: 'express',
      logger: quiet,
      keyRing: KeyRing.ephemeral('EdDSA'),
    });
    await auth.listen(0, '127.0.0.1');
    authUrl = await auth.getUrl();
    const config = loadConfig({
      AUTH_ISSUER: ISSUER,
      ORDERS_JWKS_URLS: `${authUrl}/.well-known/jwks.json`,
      REPORTS_TOKEN_URL: `${authUrl}/auth/token`,
      REPORTS_CLIENT_SECRET: 'reports-job-secret',
      REPORTS_INTERVAL: '3600',
    });
    orders = await createOrdersApp(config, { adapter: 'express', logger: quiet });
    await orders.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await orders?.close();
    await auth?.close();
  });

  const tokenOf = async (username: string) =>
    (
      await request(authUrl)
        .post('/auth/login')
        .send({ username, password: `${username}-password` })
        .expect(200)
    ).body.access_token as string;

  it('runs the report as the reports-job client, with the token the issuer gave it', async () => {
    await request(await orders.getUrl())
      .post('/orders')
      .set('Authorization', `Bearer ${await tokenOf('alice')}`)
      .send({ item: 'lamp', qty: 1 })
      .expect(201);
    await expect(orders.get(ReportsJob).report()).resolves.toEqual({
      tenant: 'seller-a',
      orders: 1,
    });
  });

  it('holds direct calls into the domain service to the same rules as HTTP', async () => {
    const service = orders.get(OrdersService);
    const verifier = orders.get(TokenVerifier);
    const alice = await verifier.verify(await tokenOf('alice'));
    const carol = await verifier.verify(await tokenOf('carol'));
    expect(() => service.list('seller-a')).toThrow(MissingTokenError);
    expect(() => runAs(alice, () => service.list('seller-b'))).toThrow(InsufficientScopeError);
    expect(() => runAs(carol, () => service.delete('seller-a', 'x'))).toThrow(
      InsufficientScopeError,
    );
    expect(runAs(alice, () => service.list('seller-a'))).toHaveLength(1);
  });
});
