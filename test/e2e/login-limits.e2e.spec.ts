import type { INestApplication } from '@nestjs/common';
import { afterAll, afterEach, describe, expect, it, jest } from '@jest/globals';
import { KeyRing } from 'nest-tessera/issuer';
import { UserDirectory, ClientDirectory } from '../../sample-app/auth/accounts.js';
import { createAuthApp } from '../../sample-app/auth/auth-app.js';
import { loadConfig, type HttpAdapterName } from '../../sample-app/config.js';
import { dpopKey, makeProof } from '../support/dpop.js';
import { postFrom, type PlainResponse } from '../support/post-from.js';
import { deleteKeys, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';
import { quiet } from '../support/sample-testing.js';

// CONTRACT.md's guessing limits (LOGIN_LIMIT, LOGIN_WINDOW, LOGIN_IP_LIMIT) as a client sees
// them, each client a loopback address of its own; and /auth/login taking JSON only.

const ISSUER = 'https://auth.sample.test';
const keyRing = KeyRing.ephemeral('EdDSA');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type StoreMode = 'in-memory' | 'Redis';
const CASES: readonly { adapter: HttpAdapterName; mode: StoreMode }[] = [
  { adapter: 'express', mode: 'in-memory' },
  { adapter: 'fastify', mode: 'Redis' },
];

describe.each(CASES)('guessing limits on $adapter with $mode counters', ({ adapter, mode }) => {
  const prefix = uniquePrefix(`login-limits-${adapter}`);
  const apps: INestApplication[] = [];
  let started = 0; // each service its own Redis keys
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(() => (mode === 'Redis' ? deleteKeys(prefix) : undefined));

  /** A fresh auth service (its own counters) with these variables. */
  async function start(env: Record<string, string>): Promise<INestApplication> {
    const config = loadConfig({
      AUTH_ISSUER: ISSUER,
      ...(mode === 'Redis' && {
        REDIS_URL: sharedRedisUrl(),
        REDIS_KEY_PREFIX: `${prefix}${started++}:`,
      }),
      ...env,
    });
    const app = await createAuthApp(config, { adapter, logger: quiet, keyRing });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    return app;
  }

  const client = (app: INestApplication, from: string) => {
    const url = async (path: string) => `${await app.getUrl()}${path}`;
    return {
      login: async (username: string, password: string) =>
        postFrom(from, await url('/auth/login'), JSON.stringify({ username, password })),
      token: async (clientSecret: string) =>
        postFrom(
          from,
          await url('/auth/token'),
          new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: 'reports-job',
            client_secret: clientSecret,
          }).toString(),
          { 'content-type': 'application/x-www-form-urlencoded' },
        ),
      refresh: async (token: string) =>
        postFrom(from, await url('/auth/refresh'), JSON.stringify({ refresh_token: token })),
    };
  };

  const expectThrottled = (response: PlainResponse, windowSeconds: number) => {
    expect(response.status).toBe(429);
    const retryAfter = Number(response.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
    expect(response.headers['set-cookie']).toBeUndefined();
  };

  it('locks a username for one client IP after LOGIN_LIMIT failures, whatever the password, and no one else', async () => {
    const app = await start({ LOGIN_LIMIT: '3', LOGIN_WINDOW: '60', LOGIN_IP_LIMIT: '0' });
    const attacker = client(app, '127.0.0.2');
    for (let i = 0; i < 3; i++) {
      expect((await attacker.login('alice', `guess-${i}`)).status).toBe(401);
    }
    // The right password does not get through the lock: it would tell the guesser it is right.
    expectThrottled(await attacker.login('alice', 'alice-password'), 60);
    expectThrottled(await attacker.login('alice', 'guess-4'), 60);
    // Alice from her own address, and another user from the attacker's, are not slowed.
    expect((await client(app, '127.0.0.3').login('alice', 'alice-password')).status).toBe(200);
    expect((await attacker.login('bob', 'bob-password')).status).toBe(200);
  });

  it('never checks a password while the username is locked (a flood costs no scrypt run)', async () => {
    const app = await start({ LOGIN_LIMIT: '2', LOGIN_IP_LIMIT: '0' });
    const users = app.get(UserDirectory);
    const authenticate = jest.spyOn(users, 'authenticate');
    const attacker = client(app, '127.0.0.2');
    await attacker.login('carol', 'x');
    await attacker.login('carol', 'y');
    expect(authenticate).toHaveBeenCalledTimes(2);
    for (let i = 0; i < 5; i++) expect((await attacker.login('carol', 'z')).status).toBe(429);
    expect(authenticate).toHaveBeenCalledTimes(2);
  });

  it('checks at most LOGIN_LIMIT of many concurrent wrong guesses, refuses the rest and then the right password', async () => {
    const app = await start({ LOGIN_LIMIT: '3', LOGIN_WINDOW: '60', LOGIN_IP_LIMIT: '0' });
    const authenticate = jest.spyOn(app.get(UserDirectory), 'authenticate');
    const attacker = client(app, '127.0.0.2');
    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, i) => attacker.login('alice', `guess-${i}`)),
    );
    const statuses = burst.map((response) => response.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(3);
    expect(statuses.filter((status) => status === 429)).toHaveLength(17);
    expect(authenticate).toHaveBeenCalledTimes(3);
    expectThrottled(await attacker.login('alice', 'alice-password'), 60);
    expect(authenticate).toHaveBeenCalledTimes(3);
    expect((await client(app, '127.0.0.3').login('alice', 'alice-password')).status).toBe(200);
  });

  it('checks at most LOGIN_LIMIT of many concurrent wrong client secrets for one client_id', async () => {
    const app = await start({ LOGIN_LIMIT: '2', LOGIN_IP_LIMIT: '0' });
    const authenticate = jest.spyOn(app.get(ClientDirectory), 'authenticate');
    const burst = await Promise.all(
      Array.from({ length: 10 }, (_, i) => client(app, `127.0.1.${i + 1}`).token(`guess-${i}`)),
    );
    const statuses = burst.map((response) => response.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(2);
    expect(statuses.filter((status) => status === 429)).toHaveLength(8);
    expect(authenticate).toHaveBeenCalledTimes(2);
    expectThrottled(await client(app, '127.0.0.4').token('reports-job-secret'), 60);
  });

  it('never refuses right passwords or client secrets sent at once, more of them than LOGIN_LIMIT', async () => {
    const app = await start({ LOGIN_LIMIT: '2', LOGIN_IP_LIMIT: '0' });
    const alice = client(app, '127.0.0.9');
    const logins = await Promise.all([
      alice.login('alice', 'alice-password'),
      alice.login('alice', 'alice-password'),
    ]);
    expect(logins.map((response) => response.status)).toEqual([200, 200]);
    const tokens = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        client(app, `127.0.2.${i + 1}`).token('reports-job-secret'),
      ),
    );
    expect(tokens.map((response) => response.status)).toEqual(Array(8).fill(200));
  });

  it('counts failures only: successful logins never lock a username', async () => {
    const app = await start({ LOGIN_LIMIT: '2', LOGIN_IP_LIMIT: '0' });
    const alice = client(app, '127.0.0.4');
    for (let i = 0; i < 4; i++)
      expect((await alice.login('alice', 'alice-password')).status).toBe(200);
    expect((await alice.login('alice', 'typo')).status).toBe(401);
    expect((await alice.login('alice', 'alice-password')).status).toBe(200);
  });

  it('locks a client_id after LOGIN_LIMIT failed client-credentials requests, from any IP', async () => {
    const app = await start({ LOGIN_LIMIT: '2', LOGIN_IP_LIMIT: '0' });
    const clients = app.get(ClientDirectory);
    const authenticate = jest.spyOn(clients, 'authenticate');
    expect((await client(app, '127.0.0.2').token('guess-1')).status).toBe(401);
    expect((await client(app, '127.0.0.3').token('guess-2')).status).toBe(401);
    expectThrottled(await client(app, '127.0.0.4').token('reports-job-secret'), 60);
    expect(authenticate).toHaveBeenCalledTimes(2);
  });

  it('limits attempts of any kind per client IP on login, token and refresh (LOGIN_IP_LIMIT)', async () => {
    const app = await start({ LOGIN_LIMIT: '0', LOGIN_IP_LIMIT: '3', LOGIN_WINDOW: '30' });
    const flood = client(app, '127.0.0.5');
    expect((await flood.login('alice', 'alice-password')).status).toBe(200);
    expect((await flood.token('reports-job-secret')).status).toBe(200);
    expect((await flood.refresh('A'.repeat(43))).status).toBe(401);
    expectThrottled(await flood.login('alice', 'alice-password'), 30);
    expectThrottled(await flood.token('reports-job-secret'), 30);
    expectThrottled(await flood.refresh('A'.repeat(43)), 30);
    expect((await client(app, '127.0.0.6').login('alice', 'alice-password')).status).toBe(200);
  });

  it('counts a client IP before any DPoP proof is checked or remembered: a refused request spends no proof', async () => {
    const app = await start({ LOGIN_LIMIT: '0', LOGIN_IP_LIMIT: '2', LOGIN_WINDOW: '30' });
    const url = `${await app.getUrl()}/auth/login`;
    const key = dpopKey();
    const proof = () => makeProof(key, { htm: 'POST', htu: url });
    const login = (from: string, dpop: string) =>
      postFrom(from, url, JSON.stringify({ username: 'alice', password: 'alice-password' }), {
        'content-type': 'application/json',
        dpop,
      });
    const bound = await login('127.0.0.9', proof());
    expect(bound.status).toBe(200);
    expect(JSON.parse(bound.body)).toMatchObject({ token_type: 'DPoP' });
    expect((await login('127.0.0.9', 'not-a-proof')).status).toBe(400);
    // Past the limit, neither a valid proof nor garbage is looked at: 429, not 200 or 400.
    const unspent = proof();
    expectThrottled(await login('127.0.0.9', unspent), 30);
    expectThrottled(await login('127.0.0.9', 'not-a-proof'), 30);
    // The refused request left its proof out of the replay cache: it still works, once.
    expect((await login('127.0.0.10', unspent)).status).toBe(200);
    expect((await login('127.0.0.11', unspent)).status).toBe(400);
  });

  it('lets the locked pair in again once LOGIN_WINDOW has passed', async () => {
    const app = await start({ LOGIN_LIMIT: '1', LOGIN_WINDOW: '1', LOGIN_IP_LIMIT: '0' });
    const alice = client(app, '127.0.0.7');
    expect((await alice.login('alice', 'typo')).status).toBe(401);
    expectThrottled(await alice.login('alice', 'alice-password'), 1);
    await sleep(2100);
    expect((await alice.login('alice', 'alice-password')).status).toBe(200);
  });

  it('turns each limit off with 0', async () => {
    const app = await start({ LOGIN_LIMIT: '0', LOGIN_IP_LIMIT: '0' });
    const guesser = client(app, '127.0.0.8');
    for (let i = 0; i < 8; i++)
      expect((await guesser.login('dave', `guess-${i}`)).status).toBe(401);
    for (let i = 0; i < 8; i++) expect((await guesser.token(`guess-${i}`)).status).toBe(401);
    expect((await guesser.login('dave', 'dave-password')).status).toBe(200);
    expect((await guesser.token('reports-job-secret')).status).toBe(200);
  });
});

