import { Redis } from 'ioredis';
import { afterAll } from '@jest/globals';
import { RedisSessionStore } from '../../lib/session/redis-session-store.js';
import { describeSessionStore } from '../contracts/session-store.contract.js';
import { deleteKeys, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';

const admin = new Redis(sharedRedisUrl(), { maxRetriesPerRequest: 1 });
afterAll(() => admin.quit());

describeSessionStore('Redis', async () => {
  // Each test's sessions under a prefix of their own, so that what they take up can be counted.
  const prefix = uniquePrefix('sessions');
  return {
    open: () => new RedisSessionStore({ connection: sharedRedisUrl(), keyPrefix: prefix }),
    now: () => Date.now() / 1000,
    advance: async (seconds) =>
      void (await new Promise((resolve) => setTimeout(resolve, seconds * 1000))),
    footprint: async () => {
      const keys = await admin.keys(`${prefix}*`);
      const sizes = await Promise.all(keys.map((key) => admin.memory('USAGE', key)));
      return { entries: keys.length, bytes: sizes.reduce<number>((a, b) => a + (b ?? 0), 0) };
    },
    close: () => deleteKeys(prefix),
  };
});
