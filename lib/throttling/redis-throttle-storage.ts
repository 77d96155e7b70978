import type { Cluster, Redis } from 'ioredis';
import {
  firstConnection,
  openRedis,
  type RedisConnection,
} from '../revocation/redis-connection.js';
import { windowRecord, type ThrottleStorage, type WindowRecord } from './throttle-storage.js';

export interface RedisThrottleStorageOptions {
  /** How to reach Redis; a client passed in is used as is and not closed by the storage. */
  readonly connection: RedisConnection;
  /** @default '{tessera}:throttle:' */
  readonly keyPrefix?: string;
}

// One round trip, atomic: count the hit and start the window's clock on its first hit.
const HIT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {hits, ttl}
`;

/**
 * Fixed-window counters in Redis, so a consumer's limit holds across every instance: one Lua
 * script over ioredis, with the connection settings (fail fast, reconnect with backoff) of the
 * library's other Redis stores.
 */
export class RedisThrottleStorage implements ThrottleStorage {
  private readonly client: (Redis | Cluster) & {
    tesseraThrottleHit(key: string, windowMs: number): Promise<[number, number]>;
  };
  private readonly owned: boolean;
  private readonly prefix: string;
  private connectedOnce = false;
  // Removed at close: a client passed in outlives the storage.
  private readonly onError = () => undefined; // a failing increment rejects; the guard decides
  private readonly onReady = () => (this.connectedOnce = true);

  constructor(options: RedisThrottleStorageOptions) {
    const { client, owned } = openRedis(options.connection);
    client.defineCommand('tesseraThrottleHit', { numberOfKeys: 1, lua: HIT });
    client.on('error', this.onError);
    if (client.status === 'ready') this.connectedOnce = true;
    else client.once('ready', this.onReady);
    this.client = client as typeof this.client;
    this.owned = owned;
    this.prefix = options.keyPrefix ?? '{tessera}:throttle:';
  }

  async increment(key: string, windowMs: number): Promise<WindowRecord> {
    // Only the very first connection is waited for. Once Redis has been reached, a hit while it
    // is down again fails at once (and the request goes through), even while the client is
    // `connecting` between two reconnection attempts, which firstConnection would wait out.
    if (!this.connectedOnce) await firstConnection(this.client);
    const [hits, msLeft] = await this.client.tesseraThrottleHit(`${this.prefix}${key}`, windowMs);
    return windowRecord(hits, msLeft);
  }

  async close(): Promise<void> {
    this.client.off('error', this.onError);
    this.client.off('ready', this.onReady);
    if (this.owned) this.client.disconnect();
  }
}
