import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { Redis } from 'ioredis';
import { AuthConfigError, RevocationUnavailableError } from 'nest-tessera';
import { redis, type RedisConnection } from 'nest-tessera/redis';
import { RedisRevocationStore } from '../../lib/revocation/redis-revocation-store.js';
import { RedisSessionStore } from '../../lib/session/redis-session-store.js';
import { describeRevocationStore } from '../contracts/revocation-store.contract.js';
import { describeSessionStore } from '../contracts/session-store.contract.js';
import { describeThrottlerStorage } from '../contracts/throttler-storage.contract.js';
import { topologiesUnavailable } from '../support/redis-topologies.js';

// Every Redis feature on a replicated topology, through the one connection option a user gives:
// the stores' contracts, the revocation list's fan-out, and a failover that loses nothing.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => Date.now() / 1000;

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** A connection to one node of the topology, for what only a node's own commands can do. */
async function withNode<T>(port: number, use: (node: Redis) => Promise<T>): Promise<T> {
  const node = new Redis({ port, host: '127.0.0.1' });
  try {
    return await use(node);
  } finally {
    node.disconnect();
  }
}

/** How many replicas are connected to the master `node`. */
async function connectedReplicas(node: Redis): Promise<number> {
  return Number(/connected_slaves:(\d+)/.exec(await node.info('replication'))?.[1]);
}

/** A running topology, as the suite uses it. */
export interface TopologyUnderTest {
  /** The connection option a user gives for it. */
  readonly connection: RedisConnection;
  /** The data node (master) that holds `key` now. */
  master(key: string): Promise<number>;
  /** Its replica. */
  replicaOf(master: number): Promise<number>;
  /** SIGSTOP / SIGCONT / SIGKILL of a data node. */
  pause(port: number): void;
  resume(port: number): void;
  kill(port: number): Promise<void>;
  /** Starts a killed data node again, empty; resolves once it is a replica in sync. */
  restart(port: number): Promise<void>;
  /** Resolves once a replica has taken over `key`'s slot from `from`. */
  failedOver(key: string, from: number): Promise<void>;
  stop(): Promise<void>;
}

