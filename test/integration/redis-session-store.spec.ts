import { afterAll } from '@jest/globals';
import { RedisSessionStore } from '../../lib/session/redis-session-store.js';
import { describeSessionStore } from '../contracts/session-store.contract.js';
import { deleteKeys, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';

const prefix = uniquePrefix('sessions');
afterAll(() => deleteKeys(prefix));

describeSessionStore('Redis', async () => ({
  open: () => new RedisSessionStore({ connection: sharedRedisUrl(), keyPrefix: prefix }),
  now: () => Date.now() / 1000,
  advance: async (seconds) =>
    void (await new Promise((resolve) => setTimeout(resolve, seconds * 1000))),
  close: async () => undefined,
}));
