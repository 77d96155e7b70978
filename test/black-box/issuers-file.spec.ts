import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { IssuerServer, OIDC_PATH } from '../support/issuer-server.js';
import { makeKey, validToken } from '../support/keys.js';
import { settlesWithin } from '../support/settles-within.js';
import { ensureBuild, freePort, ORDERS_MAIN } from './built-app.js';
import { Service } from './service-process.js';

// ORDERS_ISSUERS_FILE read by the built orders service, as `npm run start:orders` runs it.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const key = makeKey('ES256');

describe('the built orders service with ORDERS_ISSUERS_FILE', () => {
  let cwd: string;
  let services: Service[] = [];

  beforeAll(() => {
    ensureBuild();
    cwd = mkdtempSync(join(tmpdir(), 'tessera-issuers-file-'));
  }, 120_000);
  afterEach(async () => {
    await Promise.all(services.map((s) => s.kill()));
    services = [];
  });
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  async function orders(issuers: unknown): Promise<Service> {
    const file = join(cwd, `issuers-${services.length}.json`);
    writeFileSync(file, JSON.stringify(issuers));
    const port = await freePort();
    const service = new Service(
      'orders',
      `http://127.0.0.1:${port}`,
      ORDERS_MAIN,
      { ORDERS_PORT: String(port), ORDERS_ISSUERS_FILE: file, THROTTLE_LIMIT: '0' },
      cwd,
    );
    services.push(service);
    return service;
  }

  it('refuses to start on a file it cannot use: non-zero exit, the entry and the field named', async () => {
    const service = await orders([
      { issuer: 'https://a.example', discovery: true },
      { issuer: 'https://b.example', jwks_uri: 'https://b.example/keys', discovery: true },
    ]);
    await settlesWithin(service.exited, 30_000);
    expect(service.exitCode).not.toBe(0);
    expect(service.exitCode).not.toBeNull();
    expect(service.output).toContain(
      'entry 1 (issuer \\"https://b.example\\"): field \\"discovery\\" must not be true beside \\"jwks_uri\\"',
    );
    expect(service.output).not.toContain('listening');
  }, 40_000);

  it('starts while a discovery issuer is down, answers 401 for its tokens, and accepts them once it is up', async () => {
    const issuer = await new IssuerServer().start();
    issuer.keys = [key.publicJwk];
    issuer.routes.set(OIDC_PATH, issuer.metadata());
    await issuer.stop();
    try {
      const service = await orders([{ issuer: issuer.issuer, discovery: true }]);
      const token = validToken(key, Date.now() / 1000, { iss: issuer.issuer });
      const list = () =>
        fetch(`${service.url}/orders`, { headers: { authorization: `Bearer ${token}` } }).then(
          (r) => r.status,
          () => undefined,
        );
      // Listening although its only issuer cannot be reached.
      let status: number | undefined;
      for (let i = 0; i < 300 && status === undefined; i++) {
        if (service.exitCode !== null) throw new Error(`orders exited:\n${service.output}`);
        status = await list();
        if (status === undefined) await sleep(100);
      }
      expect(status).toBe(401);

      await issuer.restart();
      await settlesWithin(
        (async () => {
          while ((await list()) !== 200) await sleep(200);
        })(),
        30_000,
      );
      const health = await fetch(`${service.url}/health`);
      expect(health.status).toBe(200);
      expect(issuer.hits(OIDC_PATH)).toBeGreaterThanOrEqual(1);
    } finally {
      await issuer.stop();
    }
  }, 60_000);
});
