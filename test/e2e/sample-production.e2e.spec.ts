import { describe, expect, it } from '@jest/globals';
import { AuthConfigError } from 'nest-tessera';
import { loadConfig } from '../../sample-app/config.js';
import { createOrdersApp } from '../../sample-app/orders/orders-app.js';
import { quiet } from '../support/sample-testing.js';

// NODE_ENV=production: the orders service fetches keys, asks for renewals and sends its client
// secret over https only, or plain http to its own machine.
describe('the orders service with NODE_ENV=production', () => {
  const production = (extra: Record<string, string>) =>
    loadConfig({ NODE_ENV: 'production', AUTH_ISSUER: 'https://auth.sample.test', ...extra });

  it.each([
    { variable: 'ORDERS_JWKS_URLS', value: 'http://auth.internal/.well-known/jwks.json' },
    { variable: 'ORDERS_RENEW_URL', value: 'http://10.0.0.7:3000/auth/renew' },
    { variable: 'REPORTS_TOKEN_URL', value: 'http://auth.internal/auth/token' },
  ])('refuses to start with an http $variable outside loopback', async ({ variable, value }) => {
    const config = production({
      ORDERS_JWKS_URLS: 'https://auth.sample.test/.well-known/jwks.json',
      REPORTS_CLIENT_SECRET: 'reports-job-secret',
      [variable]: value,
    });
    await expect(createOrdersApp(config, { logger: quiet })).rejects.toThrow(AuthConfigError);
  });

  it('starts with loopback http URLs, and with http anywhere outside production', async () => {
    const loopback = production({
      ORDERS_JWKS_URLS: 'http://127.0.0.1:1/.well-known/jwks.json',
      ORDERS_RENEW_URL: 'http://localhost:1/auth/renew',
    });
    const anywhere = loadConfig({
      AUTH_ISSUER: 'https://auth.sample.test',
      ORDERS_JWKS_URLS: 'http://auth.internal/.well-known/jwks.json',
    });
    for (const config of [loopback, anywhere]) {
      const app = await createOrdersApp(config, { logger: quiet });
      await app.close();
    }
  });
});
