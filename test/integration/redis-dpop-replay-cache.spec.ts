import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { createServer, type AddressInfo } from 'node:net';
import { DpopProofVerifier } from '../../lib/dpop/dpop-proof-verifier.js';
import { InvalidDpopProofError } from '../../lib/errors/auth-errors.js';
import { RedisDpopReplayCache } from '../../lib/redis/redis-dpop-replay-cache.js';
import { dpopKey, makeProof } from '../support/dpop.js';
import { deleteKeys, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';

const prefix = uniquePrefix('dpop');
const caches: RedisDpopReplayCache[] = [];
afterAll(async () => {
  for (const cache of caches) await cache.close();
  await deleteKeys(prefix);
});

function cache(connection = sharedRedisUrl()): RedisDpopReplayCache {
  const opened = new RedisDpopReplayCache({ connection, keyPrefix: prefix });
  caches.push(opened);
  return opened;
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('RedisDpopReplayCache', () => {
  it('remembers a proof once, for every instance, until its expiry', async () => {
    const a = cache();
    const b = cache();
    const expiresAt = Math.floor(Date.now() / 1000) + 70;
    expect(await a.remember('jkt.one', expiresAt)).toBe(true);
    expect(await b.remember('jkt.one', expiresAt)).toBe(false);
    expect(await a.remember('jkt.two', expiresAt)).toBe(true);
    const redis = new Redis(sharedRedisUrl());
    try {
      const ttl = await redis.ttl(`${prefix}jkt.one`);
      expect(ttl).toBeGreaterThan(60);
      expect(ttl).toBeLessThanOrEqual(70);
    } finally {
      redis.disconnect();
    }
  });

  describe('while Redis cannot be reached', () => {
    const key = dpopKey();
    const request = (proof: string, onOutage: 'fail-open' | 'fail-closed') => ({
      proof,
      method: 'GET',
      url: 'http://api.test/items',
      onOutage,
    });
    const proof = () => makeProof(key, { htm: 'GET', htu: 'http://api.test/items' });

    it('refuses every proof where the tier fails closed', async () => {
      const verifier = new DpopProofVerifier({
        replayCache: cache(`redis://127.0.0.1:${await deadPort()}`),
      });
      const refusal = await verifier.verify(request(proof(), 'fail-closed')).catch((e) => e);
      expect(refusal).toBeInstanceOf(InvalidDpopProofError);
      expect((refusal as InvalidDpopProofError).reason).toBe('replay_check_unavailable');
    });

    it("checks replays in the instance's own memory where the tier fails open", async () => {
      const verifier = new DpopProofVerifier({
        replayCache: cache(`redis://127.0.0.1:${await deadPort()}`),
      });
      const once = proof();
      await expect(verifier.verify(request(once, 'fail-open'))).resolves.toMatchObject({
        jkt: expect.any(String),
      });
      const again = await verifier.verify(request(once, 'fail-open')).catch((e) => e);
      expect((again as InvalidDpopProofError).reason).toBe('replayed');
    });
  });
});
