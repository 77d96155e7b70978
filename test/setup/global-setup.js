import {
  freePort,
  hasRedisServerBinary,
  redisAnswers,
  startRedisProcess,
} from '../support/redis-process.js';

/**
 * Finds the Redis the tests share: REDIS_URL if set, else one on 127.0.0.1:6379, else a
 * redis-server started here on a free port. Without any, the run stops with one clear line.
 */
export default async function globalSetup() {
  if (process.env.TESSERA_TEST_REDIS_URL) return;
  if (process.env.REDIS_URL) {
    process.env.TESSERA_TEST_REDIS_URL = process.env.REDIS_URL;
    return;
  }
  if (await redisAnswers(6379)) {
    process.env.TESSERA_TEST_REDIS_URL = 'redis://127.0.0.1:6379';
    return;
  }
  if (!hasRedisServerBinary()) {
    throw new Error(
      'The tests need Redis: nothing answers on 127.0.0.1:6379 and there is no redis-server to start (install redis-server or set REDIS_URL).',
    );
  }
  const port = await freePort();
  globalThis.__tesseraRedis = await startRedisProcess(port);
  process.env.TESSERA_TEST_REDIS_URL = `redis://127.0.0.1:${port}`;
}
