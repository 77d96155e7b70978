import { describe, expect, it } from '@jest/globals';
import { dpopKey, makeProof } from '../../test/support/dpop.js';
import { InvalidDpopProofError, UseDpopNonceError } from '../errors/auth-errors.js';
import { DpopNonces } from './dpop-nonces.js';
import { DpopProofVerifier } from './dpop-proof-verifier.js';
import { MemoryDpopReplayCache } from './dpop-replay-cache.js';

const NOW = 1_700_000_000;
const URL_ITEMS = 'http://api.test/items';
const key = dpopKey('ES256');

const verifier = (extra: Partial<ConstructorParameters<typeof DpopProofVerifier>[0]> = {}) =>
  new DpopProofVerifier({
    replayCache: new MemoryDpopReplayCache({ now: () => NOW }),
    now: () => NOW,
    ...extra,
  });
const proof = (parts: { iat?: number; nonce?: string; htu?: string } = {}) =>
  makeProof(key, { htm: 'GET', htu: URL_ITEMS, iat: NOW, ...parts });
const reasonOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'accepted',
    (error: InvalidDpopProofError) => error.reason,
  );

describe('DpopProofVerifier', () => {
  it.each([
    { age: 60 + 5, outcome: 'accepted' },
    { age: 60 + 6, outcome: 'iat_out_of_window' },
    { age: -5, outcome: 'accepted' },
    { age: -6, outcome: 'iat_out_of_window' },
  ])(
    'takes a proof $age s old within 60 s and 5 s of leeway: $outcome',
    async ({ age, outcome }) => {
      const v = verifier({ clockToleranceSeconds: 5 });
      expect(
        await reasonOf(
          v.verify({ proof: proof({ iat: NOW - age }), method: 'GET', url: URL_ITEMS }),
        ),
      ).toBe(outcome);
    },
  );

  it.each([
    { alg: 'ES384', allowed: ['ES384'], outcome: 'accepted' },
    { alg: 'PS512', allowed: ['PS512'], outcome: 'accepted' },
    { alg: 'ES384', allowed: undefined, outcome: 'alg_not_allowed' },
  ] as const)(
    'takes a proof by $alg only when dpop.algorithms lists it: $outcome',
    async ({ alg, allowed, outcome }) => {
      const other = dpopKey(alg);
      const v = verifier(allowed === undefined ? {} : { algorithms: [...allowed] });
      const signed = makeProof(other, { htm: 'GET', htu: URL_ITEMS, iat: NOW });
      expect(await reasonOf(v.verify({ proof: signed, method: 'GET', url: URL_ITEMS }))).toBe(
        outcome,
      );
    },
  );

  it('compares htu after URL normalization: scheme and host case, default port, dot segments', async () => {
    const v = verifier();
    for (const htu of [
      'HTTP://API.TEST:80/items',
      'http://api.test/a/../items',
      'http://api.test/items?x#y',
    ]) {
      expect(
        await reasonOf(v.verify({ proof: proof({ htu }), method: 'GET', url: URL_ITEMS })),
      ).toBe('accepted');
    }
    for (const htu of [
      'http://api.test/items/',
      'http://api.test:8080/items',
      'ftp://api.test/items',
      'http://user@api.test/items',
    ]) {
      expect(
        await reasonOf(v.verify({ proof: proof({ htu }), method: 'GET', url: URL_ITEMS })),
      ).toBe('htu_mismatch');
    }
  });

  it('refuses a proof once the replay cache is full rather than forget one', async () => {
    const v = verifier({
      replayCache: new MemoryDpopReplayCache({ maxEntries: 1, now: () => NOW }),
    });
    expect(await reasonOf(v.verify({ proof: proof(), method: 'GET', url: URL_ITEMS }))).toBe(
      'accepted',
    );
    expect(await reasonOf(v.verify({ proof: proof(), method: 'GET', url: URL_ITEMS }))).toBe(
      'replay_check_unavailable',
    );
  });

  it('refuses a full memory cache even fail-open: never taken for an outage', async () => {
    const v = verifier({
      replayCache: new MemoryDpopReplayCache({ maxEntries: 1, now: () => NOW }),
    });
    const fresh = () =>
      reasonOf(v.verify({ proof: proof(), method: 'GET', url: URL_ITEMS, onOutage: 'fail-open' }));
    expect(await fresh()).toBe('accepted');
    expect(await fresh()).toBe('replay_check_unavailable');
  });

  describe('with a shared cache that goes down and comes back', () => {
    const outage = () => {
      const shared = new MemoryDpopReplayCache({ now: () => NOW });
      const state = { down: false };
      const replayCache = {
        remember: (key: string, expiresAt: number) => {
          if (state.down) throw new Error('connection refused');
          return shared.remember(key, expiresAt);
        },
      };
      return { v: verifier({ replayCache }), state };
    };
    const check = (v: DpopProofVerifier, signed: string) =>
      reasonOf(v.verify({ proof: signed, method: 'GET', url: URL_ITEMS, onOutage: 'fail-open' }));

    it('refuses during an outage a proof this instance accepted before it', async () => {
      const { v, state } = outage();
      const once = proof();
      expect(await check(v, once)).toBe('accepted');
      state.down = true;
      expect(await check(v, once)).toBe('replayed');
    });

    it('refuses after an outage a proof this instance accepted during it', async () => {
      const { v, state } = outage();
      const once = proof();
      state.down = true;
      expect(await check(v, once)).toBe('accepted');
      state.down = false;
      expect(await check(v, once)).toBe('replayed');
    });

    it('refuses fail-closed while the shared cache is down', async () => {
      const { v, state } = outage();
      state.down = true;
      expect(await reasonOf(v.verify({ proof: proof(), method: 'GET', url: URL_ITEMS }))).toBe(
        'replay_check_unavailable',
      );
    });
  });

  it('asks for the current nonce, accepts it and the one before, never a made-up one', async () => {
    let now = NOW;
    const nonces = new DpopNonces({ secret: 's'.repeat(32), lifetimeSeconds: 300, now: () => now });
    const v = verifier({ nonces, now: () => now });
    const missing = await v
      .verify({ proof: proof(), method: 'GET', url: URL_ITEMS })
      .catch((e) => e);
    expect(missing).toBeInstanceOf(UseDpopNonceError);
    const nonce = (missing as UseDpopNonceError).nonce;
    expect(nonce).toBe(v.currentNonce());
    expect(
      await reasonOf(v.verify({ proof: proof({ nonce }), method: 'GET', url: URL_ITEMS })),
    ).toBe('accepted');
    now += 300;
    expect(
      await reasonOf(
        v.verify({ proof: proof({ nonce, iat: now }), method: 'GET', url: URL_ITEMS }),
      ),
    ).toBe('accepted');
    now += 300;
    const stale = await v
      .verify({ proof: proof({ nonce, iat: now }), method: 'GET', url: URL_ITEMS })
      .catch((e) => e);
    expect(stale).toBeInstanceOf(UseDpopNonceError);
    const other = new DpopNonces({ secret: 'x'.repeat(32), now: () => now }).current();
    expect(nonces.accepts(other)).toBe(false);
  });

  it('never lets one key spend the jti of another', async () => {
    const v = verifier();
    const other = dpopKey('ES256');
    const jti = 'same-jti';
    const mine = makeProof(key, { htm: 'GET', htu: URL_ITEMS, iat: NOW, jti });
    const theirs = makeProof(other, { htm: 'GET', htu: URL_ITEMS, iat: NOW, jti });
    expect(await reasonOf(v.verify({ proof: theirs, method: 'GET', url: URL_ITEMS }))).toBe(
      'accepted',
    );
    expect(await reasonOf(v.verify({ proof: mine, method: 'GET', url: URL_ITEMS }))).toBe(
      'accepted',
    );
  });
});
