import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
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

  it('keeps the key prefix hash tag for the revocation list and sessions, not for request counters', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_KEY_PREFIX: '{shop}:' });
    expect(redisKeyPrefixes(config)).toEqual({
      revocation: '{shop}:revocation:',
      session: '{shop}:session:',
      throttle: 'shop:throttle:',
      login: 'shop:login:',
    });
  });

  it('takes a Redis key prefix, for several deployments on one Redis', () => {
    expect(loadConfig({ REDIS_KEY_PREFIX: '{shop-eu}:' }).redisKeyPrefix).toBe('{shop-eu}:');
  });
});