describe.each(['express', 'fastify'] as const)('/auth/login content types on %s', (adapter) => {
  let app: INestApplication;
  afterAll(() => app?.close());

  it.each([
    {
      what: 'a form post (what another site can make a browser send)',
      type: 'application/x-www-form-urlencoded',
      body: 'username=alice&password=alice-password',
    },
    {
      what: 'JSON sent as text/plain (a simple request, no preflight)',
      type: 'text/plain',
      body: '{"username":"alice","password":"alice-password"}',
    },
    {
      what: 'a multipart form',
      type: 'multipart/form-data; boundary=x',
      body: '--x\r\nContent-Disposition: form-data; name="username"\r\n\r\nalice\r\n--x--\r\n',
    },
  ])('answers 415 and sets no cookie for $what', async ({ type, body }) => {
    app ??= await createAuthApp(loadConfig({ AUTH_ISSUER: ISSUER }), {
      adapter,
      logger: quiet,
      keyRing,
    }).then(async (created) => {
      await created.listen(0, '127.0.0.1');
      return created;
    });
    const response = await postFrom('127.0.0.1', `${await app.getUrl()}/auth/login`, body, {
      'content-type': type,
    });
    expect(response.status).toBe(415);
    expect(response.headers['set-cookie']).toBeUndefined();
    expect(response.body).not.toContain('access_token');
  });
});

