import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { RedisRevocationStore } from '../../lib/revocation/redis-revocation-store.js';
import { RevocationUnavailableError } from '../../lib/revocation/revocation-store.js';
import { describeRevocationStore } from '../contracts/revocation-store.contract.js';
import { deleteKeys, RedisServer, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';

const prefix = uniquePrefix('revocation');
afterAll(() => deleteKeys(prefix));

const now = () => Date.now() / 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 5000): Promise<number> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) throw new Error('condition not met in time');
    await sleep(2);
  }
  return performance.now() - started;
}

let fixtures = 0;
describeRevocationStore('Redis', async () => {
  const keyPrefix = `${prefix}contract-${++fixtures}:`;
  const store = new RedisRevocationStore({
    connection: sharedRedisUrl(),
    keyPrefix,
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

describe('Redis revocation store across instances', () => {
  const open: RedisRevocationStore[] = [];
  const store = async (keyPrefix: string, connection: string = sharedRedisUrl()) => {
    const s = new RedisRevocationStore({ connection, keyPrefix });
    open.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  it('tells every instance of a revocation within a second (pub/sub)', async () => {
    const p = `${prefix}pubsub:`;
    const [a, b] = await Promise.all([store(p), store(p)]);
    await Promise.all([a.ready(), b.ready()]);
    await a.revokeSession('s-42', now() + 60);
    const ms = await until(() => b.isRevoked({ sid: 's-42' }), 1000);
    expect(b.isRevoked({ sid: 's-43' })).toBe(false);
    expect(ms).toBeLessThan(1000);
  });

  it('loads existing revocations when an instance starts', async () => {
    const p = `${prefix}snapshot:`;
    const a = await store(p);
    await a.ready();
    await a.revokeToken('j-1', now() + 60);
    await a.revokeSubject(
      { issuer: 'https://issuer.test', subject: 'alice' },
      Math.floor(now()),
      now() + 60,
    );
    const late = await store(p);
    await late.ready();
    expect(late.isRevoked({ jti: 'j-1' })).toBe(true);
    const query = { iss: 'https://issuer.test', sub: 'alice', iat: Math.floor(now()) - 5 };
    expect(late.isRevoked({ jti: 'x', ...query })).toBe(true);
  });

  it('loads a list longer than one read, every entry of it, however many share an expiry', async () => {
    const p = `${prefix}paged:`;
    // 25,000 entries (the store reads 10,000 at a time): the first 12,000 share one expiry, so a
    // page ends inside a run of equal scores; the rest have expiries of their own.
    const redis = new Redis(sharedRedisUrl());
    const shared = Math.ceil(now()) + 600;
    const members: (string | number)[] = [];
    for (let i = 0; i < 25_000; i++) {
      const expiresAt = i < 12_000 ? shared : shared + i;
      members.push(expiresAt, JSON.stringify({ kind: 'token', id: `paged-${i}`, expiresAt }));
    }
    await redis.zadd(`${p}index`, ...members);
    redis.disconnect();
    const late = await store(p);
    await late.ready();
    const missing = Array.from({ length: 25_000 }, (_, i) => `paged-${i}`).filter(
      (jti) => !late.isRevoked({ jti }),
    );
    expect(missing).toEqual([]);
    expect(late.isRevoked({ jti: 'paged-25000' })).toBe(false);
  });

  describe('with a Redis that goes away', () => {
    let redis: RedisServer;
    beforeAll(async () => (redis = await RedisServer.start()));
    afterAll(() => redis.stop());

    it('fails strong checks fast while down, keeps its view, and catches up without a restart', async () => {
      const p = `${prefix}outage:`;
      const [a, b] = await Promise.all([store(p, redis.url), store(p, redis.url)]);
      await Promise.all([a.ready(), b.ready()]);
      await a.revokeToken('before', now() + 60);
      await until(() => b.isRevoked({ jti: 'before' }));

      await redis.stop();
      await until(() => !b.isCurrent);
      const started = performance.now();
      await expect(b.isRevokedStrong({ jti: 'x' })).rejects.toBeInstanceOf(
        RevocationUnavailableError,
      );
      expect(performance.now() - started).toBeLessThan(1000);
      expect(b.isRevoked({ jti: 'before' })).toBe(true);
      // A revocation made during the outage is honoured where it was made and kept for later.
      await expect(a.revokeToken('during', now() + 60)).rejects.toBeInstanceOf(
        RevocationUnavailableError,
      );
      expect(a.isRevoked({ jti: 'during' })).toBe(true);

      await redis.start(); // empty: this Redis keeps nothing on disk
      await until(() => a.isCurrent && b.isCurrent, 10_000);
      await a.revokeToken('after', now() + 60);
      await until(() => b.isRevoked({ jti: 'after' }) && b.isRevoked({ jti: 'during' }));
      expect(b.isRevoked({ jti: 'before' })).toBe(true);
      expect(await b.isRevokedStrong({ jti: 'before' })).toBe(true);
      // What Redis lost in the restart was written back: a new instance sees all of it.
      const fresh = await store(p, redis.url);
      await fresh.ready();
      for (const jti of ['before', 'during', 'after']) expect(fresh.isRevoked({ jti })).toBe(true);
    }, 30_000);

    it('fails strong checks at once while reconnections hang (a proxy whose Redis is gone)', async () => {
      // A proxy in front of Redis: while "down" it accepts connections and answers nothing, as a
      // load balancer or a mesh sidecar does when Redis behind it is unreachable.
      let down = false;
      const sockets = new Set<Socket>();
      const proxy = createServer((client) => {
        sockets.add(client);
        client.on('close', () => sockets.delete(client));
        client.on('error', () => undefined);
        if (down) return;
        const upstream = connect(redis.port, '127.0.0.1');
        upstream.on('error', () => client.destroy());
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      const { port } = proxy.address() as AddressInfo;
      try {
        const a = await store(`${prefix}hanging:`, `redis://127.0.0.1:${port}`);
        await a.ready();
        down = true;
        for (const socket of sockets) socket.destroy();
        const waits: number[] = [];
        for (let i = 0; i < 5; i++) {
          const started = performance.now();
          await expect(a.isRevokedStrong({ jti: 'x' })).rejects.toBeInstanceOf(
            RevocationUnavailableError,
          );
          waits.push(performance.now() - started);
        }
        // Each at most the command time-out (1 s), never plus the 2 s a first connection may
        // wait; once the breaker opens, at once.
        expect(Math.max(...waits)).toBeLessThan(1500);
        expect(waits.at(-1)).toBeLessThan(100);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => proxy.close(resolve));
      }
    }, 20_000);

    it('sends Redis one PING however often its health is asked while the view is current', async () => {
      const admin = new Redis(redis.url);
      const a = await store(`${prefix}health:`, redis.url);
      try {
        await a.ready();
        await admin.config('RESETSTAT');
        const answers = await Promise.all(Array.from({ length: 200 }, () => a.health()));
        for (let i = 0; i < 100; i++) answers.push(await a.health());
        expect(answers.every((answer) => answer.reachable && answer.current)).toBe(true);
        const stats = await admin.info('commandstats');
        expect(/cmdstat_ping:calls=(\d+)/.exec(stats)?.[1]).toBe('1');
      } finally {
        await a.close();
        admin.disconnect();
      }
    });

    it('once closed, writes nothing when a client passed in is ready again (a deferred write stays unwritten)', async () => {
      const p = `${prefix}closed:`;
      const client = new Redis(redis.url);
      const admin = new Redis(redis.url);
      try {
        const a = new RedisRevocationStore({ connection: client, keyPrefix: p });
        await a.ready();
        // Refused on a live connection: kept to be written on the next 'ready' or retry.
        await admin.config('SET', 'min-replicas-to-write', '1');
        await expect(a.revokeToken('deferred', now() + 60)).rejects.toBeInstanceOf(
          RevocationUnavailableError,
        );
        await admin.config('SET', 'min-replicas-to-write', '0');
        await a.close();
        // The client reconnecting for its owner, before the store's pub/sub connection is gone.
        client.emit('ready');
        await sleep(300);
        expect(await admin.exists(`${p}t:deferred`)).toBe(0);
      } finally {
        await admin.config('SET', 'min-replicas-to-write', '0');
        admin.disconnect();
        client.disconnect();
      }
    }, 20_000);

    it('writes a revocation Redis refused on a live connection once it accepts writes again', async () => {
      const p = `${prefix}refused:`;
      const [a, b] = await Promise.all([store(p, redis.url), store(p, redis.url)]);
      await Promise.all([a.ready(), b.ready()]);
      // Let start-up settle: both connections reconcile, and a retry one of them scheduled runs.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const admin = new Redis(redis.url);
      try {
        // Writes refused, connections up: no reconnection will ever announce the recovery.
        await admin.config('SET', 'min-replicas-to-write', '1');
        await expect(a.revokeToken('refused', now() + 60)).rejects.toBeInstanceOf(
          RevocationUnavailableError,
        );
        expect(a.isRevoked({ jti: 'refused' })).toBe(true);
        await admin.config('SET', 'min-replicas-to-write', '0');
        await until(() => b.isRevoked({ jti: 'refused' }), 5000);
        expect(await b.isRevokedStrong({ jti: 'refused' })).toBe(true);
        expect(a.isCurrent && b.isCurrent).toBe(true);
      } finally {
        await admin.config('SET', 'min-replicas-to-write', '0');
        admin.disconnect();
      }
    }, 20_000);
  });
});
