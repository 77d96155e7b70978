import { Cluster, type Redis } from 'ioredis';
import { BreakerOpenError, CircuitBreaker } from '../resilience/circuit-breaker.js';
import { answerWithin } from '../util/answer-within.js';
import {
  firstConnection,
  openRedis,
  requireHashTag,
  type RedisConnection,
} from './redis-connection.js';
import { revocationChannel, type RevocationChannel } from './revocation-channel.js';
import {
  decodeEntry,
  DEFAULT_REVOCATION_CLOCK_TOLERANCE_SECONDS,
  encodeEntry,
  issuedEntry,
  querySubjectId,
  subjectId,
  type RevocationEntry,
  type RevocationQuery,
  type RevokedSubject,
} from './revocation-entry.js';
import type { RedisRevocationEvents } from './redis-revocation-events.js';
import { RevocationSet } from './revocation-set.js';
import {
  RevocationUnavailableError,
  type RevocationStore,
  type RevocationStoreHealth,
} from './revocation-store.js';

export interface RedisRevocationStoreOptions {
  /** How to reach Redis; a client passed in is used as is and not closed by the store. */
  readonly connection: RedisConnection;
  /**
   * Prefix of every key and of the pub/sub channel. In a Cluster it must contain a hash tag so
   * every key lands in one slot.
   * @default '{tessera}:revocation:'
   */
  readonly keyPrefix?: string;
  readonly events?: RedisRevocationEvents;
  /** Epoch seconds. @default () => Date.now() / 1000 */
  readonly now?: () => number;
  /**
   * Seconds an entry is kept past the `until` it is given: at least the verifiers' clock
   * tolerance, during which they still accept a token past its `exp`.
   * @default 300
   */
  readonly clockToleranceSeconds?: number;
}

// One round trip, atomic: store the entry with its own expiry, index it for snapshots, prune the
// index, and tell every instance. A subject keeps the latest issuedBefore and the longest expiry.
// KEYS: the entry, the index, the channel (a shard channel is a key of its slot on a Cluster).
// ARGV: kind, id, expiry, issuedBefore, now, publish command, encoded entry.
const REVOKE = `
local exp = tonumber(ARGV[3])
if ARGV[1] == 'subject' then
  local before = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), tonumber(ARGV[4]))
  local ttl = redis.call('TTL', KEYS[1])
  if ttl > 0 then exp = math.max(exp, tonumber(ARGV[5]) + ttl) end
  redis.call('SET', KEYS[1], before, 'EXAT', exp)
else
  redis.call('SET', KEYS[1], '1', 'EXAT', exp)
end
redis.call('ZADD', KEYS[2], exp, ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
redis.call(ARGV[6], KEYS[3], ARGV[7])
return 1
`;

const KEY_LETTER = { token: 't', session: 's', subject: 'u' } as const;
const RETRY_MS = 1000;
/**
 * Longest wait for a replica to confirm a revocation, on a topology with replicas (Sentinel,
 * Cluster). A revocation no replica confirmed in time is not acknowledged: the call rejects,
 * though the entry is written on the master, honoured locally and written again until confirmed.
 */
const REPLICA_ACK_MS = 250;
/** Entries written back per round trip (one pipeline, one WAIT). */
const WRITE_BACK_BATCH = 100;
/** Index members read per command while loading the view. */
const SNAPSHOT_PAGE = 10_000;
/** How long one health check's PING answers the checks that follow it. */
const HEALTH_REUSE_MS = 1000;
/** Longest wait for Redis's answer to a health check's PING. */
const HEALTH_TIMEOUT_MS = 1000;

/** Options of stores that open nothing until their `start` is called, by `startLater()`. */
const startsLater = new WeakSet<RedisRevocationStoreOptions>();
const starts = new WeakMap<RedisRevocationStore, () => void>();

/**
 * A store that opens no connection of its own (its pub/sub) and loads nothing until `start()`:
 * the one AuthModule builds while the application is being created, which must leave nothing open
 * if the application then fails to start.
 */
export function startLater(options: RedisRevocationStoreOptions): {
  store: RedisRevocationStore;
  start: () => void;
} {
  const deferred = { ...options };
  startsLater.add(deferred);
  const store = new RedisRevocationStore(deferred);
  return { store, start: starts.get(store)! };
}

/**
 * The revocation list in Redis, shared by every instance. Each instance answers checks from a
 * local view, kept current by pub/sub and reconciled with a snapshot on every (re)connect, so a
 * message missed while disconnected is not a revocation lost; entries the instance knows but
 * Redis lost (a restart without persistence) are written back.
 */
