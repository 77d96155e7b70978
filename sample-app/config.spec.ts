import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig, readConfig, redisKeyPrefixes } from './config.js';

describe('sample app configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config.host).toBe('127.0.0.1');
    expect(config.httpAdapter).toBe('express');
    expect(config.production).toBe(false);
    expect(config.redis).toBeUndefined();
    expect(config.redisKeyPrefix).toBe('{tessera}:');
    expect(config.auth).toEqual({
      port: 3000,
      issuer: 'http://localhost:3000',
      audience: 'orders-api',
      signingKeysPath: undefined,
      activeKid: undefined,
      keysReloadSeconds: 60,
      keyRotationSeconds: undefined,
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 1_209_600,
      sessionMaxAgeSeconds: 86_400,
      usersFile: undefined,
      login: { failures: 5, perIp: 50, windowSeconds: 60 },
    });
    expect(config.orders).toEqual({
      port: 3001,
      audience: 'orders-api',
      trustedIssuers: [
        { issuer: 'http://localhost:3000', jwksUri: 'http://localhost:3000/.well-known/jwks.json' },
      ],
      renewUrl: 'http://localhost:3000/auth/renew',
      renewWindowSeconds: 300,
      jwksCooldownSeconds: 5,
      clockToleranceSeconds: 5,
      throttle: { limit: 100, ttlSeconds: 1 },
      requireHttps: false,
      dpopRequired: false,
      reports: {
        intervalSeconds: 60,
        tokenEndpoint: 'http://localhost:3000/auth/token',
        clientId: 'reports-job',
        clientSecret: undefined,
      },
    });
  });

  it.each([
    { value: 'true', required: true },
    { value: 'false', required: false },
  ])('reads DPOP_REQUIRED=$value', ({ value, required }) => {
    expect(loadConfig({ DPOP_REQUIRED: value }).orders.dpopRequired).toBe(required);
  });

  it('refuses a DPOP_REQUIRED that is not true or false', () => {
    expect(() => loadConfig({ DPOP_REQUIRED: 'yes' })).toThrow(/DPOP_REQUIRED/);
  });

  it('derives the orders defaults from AUTH_ISSUER and ACCESS_TOKEN_TTL', () => {
    const config = loadConfig({ AUTH_ISSUER: 'https://id.example/', ACCESS_TOKEN_TTL: '600' });
    expect(config.orders.trustedIssuers).toEqual([
      { issuer: 'https://id.example/', jwksUri: 'https://id.example/.well-known/jwks.json' },
    ]);
    expect(config.orders.renewUrl).toBe('https://id.example/auth/renew');
    expect(config.orders.renewWindowSeconds).toBe(200);
  });

  it('pairs ORDERS_JWKS_URLS with ORDERS_TRUSTED_ISSUERS in order', () => {
    const config = loadConfig({
      ORDERS_TRUSTED_ISSUERS: 'https://a.example, https://b.example',
      ORDERS_JWKS_URLS: 'https://a.example/keys,https://keys.b.example/jwks',
    });
    expect(config.orders.trustedIssuers).toEqual([
      { issuer: 'https://a.example', jwksUri: 'https://a.example/keys' },
      { issuer: 'https://b.example', jwksUri: 'https://keys.b.example/jwks' },
    ]);
  });

  it('lets a variable of the environment win over .env, and .env over the default', () => {
    const dotenv = 'AUTH_PORT=4000\nORDERS_PORT=4001\n# a comment\nAUTH_AUDIENCE="from-dotenv"\n';
    const config = loadConfig({ AUTH_PORT: '5000' }, dotenv);
    expect(config.auth.port).toBe(5000);
    expect(config.orders.port).toBe(4001);
    expect(config.auth.audience).toBe('from-dotenv');
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ AUTH_SIGNING_KEYS: '', AUTH_PORT: '' }).auth).toMatchObject({
      signingKeysPath: undefined,
      port: 3000,
    });
  });

  it('reads .env from the working directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-config-'));
    try {
      await writeFile(join(dir, '.env'), 'ORDERS_PORT=4101\nNODE_ENV=production\n');
      const config = await readConfig({ NODE_ENV: 'development' }, dir);
      expect(config.orders.port).toBe(4101);
      expect(config.production).toBe(false);
      expect((await readConfig({}, join(dir, 'nothing-here'))).orders.port).toBe(3001);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it.each([
    [{ AUTH_PORT: 'abc' }, 'AUTH_PORT must be an integer from 0 to 65535, got "abc"'],
    [{ ORDERS_PORT: '70000' }, 'ORDERS_PORT must be an integer from 0 to 65535, got "70000"'],
    [{ AUTH_PORT: '3e3' }, 'AUTH_PORT must be an integer'],
    [{ ACCESS_TOKEN_TTL: '0' }, 'ACCESS_TOKEN_TTL must be an integer from 1'],
    [{ ACCESS_TOKEN_TTL: '-5' }, 'ACCESS_TOKEN_TTL must be an integer'],
    [{ JWKS_COOLDOWN: 'soon' }, 'JWKS_COOLDOWN must be a number'],
    [{ CLOCK_TOLERANCE: '301' }, 'CLOCK_TOLERANCE must be a number from 0 to 300'],
    [{ RENEW_WINDOW: '901' }, 'RENEW_WINDOW must be an integer from 0 to 900'],
    [{ THROTTLE_TTL: '0' }, 'THROTTLE_TTL must be an integer from 1'],
    [{ AUTH_ISSUER: 'localhost:3000' }, 'AUTH_ISSUER must be an http(s) URL'],
    [{ HTTP_ADAPTER: 'koa' }, 'HTTP_ADAPTER must be one of express, fastify, got "koa"'],
    [
      { ORDERS_TRUSTED_ISSUERS: 'https://a.example,,' },
      'ORDERS_TRUSTED_ISSUERS has an empty entry',
    ],
    [{ ORDERS_TRUSTED_ISSUERS: 'https://a.example,https://a.example' }, 'lists an issuer twice'],
    [
      {
        ORDERS_TRUSTED_ISSUERS: 'https://a.example,https://b.example',
        ORDERS_JWKS_URLS: 'https://a.example/k',
      },
      'ORDERS_JWKS_URLS has 1 URLs for 2 trusted issuers',
    ],
    [{ ORDERS_JWKS_URLS: 'file:///etc/keys.json' }, 'ORDERS_JWKS_URLS must be an http(s) URL'],
    [{ REDIS_KEY_PREFIX: 'a b' }, 'REDIS_KEY_PREFIX must be up to 100 characters, no spaces'],
  ])('refuses %j with a one-line message', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
    try {
      loadConfig(env);
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('never repeats a REDIS_URL, which may hold a password, in its error', () => {
    expect(() => loadConfig({ REDIS_URL: 'http://:hunter2@cache:6379' })).toThrow(
      'REDIS_URL must be a redis: or rediss: URL',
    );
    expect(() => loadConfig({ REDIS_URL: 'http://:hunter2@cache:6379' })).not.toThrow(/hunter2/);
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379' }).redis).toBe('redis://cache:6379');
  });

  it('takes a Redis Cluster by its seed nodes, or Sentinels and the master they watch', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'a:7000, 10.0.0.2:7001,[::1]:7002' }).redis).toEqual({
      cluster: {
        nodes: [
          { host: 'a', port: 7000 },
          { host: '10.0.0.2', port: 7001 },
          { host: '::1', port: 7002 },
        ],
      },
    });
    expect(loadConfig({ REDIS_SENTINELS: 's1:26379,s2:26379' }).redis).toEqual({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'mymaster',
    });
    expect(
      loadConfig({ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'orders-cache' }).redis,
    ).toMatchObject({ name: 'orders-cache' });
  });

  it.each([
    {
      env: { REDIS_CLUSTER_NODES: 'a:7000,b' },
      error: 'REDIS_CLUSTER_NODES must be comma-separated host:port, got "b"',
    },
    {
      env: { REDIS_CLUSTER_NODES: 'a:70000' },
      error: 'REDIS_CLUSTER_NODES must be comma-separated host:port',
    },
    {
      env: { REDIS_CLUSTER_NODES: 'a:7000,,b:7001' },
      error: 'REDIS_CLUSTER_NODES has an empty entry',
    },
    {
      env: { REDIS_SENTINELS: 'redis://s1:26379' },
      error: 'REDIS_SENTINELS must be comma-separated host:port',
    },
    {
      env: { REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'a b' },
      error: 'REDIS_SENTINEL_NAME must be',
    },
    {
      env: { REDIS_SENTINEL_NAME: 'mymaster' },
      error: 'REDIS_SENTINEL_NAME is set without REDIS_SENTINELS',
    },
    {
      env: { REDIS_URL: 'redis://a:6379', REDIS_SENTINELS: 's1:26379' },
      error: 'REDIS_URL and REDIS_SENTINELS are set',
    },
    {
      env: { REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'a:7000' },
      error: 'REDIS_URL and REDIS_CLUSTER_NODES are set',
    },
    {
      env: { REDIS_CLUSTER_NODES: 'a:7000', REDIS_KEY_PREFIX: 'shop:' },
      error: 'REDIS_KEY_PREFIX must be',
    },
  ])('refuses $env, naming the variable', ({ env, error }) => {
    expect(() => loadConfig(env)).toThrow(error);
  });

  it('keeps the key prefix hash tag for the revocation list and sessions, not for counters or DPoP proofs', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_KEY_PREFIX: '{shop}:' });
    expect(redisKeyPrefixes(config)).toEqual({
      revocation: '{shop}:revocation:',
      session: '{shop}:session:',
      throttle: 'shop:throttle:',
      login: 'shop:login:',
      dpop: 'shop:dpop:',
    });
  });

  it('takes a Redis key prefix, for several deployments on one Redis', () => {
    expect(loadConfig({ REDIS_KEY_PREFIX: '{shop-eu}:' }).redisKeyPrefix).toBe('{shop-eu}:');
  });
});

