import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Inject, Injectable, type INestApplication, type OnModuleInit } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  AuthModule,
  MemoryRevocationStore,
  RevocationStore,
  type AuthModuleOptions,
} from 'nest-tessera';
import { redis } from 'nest-tessera/redis';
import { AUDIENCE, ISSUER } from '../support/forged-tokens.js';
import { createHttpApp } from '../support/http-app.js';
import { makeKey } from '../support/keys.js';
import { deleteKeys, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';

// The module's `redis` option: which connections an application opens on it, and which it closes.
// Connections are told apart by their name in Redis's CLIENT LIST.

const key = makeKey('ES256');
const prefix = uniquePrefix('redis-backend');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const authModule = (options: Partial<AuthModuleOptions>) =>
  AuthModule.forRoot({
    issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }],
    audience: AUDIENCE,
    ...options,
  });

function app(options: Partial<AuthModuleOptions>): Promise<INestApplication> {
  return createHttpApp('express', { imports: [authModule(options)] });
}

/** A provider of the application that fails its start-up after AuthModule's providers are built. */
@Injectable()
class FailsOnInit implements OnModuleInit {
  constructor(@Inject(RevocationStore) readonly revocations: RevocationStore) {}
  onModuleInit(): void {
    throw new Error('this application fails to start');
  }
}

/** The ways an application fails after AuthModule built its Redis backend, none calling close. */
const FAILED_STARTS = [
  {
    how: 'a provider built after the revocation store throws',
    start: async (options: Partial<AuthModuleOptions>) => {
      await Test.createTestingModule({
        imports: [authModule(options)],
        providers: [
          {
            provide: 'fails',
            useFactory: () => {
              throw new Error('this provider cannot be built');
            },
            inject: [RevocationStore],
          },
        ],
      }).compile();
    },
  },
  {
    how: 'an onModuleInit throws (as a method-security AuthConfigError does)',
    start: async (options: Partial<AuthModuleOptions>) => {
      const moduleRef = await Test.createTestingModule({
        imports: [authModule(options)],
        providers: [FailsOnInit],
      }).compile();
      await moduleRef.createNestApplication({ logger: false }).init();
    },
  },
];

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

  it('opens one connection per application for the revocation list (plus its pub/sub), and closes them at shutdown', async () => {
    const connection = named();
    const backend = redis(connection);
    const options = {
      redis: backend,
      revocation: { keyPrefix: `${prefix}revocation:` },
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

  it.each(FAILED_STARTS)(
    'leaves no connection open when the application fails to start: $how',
    async ({ start }) => {
      const connection = named();
      await expect(
        start({
          redis: redis(connection),
          revocation: { keyPrefix: `${prefix}revocation:` },
        }),
      ).rejects.toThrow(/this (application|provider)/);
      // Long enough for a connection opened at construction to show up, and to reconnect.
      await sleep(500);
      expect(await connections(connection.connectionName)).toBe(0);
    },
  );

  it.each(FAILED_STARTS)(
    'opens no pub/sub connection on a client passed in when the application fails to start: $how',
    async ({ start }) => {
      const connection = named();
      const client = new Redis(connection);
      try {
        await client.ping();
        await expect(
          start({ redis: redis(client), revocation: { keyPrefix: `${prefix}revocation:` } }),
        ).rejects.toThrow(/this (application|provider)/);
        await sleep(500);
        expect(await connections(connection.connectionName)).toBe(1);
      } finally {
        client.disconnect();
      }
    },
  );

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