export class RedisRevocationStore implements RevocationStore {
  private readonly view: RevocationSet;
  private readonly client: Redis | Cluster;
  private readonly channel: RevocationChannel;
  private readonly ownsClient: boolean;
  /** Whether writes wait for a replica's confirmation (Sentinel, Cluster). */
  private readonly replicated: boolean;
  private readonly prefix: string;
  private readonly channelName: string;
  private readonly indexKey: string;
  private readonly breaker: CircuitBreaker;
  private readonly now: () => number;
  private readonly pending = new Map<string, RevocationEntry>();
  private current = false;
  private started = false;
  private closed = false;
  /** The latest health PING: when it was sent, and its outcome. */
  private lastPing:
    { at: number; pending: boolean; outcome: Promise<string | undefined> } | undefined;
  /** Past the first connection, a command never waits for a reconnection: the breaker decides. */
  private connectedOnce = false;
  /** While writes are deferred or the view is stale: the next attempt to repair either. */
  private retryTimer: NodeJS.Timeout | undefined;
  private firstReconcile: Promise<void>;
  private resolveFirst!: () => void;
  // The main client's listeners, removed at close: a client passed in outlives the store.
  private readonly onClientError = () => undefined; // surfaced through the breaker and view state
  private readonly onClientClose = () => this.breaker.trip();
  private readonly onClientReady = () => {
    if (this.closed) return;
    this.connectedOnce = true;
    this.breaker.reset();
    if (!this.started) return;
    if (!this.channel.started)
      this.channel.start(); // its subscription reconciles
    else if (this.current) void this.flushPending();
    else void this.reconcile();
  };

  constructor(private readonly options: RedisRevocationStoreOptions) {
    this.now = options.now ?? (() => Date.now() / 1000);
    this.view = new RevocationSet(this.now);
    this.prefix = options.keyPrefix ?? '{tessera}:revocation:';
    this.channelName = `${this.prefix}events`;
    this.indexKey = `${this.prefix}index`;
    this.breaker = new CircuitBreaker({
      onStateChange: (state) => options.events?.breakerStateChanged?.({ state }),
    });
    this.firstReconcile = new Promise((resolve) => (this.resolveFirst = resolve));
    requireHashTag(options.connection, this.prefix, 'revocation');
    const { client, owned } = openRedis(options.connection);
    this.client = client;
    this.ownsClient = owned;
    this.replicated = client instanceof Cluster || (client.options.sentinels?.length ?? 0) > 0;
    this.client.defineCommand('tesseraRevoke', { numberOfKeys: 3, lua: REVOKE });
    this.client.on('error', this.onClientError);
    this.client.on('close', this.onClientClose);
    this.client.on('ready', this.onClientReady);
    this.connectedOnce = this.client.status === 'ready';
    // Started once the main client is ready (and the store started); each subscription reconciles.
    this.channel = revocationChannel(this.client, this.channelName, {
      message: (message) => this.onMessage(message),
      subscribed: () => void this.reconcile(),
      lost: () => this.setCurrent(false),
    });
    if (startsLater.has(options)) starts.set(this, () => this.start());
    else this.start();
  }

