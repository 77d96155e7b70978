import { describe, expect, it } from '@jest/globals';
import { describeThrottlerStorage } from '../../test/contracts/throttler-storage.contract.js';
import { MemoryThrottlerStorage } from './memory-throttler-storage.js';

describeThrottlerStorage('in-memory', async () => {
  let clock = 1_700_000_000_000;
  const storage = new MemoryThrottlerStorage(() => clock);
  return {
    storage,
    advance: async (ms) => {
      clock += ms;
    },
    close: () => storage.close(),
  };
});

describe('in-memory throttler storage', () => {
  it('tells apart a throttler name and a key that would join into the same text', async () => {
    const storage = new MemoryThrottlerStorage(() => 0);
    await storage.increment('b:c', 60_000, 1, 0, 'a');
    expect(await storage.increment('c', 60_000, 1, 0, 'a:b')).toMatchObject({
      isBlocked: false,
      totalHits: 1,
    });
  });

  it('refuses a window argument that is not a number, as a configuration error', async () => {
    const storage = new MemoryThrottlerStorage();
    await expect(storage.increment('k', Number.NaN, 1, 0, 'default')).rejects.toThrow(
      /throttler ttl must be a finite number/,
    );
  });
});