describe('ORDERS_ISSUERS_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-issuers-'));
  afterAll(() => rmSync(dir, { recursive: true }));
  let files = 0;
  /** A file holding `content` (JSON unless a string), and the environment that names it. */
  const withFile = (content: unknown, env: Record<string, string> = {}) => {
    const path = join(dir, `issuers-${files++}.json`);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return { ...env, ORDERS_ISSUERS_FILE: path };
  };
  const A = 'https://a.example';

  it('replaces ORDERS_TRUSTED_ISSUERS and ORDERS_JWKS_URLS', () => {
    const env = withFile(
      [
        { issuer: A, jwks_uri: 'https://a.example/keys' },
        {
          issuer: 'https://b.example/realms/x',
          discovery: true,
          profile: 'keycloak',
          audience: ['orders-api', 'account'],
          scope_claims: ['scope', 'realm_access.roles'],
          tenant_claim: 'org.id',
        },
        { issuer: 'https://c.example', jwks_uri: 'http://keys.c.example/jwks', discovery: false },
      ],
      { ORDERS_TRUSTED_ISSUERS: 'https://ignored.example', ORDERS_JWKS_URLS: 'https://x/k' },
    );
    expect(loadConfig(env).orders.trustedIssuers).toStrictEqual([
      { issuer: A, jwksUri: 'https://a.example/keys' },
      {
        issuer: 'https://b.example/realms/x',
        discovery: true,
        profile: 'keycloak',
        audience: ['orders-api', 'account'],
        scopeClaims: ['scope', 'realm_access.roles'],
        tenantClaim: 'org.id',
      },
      { issuer: 'https://c.example', jwksUri: 'http://keys.c.example/jwks' },
    ]);
  });

  const entry = (fields: Record<string, unknown>) => [
    { issuer: 'https://ok.example', discovery: true },
    { issuer: A, jwks_uri: 'https://a.example/keys', ...fields },
  ];
  const named = `entry 1 (issuer "${A}"): field`;

  it.each([
    { what: 'not JSON', content: '[{"issuer": ', message: 'is not JSON' },
    { what: 'an object', content: { issuers: [] }, message: 'must be a JSON array of issuers' },
    { what: 'a string', content: '"https://a.example"', message: 'must be a JSON array' },
    { what: 'an empty array', content: [], message: 'lists no issuer' },
    { what: 'an entry that is no object', content: [A], message: 'entry 0: must be an object' },
    {
      what: 'no issuer',
      content: [{ jwks_uri: 'https://a.example/keys' }],
      message: 'entry 0: field "issuer" is required',
    },
    {
      what: 'a numeric issuer',
      content: [{ issuer: 42, discovery: true }],
      message: 'entry 0: field "issuer" must be an http(s) URL',
    },
    {
      what: 'an issuer that is no URL',
      content: [{ issuer: 'a.example', discovery: true }],
      message: 'entry 0 (issuer "a.example"): field "issuer" must be an http(s) URL',
    },
    {
      what: 'neither jwks_uri nor discovery',
      content: entry({ jwks_uri: undefined }),
      message: `${named} "jwks_uri" or "discovery": true is required`,
    },
    {
      what: 'discovery false alone',
      content: entry({ jwks_uri: undefined, discovery: false }),
      message: `${named} "jwks_uri" or "discovery": true is required`,
    },
    {
      what: 'both jwks_uri and discovery',
      content: entry({ discovery: true }),
      message: `${named} "discovery" must not be true beside "jwks_uri"`,
    },
    {
      what: 'a string discovery',
      content: entry({ jwks_uri: undefined, discovery: 'true' }),
      message: `${named} "discovery" must be true or false`,
    },
    {
      what: 'a jwks_uri that is not http(s)',
      content: entry({ jwks_uri: 'file:///etc/keys.json' }),
      message: `${named} "jwks_uri" must be an http(s) URL`,
    },
    {
      what: 'a jwks_uri array',
      content: entry({ jwks_uri: ['https://a.example/keys'] }),
      message: `${named} "jwks_uri" must be an http(s) URL`,
    },
    {
      what: 'a jwks_uri with credentials',
      content: entry({ jwks_uri: 'https://svc:s3cret@a.example/keys' }),
      message: `${named} "jwks_uri" must not carry credentials`,
    },
    {
      what: 'a discovered issuer with a query',
      content: [{ issuer: 'https://a.example/?tenant=1', discovery: true }],
      message: 'entry 0 (issuer "https://a.example/?tenant=1"): field "issuer" must have no query',
    },
    {
      what: 'an unknown profile',
      content: entry({ profile: 'google' }),
      message: `${named} "profile" must be one of rfc9068, keycloak, auth0, entra, cognito, okta, generic`,
    },
    {
      what: 'a profile of another case',
      content: entry({ profile: 'Keycloak' }),
      message: `${named} "profile" must be one of`,
    },
    {
      what: 'a numeric audience',
      content: entry({ audience: 7 }),
      message: `${named} "audience" must be a non-empty string or a non-empty array of them`,
    },
    {
      what: 'an audience array with a number',
      content: entry({ audience: ['orders-api', 7] }),
      message: `${named} "audience" must be a non-empty string`,
    },
    {
      what: 'an empty audience',
      content: entry({ audience: [] }),
      message: `${named} "audience" must be a non-empty string`,
    },
    {
      what: 'scope_claims as a string',
      content: entry({ scope_claims: 'scope' }),
      message: `${named} "scope_claims" must be a non-empty array of claim paths`,
    },
    {
      what: 'scope_claims with a number',
      content: entry({ scope_claims: ['scope', 1] }),
      message: `${named} "scope_claims" must be a non-empty array of claim paths`,
    },
    {
      what: 'scope_claims with an empty name',
      content: entry({ scope_claims: ['realm_access..roles'] }),
      message: `${named} "scope_claims" must be a non-empty array of claim paths`,
    },
    {
      what: 'a tenant_claim array',
      content: entry({ tenant_claim: ['tid'] }),
      message: `${named} "tenant_claim" must be a claim path`,
    },
    {
      what: 'a null tenant_claim',
      content: entry({ tenant_claim: null }),
      message: `${named} "tenant_claim" must be a claim path`,
    },
    {
      what: 'an unknown field',
      content: entry({ jwks: 'https://a.example/keys' }),
      message: `${named} "jwks" is unknown`,
    },
    {
      what: 'a field in the options spelling',
      content: entry({ scopeClaims: ['scp'] }),
      message: `${named} "scopeClaims" is unknown (did you mean "scope_claims"?)`,
    },
    {
      what: 'an issuer listed twice',
      content: [...entry({}), { issuer: A, discovery: true }],
      message: `entry 2 (issuer "${A}"): field "issuer" repeats entry 1`,
    },
  ])('refuses a file with $what, naming the entry and the field', ({ content, message }) => {
    const env = withFile(content);
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(
      `ORDERS_ISSUERS_FILE ${env.ORDERS_ISSUERS_FILE}: ${message}`,
    );
    expect(() => loadConfig(env)).not.toThrow(/\n|s3cret/);
  });

  it.each([
    {
      what: 'credentials in an issuer',
      content: [{ issuer: 'https://alice:hunter2@idp.example', discovery: true }],
      message:
        'entry 0 (issuer "https://***@idp.example"): field "issuer" must not carry credentials',
    },
    {
      what: 'a secret near a JSON error',
      content: '[{"issuer": "https://a.example", "jwks_uri": "https://a.example/k?key=hunter2"},]',
      message: 'is not JSON',
    },
  ])('never repeats a secret of the file in its message: $what', ({ content, message }) => {
    const env = withFile(content);
    expect(() => loadConfig(env)).toThrow(message);
    expect(() => loadConfig(env)).not.toThrow(/hunter2/);
  });

  it('refuses a file it cannot read', () => {
    const env = { ORDERS_ISSUERS_FILE: join(dir, 'missing.json') };
    expect(() => loadConfig(env)).toThrow(
      `ORDERS_ISSUERS_FILE: cannot read ${env.ORDERS_ISSUERS_FILE}`,
    );
  });
});