/** The suite for one topology, started once for the spec file. */
export function describeTopology(name: string, start: () => Promise<TopologyUnderTest>): void {
  if (topologiesUnavailable !== undefined) {
    describe.skip(`Redis ${name}: ${topologiesUnavailable}`, () => it('runs', () => undefined));
    return;
  }
  let topology: TopologyUnderTest;
  beforeAll(async () => (topology = await start()), 60_000);
  afterAll(() => topology?.stop());

  const suite = randomBytes(4).toString('hex');
  const tagged = (part: string) => `{tessera-${suite}-${part}}:`;
  let fixtures = 0;

  describeRevocationStore(`Redis ${name}`, async () => {
    const store = new RedisRevocationStore({
      connection: topology.connection,
      keyPrefix: tagged(`contract-${++fixtures}`),
      clockToleranceSeconds: 0,
    });
    await store.ready();
    return {
      store,
      now,
      advance: async (seconds) => void (await sleep(seconds * 1000)),
      close: () => store.close(),
    };
  });

  describeSessionStore(`Redis ${name}`, async () => {
    const keyPrefix = tagged(`sessions-${++fixtures}`);
    return {
      open: () => new RedisSessionStore({ connection: topology.connection, keyPrefix }),
      now,
      advance: async (seconds) => void (await sleep(seconds * 1000)),
      // Every key under the prefix is in its tag's slot: the master that serves it holds them all.
      footprint: async () => {
        const admin = new Redis({ port: await topology.master(keyPrefix), host: '127.0.0.1' });
        try {
          const keys = await admin.keys(`${keyPrefix.replace(/[{}]/g, '\\$&')}*`);
          const sizes = await Promise.all(keys.map((key) => admin.memory('USAGE', key)));
          return { entries: keys.length, bytes: sizes.reduce<number>((a, b) => a + (b ?? 0), 0) };
        } finally {
          admin.disconnect();
        }
      },
      close: async () => undefined,
    };
  });

  describeThrottlerStorage(`Redis ${name}`, async () => {
    // The counters RedisThrottlerStorage builds on `redis()`, without @nestjs/throttler itself.
    const connection = redis(topology.connection).open();
    const counters = connection.throttlerCounters({
      keyPrefix: `tessera-${suite}-throttle-${++fixtures}:`,
      // What is tested is the counting; a loaded machine must not make a hit go uncounted.
      timeoutMs: 5000,
    });
    connection.connect();
    return {
      storage: counters as unknown as ThrottlerStorage,
      advance: async (ms) => void (await sleep(ms)),
      close: () => connection.close(),
    };
  });

  describe(`Redis ${name}: the revocation list across instances`, () => {
    const open: RedisRevocationStore[] = [];
    const store = (keyPrefix: string) => {
      const s = new RedisRevocationStore({ connection: topology.connection, keyPrefix });
      open.push(s);
      return s;
    };
    afterEach(async () => void (await Promise.all(open.splice(0).map((s) => s.close()))));

    it('tells every instance of a revocation within a second', async () => {
      const p = tagged('fan-out');
      const [a, b] = [store(p), store(p)];
      await Promise.all([a.ready(), b.ready()]);
      await a.revokeSession('s-1', now() + 60);
      await until(() => b.isRevoked({ sid: 's-1' }), 1000);
      expect(b.isRevoked({ sid: 's-2' })).toBe(false);
    });

    it('writes back, a batch per round trip, every entry a Redis restarted empty lost', async () => {
      const p = tagged('write-back');
      const a = store(p);
      await a.ready();
      const jtis = Array.from({ length: 500 }, (_, i) => `t-${i}`);
      await Promise.all(jtis.map((jti) => a.revokeToken(jti, now() + 600)));
      await withNode(await topology.master(`${p}index`), async (node) => {
        // What a restart without persistence does to it: its keys gone, every connection dropped.
        const keys = await node.keys(`${p.replace(/[{}]/g, '\\$&')}*`);
        expect(keys.length).toBeGreaterThan(500);
        await node.del(...keys);
        await node.config('RESETSTAT');
        await node.call('CLIENT', 'KILL', 'TYPE', 'normal');
        await node.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
        while ((await node.zcard(`${p}index`)) < 500 || !a.isCurrent) await sleep(50);
        // Not a WAIT per entry: one per batch (a reconnection may reconcile twice).
        const stats = await node.info('commandstats');
        const waits = Number(/cmdstat_wait:calls=(\d+)/.exec(stats)?.[1] ?? 0);
        expect(waits).toBeLessThanOrEqual(20);
      });
      const fresh = store(p);
      await fresh.ready();
      expect(jtis.filter((jti) => !fresh.isRevoked({ jti }))).toEqual([]);
    });

    it('refuses a key prefix whose keys would not share a slot', () => {
      if (!('cluster' in (topology.connection as object))) return;
      expect(() => store('tessera:revocation:')).toThrow(AuthConfigError);
      expect(() => store('{}tessera:revocation:')).toThrow(AuthConfigError);
    });
  });

  // Last: it kills a master (and starts it again as a replica).
  describe(`Redis ${name}: a failover`, () => {
    it('loses no acknowledged revocation, writes back the ones its replica missed, and needs no restart', async () => {
      const p = tagged('failover');
      // Another prefix in the same slot, for an instance that stops before the master dies.
      const alone = `${p}alone:`;
      const [a, b, c] = [store(p), store(p), store(alone)];
      await Promise.all([a.ready(), b.ready(), c.ready()]);
      await a.revokeToken('replicated', now() + 600);
      const master = await topology.master(`${p}index`);
      const replica = await topology.replicaOf(master);
      await withNode(master, async (node) => {
        // The replica frozen, then cut off: it cannot reconnect, and misses every write from now.
        topology.pause(replica);
        await node.call('CLIENT', 'KILL', 'TYPE', 'replica');
        // No replica confirms them: written on the master and heard, but not acknowledged.
        await expect(a.revokeToken('missed', now() + 600)).rejects.toThrow(
          RevocationUnavailableError,
        );
        await expect(c.revokeToken('unacknowledged', now() + 600)).rejects.toThrow(
          RevocationUnavailableError,
        );
        expect(a.isRevoked({ jti: 'missed' })).toBe(true);
        await until(() => b.isRevoked({ jti: 'missed' }), 1000);
        expect(await connectedReplicas(node)).toBe(0);
      });
      await c.close();
      await topology.kill(master);
      topology.resume(replica);
      // Made while the master is gone: refused by Redis, honoured where it was made, kept.
      await expect(a.revokeToken('during', now() + 600)).rejects.toThrow(
        RevocationUnavailableError,
      );
      await topology.failedOver(`${p}index`, master);
      await until(() => a.isCurrent && b.isCurrent, 20_000);
      // The promoted replica has no replica of its own: not acknowledged, but honoured.
      await expect(a.revokeToken('unreplicated', now() + 600)).rejects.toThrow(
        RevocationUnavailableError,
      );
      await until(() => b.isRevoked({ jti: 'unreplicated' }), 2000);
      await until(() => b.isRevoked({ jti: 'during' }), 5000);
      // The old master back, as an empty replica: acknowledged again, and what was written
      // unconfirmed is written again until a replica has it.
      await topology.restart(master);
      // A replica just back (and a loaded machine) can miss the first waits: in force meanwhile,
      // acknowledged once it confirms. Bounded.
      let acknowledged = false;
      for (let attempt = 0; attempt < 40 && !acknowledged; attempt++) {
        acknowledged = await a.revokeToken('after', now() + 600).then(
          () => true,
          (error: unknown) => {
            if (!(error instanceof RevocationUnavailableError)) throw error;
            return false;
          },
        );
      }
      expect(acknowledged).toBe(true);
      await until(() => b.isRevoked({ jti: 'after' }), 2000);
      // What the promoted replica missed was written back: a new instance sees all of it.
      const fresh = store(p);
      await fresh.ready();
      for (const jti of ['replicated', 'missed', 'during', 'unreplicated', 'after']) {
        expect(fresh.isRevoked({ jti })).toBe(true);
        expect(await fresh.isRevokedStrong({ jti })).toBe(true);
      }
      // The promoted replica really missed that window: what no running instance knew is gone,
      // and its caller was told it failed.
      const late = store(alone);
      await late.ready();
      expect(await late.isRevokedStrong({ jti: 'unacknowledged' })).toBe(false);
    }, 60_000);

    it('follows a failover away from a master that froze, its connections still open', async () => {
      // A Cluster's shard channel does not yet (a known gap, see docs/revocation.md).
      if ('cluster' in (topology.connection as object)) return;
      const p = tagged('frozen');
      const [a, b] = [store(p), store(p)];
      await Promise.all([a.ready(), b.ready()]);
      const master = await topology.master(`${p}index`);
      topology.pause(master); // left frozen: stop() ends it
      await topology.failedOver(`${p}index`, master);
      // Written on the promoted master (no replica now: refused, but published) and heard.
      await a.revokeToken('after-freeze', now() + 600).catch(() => undefined);
      await until(() => b.isRevoked({ jti: 'after-freeze' }), 10_000);
      const fresh = store(p);
      await fresh.ready();
      expect(fresh.isRevoked({ jti: 'after-freeze' })).toBe(true);
    }, 60_000);

    const open: RedisRevocationStore[] = [];
    const store = (keyPrefix: string) => {
      const s = new RedisRevocationStore({ connection: topology.connection, keyPrefix });
      open.push(s);
      return s;
    };
    afterEach(async () => void (await Promise.all(open.splice(0).map((s) => s.close()))));
  });
}
