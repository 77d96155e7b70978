import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { AuthConfigError } from 'nest-tessera';
import { redis } from 'nest-tessera/redis';
import { RedisThrottlerStorage, ThrottlerStorageUnavailableError } from 'nest-tessera/throttler';
import { describeThrottlerStorage } from '../contracts/throttler-storage.contract.js';
import { deleteKeys, RedisServer, sharedRedisUrl } from '../support/redis-server.js';
import { settlesWithin } from '../support/settles-within.js';

// RedisThrottlerStorage on a real Redis: the storages' contract, then what only Redis has (key
// names and hash tags, counts shared by every instance, an outage, the connection's life).

// No hash tag in the prefix: each counter's own tag decides its slot.
const prefix = `tessera-test-throttler-${randomBytes(4).toString('hex')}:`;
afterAll(() => deleteKeys(prefix));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MINUTE = 60_000;

/** `count` hits of `key`, one after the other. */
async function hits(storage: RedisThrottlerStorage, count: number, limit = 1, key = 'k') {
  const records = [];
  for (let i = 0; i < count; i++)
    records.push(await storage.increment(key, MINUTE, limit, 0, 'default'));
  return records;
}

/** Waits (polling, at most 5 s) until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 250 && !condition(); i++) await sleep(20);
  expect(condition()).toBe(true);
}

const letThrough = { isBlocked: false, totalHits: 0 };

let fixtures = 0;
describeThrottlerStorage('Redis', async () => {
  const storage = new RedisThrottlerStorage(redis(sharedRedisUrl()), {
    keyPrefix: `${prefix}contract-${++fixtures}:`,
  });
  storage.onApplicationBootstrap();
  return {
    storage,
    advance: async (ms) => void (await sleep(ms)),
    close: () => storage.close(),
  };
});

describe('Redis throttler storage', () => {
  const open: RedisThrottlerStorage[] = [];
  const storage = (connection: string | Redis = sharedRedisUrl(), keyPrefix = prefix) => {
    const s = new RedisThrottlerStorage(redis(connection), { keyPrefix });
    s.onApplicationBootstrap();
    open.push(s);
    return s;
  };
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(sharedRedisUrl());
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  afterAll(() => admin.disconnect());

  it('names both keys of a counter with one hash tag, so that a Cluster keeps them in one slot', async () => {
    const p = `${prefix}tags:`;
    const s = storage(sharedRedisUrl(), p);
    await s.increment('sub:alice', 60_000, 1, 60_000, 'default');
    await s.increment('sub:alice', 60_000, 1, 60_000, 'default');
    // A key that cannot be a tag as it is: braces, nothing at all, what looks like an encoding.
    for (const key of ['we}ir{d', '', 'b64:x']) await s.increment(key, 60_000, 1, 0, 'default');
    const encoded = (key: string) => `{b64:${Buffer.from(key).toString('base64url')}}`;
    expect((await admin.keys(`${p}*`)).sort()).toEqual(
      [
        `${p}{sub:alice}:default`,
        `${p}{sub:alice}:default:block`,
        `${p}${encoded('we}ir{d')}:default`,
        `${p}${encoded('')}:default`,
        `${p}${encoded('b64:x')}:default`,
      ].sort(),
    );
  });

  it('refuses a key prefix whose first brace opens an empty hash tag', () => {
    expect(() => storage(sharedRedisUrl(), 'app{}:throttle:')).toThrow(AuthConfigError);
    expect(() => storage(sharedRedisUrl(), '{app}:throttle:{}')).not.toThrow();
  });

  it('shares the counts between storages on one Redis, as between instances', async () => {
    const p = `${prefix}shared:`;
    const [a, b] = [storage(sharedRedisUrl(), p), storage(sharedRedisUrl(), p)];
    const blocked = [];
    for (const s of [a, b, a, b]) {
      blocked.push((await s.increment('sub:dave', 60_000, 3, 0, 'default')).isBlocked);
    }
    expect(blocked).toEqual([false, false, false, true]);
  });

  it('lets every hit through at once while Redis is down, and counts again once it is back', async () => {
    const server = await RedisServer.start();
    try {
      const s = storage(server.url, `${prefix}outage:`);
      await s.increment('k', 60_000, 1, 0, 'default');
      expect((await s.increment('k', 60_000, 1, 0, 'default')).isBlocked).toBe(true);
      await server.stop();
      // Also while the client is connecting again between two attempts: were a hit to wait for
      // the connection (2 s each), these would not end within the test's time.
      for (let i = 0; i < 20; i++) {
        expect(await s.increment('k', 60_000, 1, 0, 'default')).toMatchObject({
          isBlocked: false,
          totalHits: 0,
        });
        await sleep(20);
      }
      // Redis restarts empty: the counting starts over, and holds again.
      await server.start();
      const blocked: boolean[] = [];
      for (let i = 0; i < 100 && blocked.at(-1) !== true; i++) {
        blocked.push((await s.increment('k', 60_000, 1, 0, 'default')).isBlocked);
        await sleep(20);
      }
      expect(blocked.at(-1)).toBe(true);
    } finally {
      await server.stop();
    }
  }, 30_000);

  it('answers at once while Redis is down with a client passed in that queues commands (ioredis defaults), and counts again once it is back', async () => {
    const server = await RedisServer.start();
    // ioredis's defaults: while disconnected, a command waits in the offline queue through 20
    // reconnection attempts (a minute and more).
    const client = new Redis(server.url);
    const told: ThrottlerStorageUnavailableError[] = [];
    try {
      const s = new RedisThrottlerStorage(redis(client), {
        keyPrefix: `${prefix}queued:`,
        onUnavailable: (error) => told.push(error),
      });
      open.push(s);
      s.onApplicationBootstrap();
      expect((await hits(s, 2)).map((r) => r.isBlocked)).toEqual([false, true]);
      expect(s.available).toBe(true);

      await server.stop();
      await until(() => client.status !== 'ready');
      for (const hit of await settlesWithin(hits(s, 20), 10_000))
        expect(hit).toMatchObject(letThrough);
      expect(s.available).toBe(false);
      expect(told).toHaveLength(1);
      expect(told[0]).toBeInstanceOf(ThrottlerStorageUnavailableError);
      expect(told[0].reason).toBe('disconnected');

      // Redis restarts empty: the counting starts over, and holds again.
      await server.start();
      const blocked: boolean[] = [];
      for (let i = 0; i < 100 && blocked.at(-1) !== true; i++) {
        blocked.push((await s.increment('k', MINUTE, 1, 0, 'default')).isBlocked);
        await sleep(50);
      }
      expect(blocked.at(-1)).toBe(true);
      expect(s.available).toBe(true);
      expect(told).toHaveLength(1);
    } finally {
      client.disconnect();
      await server.stop();
    }
  }, 30_000);

  it('answers at once while Redis is frozen on an open connection (a silent partition), trying it once per pause rather than once per hit', async () => {
    const server = await RedisServer.start();
    const told: ThrottlerStorageUnavailableError[] = [];
    try {
      const s = new RedisThrottlerStorage(redis(server.url), {
        keyPrefix: `${prefix}frozen:`,
        onUnavailable: (error) => told.push(error),
      });
      open.push(s);
      s.onApplicationBootstrap();
      expect((await hits(s, 1, 100))[0].totalHits).toBe(1);

      server.pause();
      for (const hit of await settlesWithin(hits(s, 30, 100), 10_000)) {
        expect(hit).toMatchObject(letThrough);
      }
      expect(s.available).toBe(false);
      expect(told.map((error) => error.reason)).toEqual(['timeout']);

      // Redis now runs what it was sent while frozen: the count says how many hits tried it.
      server.resume();
      let counted: number | undefined;
      for (let i = 0; i < 100 && counted === undefined; i++) {
        const [hit] = await hits(s, 1, 100);
        if (hit.totalHits > 0) counted = hit.totalHits;
        else await sleep(50);
      }
      expect(counted).toBeDefined();
      const triedWhileFrozen = counted! - 2;
      expect(triedWhileFrozen).toBeGreaterThanOrEqual(1);
      expect(triedWhileFrozen).toBeLessThanOrEqual(3);
      expect(s.available).toBe(true);
    } finally {
      server.resume();
      await server.stop();
    }
  }, 30_000);

  it('refuses a timeoutMs that is not a positive number, as a configuration error', () => {
    for (const timeoutMs of [0, -1, Number.NaN, Infinity, '300' as unknown as number]) {
      expect(
        () => new RedisThrottlerStorage(redis(sharedRedisUrl()), { keyPrefix: prefix, timeoutMs }),
      ).toThrow(AuthConfigError);
    }
  });

  it('closes the connection it opened, and leaves a client passed in open with the listeners it had', async () => {
    const connectionName = `tessera-test-${randomBytes(4).toString('hex')}`;
    const { hostname, port } = new URL(sharedRedisUrl());
    const options = { host: hostname, port: Number(port || 6379), connectionName };
    const connections = async () =>
      ((await admin.client('LIST')) as string)
        .split('\n')
        .filter((line) => line.includes(` name=${connectionName} `)).length;
    const eventually = async (count: number) => {
      for (let i = 0; i < 200 && (await connections()) !== count; i++) await sleep(25);
      expect(await connections()).toBe(count);
    };

    const owned = new RedisThrottlerStorage(redis(options));
    // Nothing connects before the application has started.
    await sleep(200);
    expect(await connections()).toBe(0);
    owned.onApplicationBootstrap();
    await owned.increment('k', 60_000, 10, 0, 'default');
    expect(await connections()).toBe(1);
    await owned.onApplicationShutdown();
    await eventually(0);

    const client = new Redis(options);
    try {
      await client.ping();
      const listeners = () => client.listenerCount('error') + client.listenerCount('ready');
      const before = listeners();
      const given = new RedisThrottlerStorage(redis(client));
      given.onApplicationBootstrap();
      await given.increment('k', 60_000, 10, 0, 'default');
      await given.onApplicationShutdown();
      expect(await client.ping()).toBe('PONG');
      expect(listeners()).toBe(before);
    } finally {
      client.disconnect();
    }
  });
});
