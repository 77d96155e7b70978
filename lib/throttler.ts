// The nest-tessera/throttler entry: what Tessera adds to @nestjs/throttler (an optional peer
// dependency that the main entry and nest-tessera/redis never load). docs/throttling.md says how
// to wire it.

export { ConsumerThrottlerGuard } from './throttler/consumer-throttler.guard.js';
export { ThrottledRequestError } from './throttler/throttled-request.error.js';
export { MemoryThrottlerStorage } from './throttler/memory-throttler-storage.js';
export { RedisThrottlerStorage } from './throttler/redis-throttler-storage.js';
export type { RedisThrottlerStorageOptions } from './throttler/throttler-counters.js';
export {
  ThrottlerStorageUnavailableError,
  type ThrottlerStorageUnavailableReason,
} from './throttler/throttler-storage-unavailable.error.js';