describe.each(['express', 'fastify'] as const)('/auth/refresh bodies on %s', (adapter) => {
  let app: INestApplication;
  afterAll(() => app?.close());

  it.each([
    { what: 'a JSON string', body: '"abc"', status: 401 },
    { what: 'JSON null', body: 'null', status: 401 },
    { what: 'a JSON array', body: '["x"]', status: 401 },
    { what: 'an empty body', body: '', status: 401 },
    { what: 'a __proto__ key', body: '{"__proto__":{"refresh_token":"a"}}', status: 401 },
    { what: 'bytes that are not JSON', body: '{bad', status: 400 },
  ])('answers $status to $what', async ({ body, status }) => {
    app ??= await createAuthApp(loadConfig({ AUTH_ISSUER: ISSUER, LOGIN_IP_LIMIT: '0' }), {
      adapter,
      logger: quiet,
      keyRing,
    }).then(async (created) => {
      await created.listen(0, '127.0.0.1');
      return created;
    });
    const response = await postFrom('127.0.0.1', `${await app.getUrl()}/auth/refresh`, body, {
      'content-type': 'application/json',
    });
    expect(response.status).toBe(status);
    if (status === 401) expect(JSON.parse(response.body)).toEqual({ error: 'invalid_grant' });
    expect(response.body).not.toContain('access_token');
  });
});
