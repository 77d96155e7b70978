import { killRedisProcess } from '../support/redis-process.js';

export default async function globalTeardown() {
  await killRedisProcess(globalThis.__tesseraRedis);
}
