import type { Cluster, Redis } from 'ioredis';
import { AuthConfigError } from '../errors/auth-errors.js';
import {
  throttlerCount,
  windowArguments,
  type RedisThrottlerStorageOptions,
  type ThrottlerCount,
  type ThrottlerCounters,
} from '../throttler/throttler-counters.js';
import { DEFAULT_THROTTLER_TIMEOUT_MS, FailOpenGate } from './fail-open-gate.js';

/** The default prefix: no hash tag of its own, so a Cluster spreads the keys over its nodes. */
const DEFAULT_THROTTLER_PREFIX = 'tessera:throttle:';

// One round trip, atomic (ThrottlerCounters says what it does). KEYS[1] counts the window's hits,
// KEYS[2] marks a block; ARGV: window ms, limit, block ms. Returns hits, ms left in the window,
// blocked (0/1), ms left in the block.
const HIT = `
local blockLeft = redis.call('PTTL', KEYS[2])
if blockLeft > 0 then
  return {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('PTTL', KEYS[1]), 1, blockLeft}
end
local ttl = tonumber(ARGV[1])
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ttl) end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then redis.call('PEXPIRE', KEYS[1], ttl); left = ttl end
if hits <= tonumber(ARGV[2]) then return {hits, left, 0, 0} end
local block = tonumber(ARGV[3])
if block <= 0 then return {hits, left, 1, left} end
redis.call('SET', KEYS[2], '1', 'PX', block)
redis.call('PEXPIRE', KEYS[1], block)
return {hits, block, 1, block}
`;

type Client = (Redis | Cluster) & {
  tesseraThrottlerHit(
    windowKey: string,
    blockKey: string,
    ttlMs: number,
    limit: number,
    blockMs: number,
  ): Promise<[number, number, number, number]>;
};

/**
 * The hash tag of a key's two Redis keys, so that the script's keys share a Cluster slot: the key
 * itself where it can be one, else its base64url (Redis ends a tag at the first `}`, and an empty
 * tag hashes the whole name); `b64:` marks the encoded ones, so no two keys share a tag.
 */
function hashTag(key: string): string {
  const plain = key !== '' && !/[{}]/.test(key) && !key.startsWith('b64:');
  return `{${plain ? key : `b64:${Buffer.from(key).toString('base64url')}`}}`;
}

/**
 * `ThrottlerCounters` in Redis: one Lua script over ioredis per hit, on a connection of the
 * module's `redis` backend. While Redis cannot count (not connected, no answer within
 * `timeoutMs`, an error), every hit is let through at once (a throttle that cannot count must not
 * refuse everyone), and counting resumes when it answers again (`FailOpenGate`).
 */
export class RedisThrottlerCounters implements ThrottlerCounters {
  private readonly client: Client;
  private readonly prefix: string;
  private readonly gate: FailOpenGate;
  // Removed at close: a client passed in outlives the counters.
  private readonly onError = () => undefined; // a failing hit is let through

  constructor(options: RedisThrottlerStorageOptions & { readonly client: Redis | Cluster }) {
    const prefix = options.keyPrefix ?? DEFAULT_THROTTLER_PREFIX;
    // A prefix whose first `{` opens an empty tag would send a key's two names to two slots.
    if (/^[^{]*\{\}/.test(prefix)) {
      throw new AuthConfigError(`throttler keyPrefix "${prefix}" opens an empty hash tag`);
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_THROTTLER_TIMEOUT_MS;
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      throw new AuthConfigError(
        `throttler timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`,
      );
    }
    const client = options.client;
    client.defineCommand('tesseraThrottlerHit', { numberOfKeys: 2, lua: HIT });
    client.on('error', this.onError);
    this.client = client as Client;
    this.prefix = prefix;
    this.gate = new FailOpenGate(client, { timeoutMs, onUnavailable: options.onUnavailable });
  }

  get available(): boolean {
    return this.gate.available;
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerCount> {
    const { ttlMs, limit: max, blockMs } = windowArguments(ttl, limit, blockDuration);
    const name = `${this.prefix}${hashTag(key)}:${throttlerName}`;
    const reply = await this.gate.run(() =>
      this.client.tesseraThrottlerHit(name, `${name}:block`, ttlMs, max, blockMs),
    );
    if (reply === undefined) return throttlerCount(0, ttlMs, false, 0);
    const [hits, msLeft, blocked, msBlocked] = reply;
    return throttlerCount(hits, msLeft, blocked === 1, msBlocked);
  }

  async close(): Promise<void> {
    this.client.off('error', this.onError);
    this.gate.close();
  }
}
