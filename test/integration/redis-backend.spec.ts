import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { AuthModule, MemoryRevocationStore, type AuthModuleOptions } from '../../lib/index.js';
import { redis } from '../../lib/redis.js';
import { AUDIENCE, ISSUER } from '../support/forged-tokens.js';
import { createHttpApp } from '../support/http-app.js';
import { makeKey } from '../support/keys.js';
import { deleteKeys, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';

// The module's `redis` option: which connections an application opens on it, and which it closes.
// Connections are told apart by their name in Redis's CLIENT LIST.

const key = makeKey('ES256');
const prefix = uniquePrefix('redis-backend');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function app(options: Partial<AuthModuleOptions>): Promise<INestApplication> {
  return createHttpApp('express', {
    imports: [
      AuthModule.forRoot({
        issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }],
        audience: AUDIENCE,
        ...options,
      }),
    ],
  });
}

/** Options naming every connection opened from them (the pub/sub duplicate inherits the name). */
function named(): { host: string; port: number; connectionName: string } {
  const { hostname, port } = new URL(sharedRedisUrl());
  const connectionName = `tessera-test-${randomBytes(4).toString('hex')}`;
  return { host: hostname, port: Number(port || 6379), connectionName };
}

describe('the redis option', () => {
  let admin: Redis;
  const connections = async (name: string): Promise<number> => {
    const list = (await admin.client('LIST')) as string;
    return list.split('\n').filter((line) => line.includes(` name=${name} `)).length;
  };
  const eventually = async (name: string, count: number): Promise<void> => {
    const deadline = Date.now() + 5000;
    while ((await connections(name)) !== count) {
      if (Date.now() > deadline) throw new Error(`${name}: not ${count} connections in time`);
      await sleep(25);
    }
  };

  beforeAll(() => {
    admin = new Redis(sharedRedisUrl());
  });
  afterAll(async () => {
    admin.disconnect();
    await deleteKeys(prefix);
  });

  it('opens one connection per application, shared by revocation and throttling (plus the revocation pub/sub), and closes them at shutdown', async () => {
    const connection = named();
    const backend = redis(connection);
    const options = {
      redis: backend,
      revocation: { keyPrefix: `${prefix}revocation:` },
      throttle: { limit: 10, ttlSeconds: 10, keyPrefix: `${prefix}throttle:` },
    };
    const first = await app(options);
    const second = await app(options);
    await eventually(connection.connectionName, 4);
    await first.close();
    await eventually(connection.connectionName, 2);
    await second.close();
    await eventually(connection.connectionName, 0);
  });

  it('leaves a client passed in open, closing only the pub/sub connection it opened', async () => {
    const connection = named();
    const client = new Redis(connection);
    try {
      const application = await app({
        redis: redis(client),
        revocation: { keyPrefix: `${prefix}revocation:` },
      });
      await eventually(connection.connectionName, 2);
      await application.close();
      await eventually(connection.connectionName, 1);
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  it('leaves a client passed in with the listeners it had once the applications using it close', async () => {
    const client = new Redis(named());
    const listeners = () =>
      Object.fromEntries(
        (['ready', 'close', 'error', 'end'] as const).map((event) => [
          event,
          client.listenerCount(event),
        ]),
      );
    try {
      await client.ping();
      const before = listeners();
      const options = {
        redis: redis(client),
        revocation: { keyPrefix: `${prefix}revocation:` },
        throttle: { limit: 10, ttlSeconds: 10, keyPrefix: `${prefix}throttle:` },
      };
      const applications = await Promise.all([app(options), app(options), app(options)]);
      expect(listeners()).not.toEqual(before);
      await Promise.all(applications.map((application) => application.close()));
      expect(listeners()).toEqual(before);
    } finally {
      client.disconnect();
    }
  });

  it('opens nothing when no feature keeps its state in Redis', async () => {
    const connection = named();
    const revocations = new MemoryRevocationStore();
    const application = await app({ redis: redis(connection), revocation: { store: revocations } });
    await sleep(200);
    expect(await connections(connection.connectionName)).toBe(0);
    await application.close();
    await revocations.close();
  });
});
