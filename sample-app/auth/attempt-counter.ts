import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import type { RedisConnection } from 'nest-tessera/redis';

/**
 * What `take` answers: `admitted`, a place was taken; `busy`, `limit` places are held but not all
 * by failures (checks under way may give theirs back); `full`, `limit` failures hold them all.
 */
export interface Taken {
  readonly outcome: 'admitted' | 'busy' | 'full';
  /** Milliseconds until the window ends. */
  readonly msLeft: number;
  /** The window the place was taken in, for `giveBack`. */
  readonly window: string;
}

/** The counters could not be reached (Redis down): the attempt can be neither counted nor let in. */
export class AttemptsUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`attempt counters unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'AttemptsUnavailableError';
  }
}

/**
 * Places per key in fixed windows, taken before the work they limit: at most `limit` places are
 * ever held in one window, however many ask at once. A place is settled once the work is done: a
 * failure keeps it until the window ends, a success gives it back. A window starts with the first
 * place taken and ends `windowMs` later, whatever happens in it (its length is set once); a place
 * settled after its window ended changes nothing in the next one.
 */
export interface AttemptCounter {
  /** Takes one place of `key`, unless `limit` are already held in the current window. */
  take(key: string, limit: number, windowMs: number): Promise<Taken>;
  /** Settles a place `take` gave in `window`: kept as a failure, or given back. */
  settle(key: string, window: string, failed: boolean): Promise<void>;
  close(): Promise<void>;
}

/** `AttemptCounter` of one process; `now` (epoch milliseconds) for tests. */
export class MemoryAttemptCounter implements AttemptCounter {
  private readonly windows = new Map<
    string,
    { held: number; failed: number; endsAt: number; id: string }
  >();
  private nextSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async take(key: string, limit: number, windowMs: number): Promise<Taken> {
    const now = this.now();
    this.sweep(now);
    let window = this.windows.get(key);
    if (window === undefined || window.endsAt <= now) {
      window = { held: 0, failed: 0, endsAt: now + windowMs, id: randomUUID() };
      this.windows.set(key, window);
    }
    const outcome = window.failed >= limit ? 'full' : window.held >= limit ? 'busy' : 'admitted';
    if (outcome === 'admitted') window.held += 1;
    return { outcome, msLeft: window.endsAt - now, window: window.id };
  }

  async settle(key: string, window: string, failed: boolean): Promise<void> {
    const current = this.windows.get(key);
    if (current === undefined || current.id !== window || current.endsAt <= this.now()) return;
    if (failed) current.failed = Math.min(current.held, current.failed + 1);
    else current.held = Math.max(current.failed, current.held - 1);
  }

  async close(): Promise<void> {
    this.windows.clear();
  }

  /** Forgets ended windows (at most once a second), so that the map holds few others. */
  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + 1000;
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
  }
}

// KEYS[1]: a hash {h: places held, f: of them failures, w: the window's id}, expiring with the
// window (set once, when the window starts). ARGV: limit, window ms, a new window's id. Returns
// 0 admitted, 1 busy or 2 full; ms left; the window's id. One key, so one Cluster slot and one
// atomic step.
const TAKE = `
local w = redis.call('HGET', KEYS[1], 'w')
local left = redis.call('PTTL', KEYS[1])
if not w or left <= 0 then
  redis.call('DEL', KEYS[1])
  w = ARGV[3]
  redis.call('HSET', KEYS[1], 'h', 0, 'f', 0, 'w', w)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  left = tonumber(ARGV[2])
end
local limit = tonumber(ARGV[1])
if tonumber(redis.call('HGET', KEYS[1], 'f')) >= limit then return {2, left, w} end
if tonumber(redis.call('HGET', KEYS[1], 'h')) >= limit then return {1, left, w} end
redis.call('HINCRBY', KEYS[1], 'h', 1)
return {0, left, w}
`;

// KEYS[1] as above; ARGV: the window the place was taken in, 1 for a failure (else given back).
const SETTLE = `
if redis.call('HGET', KEYS[1], 'w') ~= ARGV[1] then return 0 end
local held = tonumber(redis.call('HGET', KEYS[1], 'h'))
local failed = tonumber(redis.call('HGET', KEYS[1], 'f'))
if ARGV[2] == '1' then
  if failed < held then redis.call('HINCRBY', KEYS[1], 'f', 1) end
elseif held > failed then
  redis.call('HINCRBY', KEYS[1], 'h', -1)
end
return 0
`;

const OUTCOMES = ['admitted', 'busy', 'full'] as const;

type Client = (Redis | Cluster) & {
  attemptTake(
    key: string,
    limit: number,
    windowMs: number,
    id: string,
  ): Promise<[number, number, string]>;
  attemptSettle(key: string, window: string, failed: string): Promise<number>;
};

/**
 * `AttemptCounter` in Redis, shared by every instance: one Lua script over one key per call. While
 * Redis cannot answer (within `timeoutMs`), every call fails with `AttemptsUnavailableError`: an
 * attempt that cannot be counted is not let in.
 */
export class RedisAttemptCounter implements AttemptCounter {
  private readonly client: Client;
  private readonly owned: boolean;

  /** `connection`: as `redis()` of `nest-tessera/redis` takes it; a client stays its owner's. */
  constructor(
    connection: RedisConnection,
    private readonly keyPrefix: string,
    timeoutMs = 2000,
  ) {
    const { client, owned } = openClient(connection, timeoutMs);
    client.on('error', () => undefined); // each failing call says so
    client.defineCommand('attemptTake', { numberOfKeys: 1, lua: TAKE });
    client.defineCommand('attemptSettle', { numberOfKeys: 1, lua: SETTLE });
    this.client = client as Client;
    this.owned = owned;
  }

  async take(key: string, limit: number, windowMs: number): Promise<Taken> {
    const [outcome, msLeft, window] = await this.guard(() =>
      this.client.attemptTake(this.name(key), limit, windowMs, randomUUID()),
    );
    return { outcome: OUTCOMES[outcome] ?? 'full', msLeft, window };
  }

  async settle(key: string, window: string, failed: boolean): Promise<void> {
    await this.guard(() => this.client.attemptSettle(this.name(key), window, failed ? '1' : '0'));
  }

  async close(): Promise<void> {
    if (this.owned) this.client.disconnect();
  }

  private name(key: string): string {
    return `${this.keyPrefix}${key}`;
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new AttemptsUnavailableError(error);
    }
  }
}

/**
 * A client for `connection` that connects on its first command, gives up on a command after
 * `timeoutMs` and on a queued one after one failed reconnection; a client passed in is used as is.
 */
function openClient(
  connection: RedisConnection,
  timeoutMs: number,
): { client: Redis | Cluster; owned: boolean } {
  if (connection instanceof Redis || connection instanceof Cluster) {
    return { client: connection, owned: false };
  }
  const options = { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: timeoutMs };
  if (typeof connection === 'string')
    return { client: new Redis(connection, options), owned: true };
  if ('cluster' in connection) {
    const { nodes, options: cluster } = connection.cluster;
    return {
      client: new Cluster([...nodes], {
        ...cluster,
        lazyConnect: true,
        redisOptions: { ...cluster?.redisOptions, ...options },
      }),
      owned: true,
    };
  }
  return { client: new Redis({ ...connection, ...options }), owned: true };
}
