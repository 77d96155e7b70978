import type { Cluster, Redis } from 'ioredis';
import type { DpopReplayCache } from '../dpop/dpop-replay-cache.js';
import {
  firstConnection,
  openRedis,
  type RedisConnection,
} from '../revocation/redis-connection.js';

/** Options of `RedisDpopReplayCache`. */
export interface RedisDpopReplayCacheOptions {
  /** How to reach Redis; a client passed in is used as is and not closed by the cache. */
  readonly connection: RedisConnection;
  /**
   * Prefix of its keys; in a Cluster any prefix works (each proof is one key).
   * @default '{tessera}:dpop:'
   */
  readonly keyPrefix?: string;
}

/**
 * The DPoP proofs every instance sharing one Redis has accepted: one `SET NX` per proof, expiring
 * when the proof's `iat` window has passed. While Redis is down a command rejects at once
 * (connections opened here queue nothing); the verifier decides what that means.
 */
export class RedisDpopReplayCache implements DpopReplayCache {
  private readonly client: Redis | Cluster;
  private readonly owned: boolean;
  private readonly keyPrefix: string;

  constructor(options: RedisDpopReplayCacheOptions) {
    const { client, owned } = openRedis(options.connection);
    this.client = client;
    this.owned = owned;
    this.keyPrefix = options.keyPrefix ?? '{tessera}:dpop:';
  }

  async remember(key: string, expiresAt: number): Promise<boolean> {
    // A connection still being made is waited for (briefly); one that was up and is down is not.
    if (this.client.status !== 'ready') await firstConnection(this.client, 1000);
    const answer = await this.client.set(
      `${this.keyPrefix}${key}`,
      '1',
      'EXAT',
      Math.ceil(expiresAt),
      'NX',
    );
    return answer === 'OK';
  }

  /** Whether Redis answers now. */
  get isCurrent(): boolean {
    return this.client.status === 'ready';
  }

  async close(): Promise<void> {
    if (this.owned) this.client.disconnect();
  }
}