  private start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    if (this.client.status === 'ready') this.channel.start();
  }

  /** Resolves once the local view has been loaded from Redis for the first time. */
  ready(): Promise<void> {
    return this.firstReconcile;
  }

  get isCurrent(): boolean {
    return this.current;
  }

  revokeToken(jti: string, expiresAt: number, issuer?: string): Promise<void> {
    return this.revoke(issuedEntry('token', jti, issuer, this.keptUntil(expiresAt)));
  }

  revokeSession(sid: string, expiresAt: number, issuer?: string): Promise<void> {
    return this.revoke(issuedEntry('session', sid, issuer, this.keptUntil(expiresAt)));
  }

  revokeSubject(
    { issuer, subject }: RevokedSubject,
    issuedBefore: number,
    expiresAt: number,
  ): Promise<void> {
    return this.revoke({
      kind: 'subject',
      id: subjectId(issuer, subject),
      issuedBefore,
      expiresAt: this.keptUntil(expiresAt),
    });
  }

  isRevoked(query: RevocationQuery): boolean {
    return this.view.matches(query);
  }

  async isRevokedStrong(query: RevocationQuery): Promise<boolean> {
    if (this.view.matches(query)) return true;
    const { jti = '', sid = '', iss } = query;
    const keys = [
      this.key({ kind: 'subject', id: querySubjectId(query) ?? '' }),
      this.key({ kind: 'token', id: jti }),
      this.key({ kind: 'session', id: sid }),
      ...(iss === undefined
        ? []
        : [
            this.key({ kind: 'token', id: jti, issuer: iss }),
            this.key({ kind: 'session', id: sid, issuer: iss }),
          ]),
    ];
    const [subject, ...ids] = await this.call(() => this.client.mget(...keys));
    if (ids.some((value) => value !== null)) return true;
    return subject !== null && query.iat !== undefined && query.iat < Number(subject);
  }

  /**
   * PINGs Redis on the store's connection, within a second and around the circuit breaker (a
   * health check neither trips nor resets it), and says whether the local view is current: a
   * view being reloaded after a reconnection may still miss revocations made meanwhile.
   */
  health(): Promise<RevocationStoreHealth> {
    if (!this.started || this.closed) {
      const error = this.closed ? 'closed' : 'not started';
      return Promise.resolve({ reachable: false, current: false, error });
    }
    // One PING at a time, and while the view is current its answer is reused for a second:
    // however often a health endpoint is polled (it is public), a healthy Redis sees at most
    // one PING per second from here. A view that is not current asks again at once.
    const now = performance.now();
    const current = this.current;
    const reusable =
      this.lastPing !== undefined &&
      (this.lastPing.pending || (current && now - this.lastPing.at < HEALTH_REUSE_MS));
    if (!reusable) {
      const ping = { at: now, pending: true, outcome: this.ping() };
      void ping.outcome.then(() => (ping.pending = false));
      this.lastPing = ping;
    }
    return this.lastPing!.outcome.then((unreachable) => {
      if (unreachable !== undefined) return { reachable: false, current, error: unreachable };
      if (current) return { reachable: true, current };
      return { reachable: true, current, error: 'the local view is being reloaded from Redis' };
    });
  }

  /** Undefined when Redis answered a PING in time, else why not. */
  private async ping(): Promise<string | undefined> {
    try {
      await answerWithin(this.client.ping(), HEALTH_TIMEOUT_MS);
      return undefined;
    } catch (error) {
      return `Redis did not answer: ${(error as Error).message}`;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.client.off('error', this.onClientError);
    this.client.off('close', this.onClientClose);
    this.client.off('ready', this.onClientReady);
    this.channel.close();
    if (this.ownsClient) this.client.disconnect();
  }

  private async revoke(entry: RevocationEntry): Promise<void> {
    if (entry.expiresAt <= this.now()) return;
    this.view.add(entry); // honoured here at once, whatever happens to the write
    try {
      await this.write(entry);
    } catch (error) {
      this.pending.set(encodeEntry(entry), entry);
      this.options.events?.writeDeferred?.({ entry, error: error as Error });
      this.scheduleRetry();
      throw error;
    }
  }

  /** Writes one entry; rejects unless Redis took it and, with replicas, a replica confirmed it. */
  private async write(entry: RevocationEntry): Promise<void> {
    if (!(await this.writeBatch([entry]))) {
      throw new RevocationUnavailableError(
        `revocation store unavailable: no replica confirmed the write within ${REPLICA_ACK_MS} ms`,
      );
    }
  }

  /**
   * Writes entries in one round trip, atomically each: one pipeline, routed by the scripts' keys
   * (every key shares the prefix's slot), ended on a replicated topology by one WAIT on the node
   * that wrote. Rejects if Redis refused any; else resolves to whether a replica confirmed them
   * (always true without replicas).
   */
  private async writeBatch(entries: readonly RevocationEntry[]): Promise<boolean> {
    const replies = await this.call(async () => {
      const pipeline = this.client.pipeline() as unknown as Chained;
      for (const entry of entries) pipeline.tesseraRevoke(...this.revokeArguments(entry));
      if (this.replicated) pipeline.wait(1, REPLICA_ACK_MS);
      const replies = await pipeline.exec();
      const failed = replies?.find(([error]) => error !== null)?.[0];
      if (replies === null || failed) throw failed ?? new Error('revocation write not run');
      return replies;
    });
    // Outside the breaker: a master without a replica in sync is up, and reads still work.
    return !this.replicated || Number(replies.at(-1)?.[1]) >= 1;
  }

  private revokeArguments(entry: RevocationEntry): unknown[] {
    return [
      this.key(entry),
      this.indexKey,
      this.channelName,
      entry.kind,
      entry.id,
      entry.expiresAt,
      entry.kind === 'subject' ? entry.issuedBefore : 0,
      Math.floor(this.now()),
      this.channel.publishCommand,
      encodeEntry(entry),
    ];
  }

  /** Runs a Redis command through the breaker; any failure is a `RevocationUnavailableError`. */
  private async call<T>(command: () => Promise<T>): Promise<T> {
    if (!this.connectedOnce) await firstConnection(this.client);
    try {
      return await this.breaker.run(command);
    } catch (error) {
      const why = error instanceof BreakerOpenError ? 'circuit open' : (error as Error).message;
      throw new RevocationUnavailableError(`revocation store unavailable: ${why}`, {
        cause: error,
      });
    }
  }

  /** Loads the snapshot into the view, then writes back what Redis does not have. */
  private async reconcile(): Promise<void> {
    if (this.closed) return;
    try {
      const inRedis = new RevocationSet(this.now);
      for await (const members of this.snapshot()) {
        if (this.closed) return;
        for (const member of members) {
          const entry = decodeEntry(member);
          if (entry === undefined) continue;
          inRedis.add(entry);
          this.view.add(entry);
        }
      }
      for (const entry of this.view.entries()) {
        if (!inRedis.has(entry)) this.pending.set(encodeEntry(entry), entry);
      }
      if (!(await this.flushPending())) throw new Error('write-back failed');
      // The subscription dropped meanwhile: messages may be missed until the next one reconciles.
      if (!this.channel.subscribed) throw new Error('not subscribed');
      this.setCurrent(true);
      this.resolveFirst();
    } catch {
      // Still disconnected (the next 'ready' reconciles again), or Redis refuses writes on a
      // connection that stays up (no 'ready' will come): the retry timer tries again.
      this.setCurrent(false);
      this.scheduleRetry();
    }
  }

  /**
   * The index's live members, a page per command: one reply of a million members outlasts the
   * command timeout (and would stall the event loop while parsed). Pages follow the score (the
   * expiry), skipping the members of the last score already read: a member added meanwhile at that
   * score may be read twice (adding is idempotent), and members of a score are removed only
   * together, once expired. Members added at a lower score arrive by pub/sub, subscribed first.
   */
  private async *snapshot(): AsyncGenerator<string[]> {
    let min = Math.floor(this.now());
    let readAtMin = 0;
    for (;;) {
      const reply = await this.client.zrangebyscore(
        this.indexKey,
        min,
        '+inf',
        'WITHSCORES',
        'LIMIT',
        readAtMin,
        SNAPSHOT_PAGE,
      );
      const members: string[] = [];
      for (let i = 0; i < reply.length; i += 2) {
        const score = Number(reply[i + 1]);
        if (score === min) readAtMin++;
        else [min, readAtMin] = [score, 1];
        members.push(reply[i]);
      }
      yield members;
      if (members.length < SNAPSHOT_PAGE) return;
      await yieldToEventLoop(); // requests and messages run between pages
    }
  }

  /**
   * Repairs what connection events alone cannot: a write Redis refused on a live connection
   * (`READONLY` after a failover, `OOM`, `NOREPLICAS`, the breaker open) is written, and a stale
   * view reconciled, once Redis accepts them again. Once a second while either remains.
   */
  private scheduleRetry(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.retry();
    }, RETRY_MS);
    this.retryTimer.unref();
  }

  private async retry(): Promise<void> {
    if (this.closed) return;
    if (!this.current) return this.reconcile(); // schedules again if it fails
    if (!(await this.flushPending())) this.scheduleRetry();
  }

  /**
   * Writes deferred entries, a batch per round trip; resolves to false at the first batch Redis
   * refused, keeping the rest for next time. Entries written but not yet confirmed by a replica
   * stay deferred too (the retry timer writes them again), without failing the flush: Redis has
   * them, so the view can be current.
   */
  private async flushPending(): Promise<boolean> {
    const now = this.now();
    const due: [string, RevocationEntry][] = [];
    for (const [member, entry] of this.pending) {
      if (entry.expiresAt > now) due.push([member, entry]);
      else this.pending.delete(member);
    }
    let unconfirmed = false;
    for (let from = 0; from < due.length; from += WRITE_BACK_BATCH) {
      const batch = due.slice(from, from + WRITE_BACK_BATCH);
      try {
        if (!(await this.writeBatch(batch.map(([, entry]) => entry)))) {
          unconfirmed = true;
          continue;
        }
      } catch {
        return false;
      }
      for (const [member] of batch) this.pending.delete(member);
    }
    if (unconfirmed) this.scheduleRetry();
    return true;
  }

  private onMessage(message: string): void {
    const entry = decodeEntry(message);
    if (entry !== undefined) this.view.add(entry);
  }

  private setCurrent(current: boolean): void {
    if (this.current === current) return;
    this.current = current;
    this.options.events?.viewStateChanged?.({ current, entries: this.view.size });
  }

  private keptUntil(expiresAt: number): number {
    return Math.ceil(
      expiresAt +
        (this.options.clockToleranceSeconds ?? DEFAULT_REVOCATION_CLOCK_TOLERANCE_SECONDS),
    );
  }

  /** An entry's key: of one issuer, under the upper-case letter and the issuer and id joined. */
  private key(entry: { kind: RevocationEntry['kind']; id: string; issuer?: string }): string {
    const letter = KEY_LETTER[entry.kind];
    if (entry.issuer === undefined) return `${this.prefix}${letter}:${entry.id}`;
    return `${this.prefix}${letter.toUpperCase()}:${subjectId(entry.issuer, entry.id)}`;
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

type Chained = {
  tesseraRevoke(...args: unknown[]): Chained;
  wait(replicas: number, timeoutMs: number): Chained;
  exec(): Promise<[Error | null, unknown][] | null>;
};
