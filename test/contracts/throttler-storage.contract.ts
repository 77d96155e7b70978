import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { ThrottlerStorage } from '@nestjs/throttler';

export interface ThrottlerStorageFixture {
  readonly storage: ThrottlerStorage;
  /** Lets `ms` milliseconds pass for the storage (and its backend). */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

const MINUTE = 60_000;

/**
 * What every `ThrottlerStorage` of nest-tessera/throttler does (`ThrottlerCounters`): fixed
 * windows and `@nestjs/throttler`'s blocking. Run by each implementation's spec. Windows meant to
 * end are a few hundred milliseconds long and waited out; windows meant to last are a minute.
 */
export function describeThrottlerStorage(
  name: string,
  open: () => Promise<ThrottlerStorageFixture>,
): void {
  describe(`${name} throttler storage`, () => {
    let f: ThrottlerStorageFixture;
    beforeEach(async () => (f = await open()));
    afterEach(() => f.close());

    /** `count` hits of `key`, one after the other. */
    const hits = async (count: number, ...args: Parameters<ThrottlerStorage['increment']>) => {
      const records = [];
      for (let i = 0; i < count; i++) records.push(await f.storage.increment(...args));
      return records;
    };

    it('counts hits in a window and refuses those over the limit until it ends, with the time left in whole seconds', async () => {
      const records = await hits(5, 'k', MINUTE, 3, 0, 'default');
      expect(records.map((r) => r.isBlocked)).toEqual([false, false, false, true, true]);
      expect(records.slice(0, 4).map((r) => r.totalHits)).toEqual([1, 2, 3, 4]);
      for (const record of records) {
        expect(Number.isInteger(record.timeToExpire)).toBe(true);
        expect(record.timeToExpire).toBeGreaterThanOrEqual(59);
        expect(record.timeToExpire).toBeLessThanOrEqual(60);
      }
      expect(records.slice(0, 3).map((r) => r.timeToBlockExpire)).toEqual([0, 0, 0]);
      // Without a block of its own, a refused hit may come back when the window ends.
      expect(records[3].timeToBlockExpire).toBe(records[3].timeToExpire);
    });

    it('starts a new window once the window ends', async () => {
      expect((await hits(2, 'k', 300, 1, 0, 'default')).map((r) => r.isBlocked)).toEqual([
        false,
        true,
      ]);
      await f.advance(400);
      const [next] = await hits(1, 'k', 300, 1, 0, 'default');
      expect(next).toMatchObject({ isBlocked: false, totalHits: 1 });
    });

    it('counts in fixed windows, not in a sliding one: a full window right after another is served', async () => {
      await hits(1, 'k', 500, 2, 0, 'default');
      await f.advance(300);
      expect((await hits(1, 'k', 500, 2, 0, 'default'))[0].isBlocked).toBe(false);
      // The first window has ended: two more, though the last one was 300 ms ago.
      await f.advance(300);
      const next = await hits(3, 'k', 500, 2, 0, 'default');
      expect(next.map((r) => r.isBlocked)).toEqual([false, false, true]);
      expect(next[0].totalHits).toBe(1);
    });

    it('blocks the key for blockDuration, without counting the hits meanwhile, then starts a new window', async () => {
      const records = await hits(5, 'k', MINUTE, 2, 300, 'default');
      expect(records.map((r) => r.isBlocked)).toEqual([false, false, true, true, true]);
      expect(records.slice(2).map((r) => r.totalHits)).toEqual([3, 3, 3]);
      expect(records[2].timeToBlockExpire).toBe(1);
      await f.advance(400);
      const [after] = await hits(1, 'k', MINUTE, 2, 300, 'default');
      expect(after).toMatchObject({ isBlocked: false, totalHits: 1 });
    });

    it('keeps a block that outlasts the window, with its own time left as the Retry-After', async () => {
      const records = await hits(2, 'k', 200, 1, MINUTE, 'default');
      expect(records[1].isBlocked).toBe(true);
      expect(records[1].timeToBlockExpire).toBe(60);
      await f.advance(300);
      const [still] = await hits(1, 'k', 200, 1, MINUTE, 'default');
      expect(still.isBlocked).toBe(true);
      expect(still.timeToBlockExpire).toBeGreaterThanOrEqual(59);
      expect(still.timeToBlockExpire).toBeLessThanOrEqual(60);
    });

    it('rounds a time left up to whole seconds, never down to 0 while refused', async () => {
      const [, refused] = await hits(2, 'k', 1500, 1, 0, 'default');
      expect(refused.isBlocked).toBe(true);
      expect([1, 2]).toContain(refused.timeToBlockExpire);
      const [, blocked] = await hits(2, 'b', MINUTE, 1, 10, 'default');
      expect(blocked.timeToBlockExpire).toBe(1);
    });

    it('counts each key, and each throttler name of a key, apart', async () => {
      await hits(2, 'alice', MINUTE, 2, 0, 'default');
      expect((await hits(1, 'alice', MINUTE, 2, 0, 'default'))[0].isBlocked).toBe(true);
      expect((await hits(1, 'bob', MINUTE, 2, 0, 'default'))[0]).toMatchObject({
        isBlocked: false,
        totalHits: 1,
      });
      expect((await hits(1, 'alice', MINUTE, 2, 0, 'long'))[0]).toMatchObject({
        isBlocked: false,
        totalHits: 1,
      });
    });

    it('counts hits that arrive together one by one: exactly the limit is served', async () => {
      const records = await Promise.all(
        Array.from({ length: 20 }, () => f.storage.increment('k', MINUTE, 10, 0, 'default')),
      );
      expect(records.filter((r) => !r.isBlocked)).toHaveLength(10);
      expect(new Set(records.map((r) => r.totalHits)).size).toBe(20);
    });
  });
}
