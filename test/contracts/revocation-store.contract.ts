import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { RevocationStore } from '../../lib/revocation/revocation-store.js';

export interface StoreFixture {
  readonly store: RevocationStore;
  /** The store's clock, epoch seconds. */
  now(): number;
  /** Lets `seconds` pass for the store (and its backend). */
  advance(seconds: number): Promise<void>;
  close(): Promise<void>;
}

const ISS = 'https://issuer.test';
const OTHER_ISS = 'https://other-issuer.test';

/** The behaviour every `RevocationStore` implementation shares; run by each implementation's spec. */
export function describeRevocationStore(name: string, open: () => Promise<StoreFixture>): void {
  describe(`${name} revocation store`, () => {
    let f: StoreFixture;
    beforeEach(async () => (f = await open()));
    afterEach(() => f.close());

    const both = async (query: Parameters<RevocationStore['isRevoked']>[0]) => {
      const local = f.store.isRevoked(query);
      const strong = await f.store.isRevokedStrong(query);
      expect(strong).toBe(local);
      return local;
    };

    it('revokes one token by jti', async () => {
      await f.store.revokeToken('t1', f.now() + 60);
      expect(await both({ jti: 't1', sid: 's1', iss: ISS, sub: 'alice', iat: f.now() })).toBe(true);
      expect(await both({ jti: 't2', sid: 's1', iss: ISS, sub: 'alice', iat: f.now() })).toBe(
        false,
      );
    });

    it('revokes every token of a session', async () => {
      await f.store.revokeSession('s1', f.now() + 60);
      expect(await both({ jti: 'a', sid: 's1' })).toBe(true);
      expect(await both({ jti: 'b', sid: 's1' })).toBe(true);
      expect(await both({ jti: 'c', sid: 's2' })).toBe(false);
      expect(await both({ jti: 'd' })).toBe(false);
    });

    it('revokes what a subject was issued before a time, not after', async () => {
      const t = Math.floor(f.now());
      await f.store.revokeSubject({ issuer: ISS, subject: 'alice' }, t, t + 60);
      expect(await both({ jti: 'a', iss: ISS, sub: 'alice', iat: t - 1 })).toBe(true);
      expect(await both({ jti: 'b', iss: ISS, sub: 'alice', iat: t })).toBe(false);
      expect(await both({ jti: 'c', iss: ISS, sub: 'bob', iat: t - 1 })).toBe(false);
    });

    it("revokes a subject at its issuer only: another issuer's same sub is someone else", async () => {
      const t = Math.floor(f.now());
      await f.store.revokeSubject({ issuer: ISS, subject: 'alice' }, t, t + 60);
      expect(await both({ jti: 'a', iss: OTHER_ISS, sub: 'alice', iat: t - 1 })).toBe(false);
      // However the two would be joined by a separator, neither pair passes for the other.
      await f.store.revokeSubject({ issuer: 'https://a', subject: 'b c' }, t, t + 60);
      expect(await both({ jti: 'b', iss: 'https://a b', sub: 'c', iat: t - 1 })).toBe(false);
      expect(await both({ jti: 'c', iss: 'https://a', sub: 'b c', iat: t - 1 })).toBe(true);
    });

    it("revokes a token or session of its issuer only: another issuer's equal jti or sid is another's", async () => {
      const until = f.now() + 60;
      await f.store.revokeToken('t1', until, ISS);
      await f.store.revokeSession('s1', until, ISS);
      expect(await both({ jti: 't1', iss: ISS })).toBe(true);
      expect(await both({ jti: 'x', sid: 's1', iss: ISS })).toBe(true);
      expect(await both({ jti: 't1', iss: OTHER_ISS })).toBe(false);
      expect(await both({ jti: 'x', sid: 's1', iss: OTHER_ISS })).toBe(false);
      // However an issuer and an id would be joined, neither pair passes for another, nor for
      // an id revoked at every issuer.
      await f.store.revokeToken('b c', until, 'https://a');
      expect(await both({ jti: 'c', iss: 'https://a b' })).toBe(false);
      expect(await both({ jti: '9:https://ab c' })).toBe(false);
      expect(await both({ jti: 'b c', iss: 'https://a' })).toBe(true);
    });

    it('revokes an id named without an issuer at every issuer', async () => {
      await f.store.revokeToken('t9', f.now() + 60);
      await f.store.revokeSession('s9', f.now() + 60);
      for (const iss of [ISS, OTHER_ISS, undefined]) {
        expect(await both({ jti: 't9', iss })).toBe(true);
        expect(await both({ jti: 'x', sid: 's9', iss })).toBe(true);
      }
    });

    it('keeps the latest cut-off of a subject', async () => {
      const t = Math.floor(f.now());
      await f.store.revokeSubject({ issuer: ISS, subject: 'alice' }, t - 10, t + 60);
      await f.store.revokeSubject({ issuer: ISS, subject: 'alice' }, t - 20, t + 60);
      expect(await both({ jti: 'a', iss: ISS, sub: 'alice', iat: t - 15 })).toBe(true);
    });

    it('ignores an entry that has already expired', async () => {
      await f.store.revokeToken('old', f.now() - 1);
      expect(await both({ jti: 'old' })).toBe(false);
    });

    it('forgets a revocation once the token would have expired', async () => {
      await f.store.revokeToken('t1', f.now() + 1);
      await f.store.revokeSession('s1', f.now() + 1);
      expect(await both({ jti: 't1' })).toBe(true);
      await f.advance(2.1);
      expect(await both({ jti: 't1' })).toBe(false);
      expect(await both({ sid: 's1' })).toBe(false);
    });

    it('is current once open', () => {
      expect(f.store.isCurrent).toBe(true);
    });
  });
}
