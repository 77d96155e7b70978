// The nest-tessera/redis entry: everything that needs ioredis, an optional peer dependency that
// the main entry never loads.

export { redis } from './redis/ioredis-backend.js';
export type { RedisConnection } from './revocation/redis-connection.js';

// Revocation
export { RedisRevocationStore } from './revocation/redis-revocation-store.js';
export type { RedisRevocationStoreOptions } from './revocation/redis-revocation-store.js';
export type { RedisRevocationEvents } from './revocation/redis-revocation-events.js';

// Sessions and refresh tokens (issuer side)
export { RedisSessionStore } from './session/redis-session-store.js';
export type { RedisSessionStoreOptions } from './session/redis-session-store.js';

// DPoP proofs accepted (replays refused), shared by every instance
export { RedisDpopReplayCache } from './redis/redis-dpop-replay-cache.js';
export type { RedisDpopReplayCacheOptions } from './redis/redis-dpop-replay-cache.js';
