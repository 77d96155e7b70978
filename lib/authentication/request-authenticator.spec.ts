import { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { InvalidRequestError, InvalidTokenError } from '../errors/auth-errors.js';
import type { AuthEvents } from '../events.js';
import { resolveAuthOptions } from '../options/resolve-auth-options.js';
import { MemoryRevocationStore } from '../revocation/memory-revocation-store.js';
import { RevocationChecker } from '../revocation/revocation-checker.js';
import { createTokenVerifier } from '../options/create-token-verifier.js';
import { makeKey, validToken } from '../../test/support/keys.js';
import { DpopProofVerifier } from '../dpop/dpop-proof-verifier.js';
import { MemoryDpopReplayCache } from '../dpop/dpop-replay-cache.js';
import type { DpopPolicy } from '../dpop/dpop-request.js';
import { RequestAuthenticator } from './request-authenticator.js';

const NOW = 1_700_000_000;
const key = makeKey('RS256');
const SOURCES = { headers: [], bodyField: undefined, forbiddenQueryParameters: [] };

function authenticator(
  options: {
    cacheSize?: number;
    events?: AuthEvents;
    store?: MemoryRevocationStore;
    dpopRequired?: DpopPolicy['required'];
  } = {},
) {
  const resolved = resolveAuthOptions({
    issuers: [{ issuer: 'https://issuer.test', keys: [key.publicJwk] }],
    audience: 'orders-api',
    now: () => NOW,
    verifiedTokenCacheSize: options.cacheSize ?? 100,
    events: options.events,
  });
  const store = options.store ?? new MemoryRevocationStore({ now: () => NOW });
  const checker = new RevocationChecker(store, { standard: 'fail-open', sensitive: 'fail-closed' });
  const dpop: DpopPolicy | undefined =
    options.dpopRequired === undefined
      ? undefined
      : {
          proofs: new DpopProofVerifier({ replayCache: new MemoryDpopReplayCache() }),
          required: options.dpopRequired,
          origins: [],
          onOutage: { standard: 'fail-open', sensitive: 'fail-closed' },
        };
  return new RequestAuthenticator(createTokenVerifier(resolved), checker, SOURCES, dpop);
}

const request = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe('RequestAuthenticator', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('verifies the tokens of requests that arrive together, each as its own caller', async () => {
    const auth = authenticator({ cacheSize: 0 });
    const subjects = ['alice', 'bob', 'carol', 'dave'];
    const forged = `${validToken(key, NOW, { sub: 'mallory' }).slice(0, -4)}AAAA`;
    const answers = await Promise.allSettled([
      ...subjects.map(async (sub) => auth.authenticate(request(validToken(key, NOW, { sub })))),
      (async () => auth.authenticate(request(forged)))(),
    ]);
    expect(answers.slice(0, 4).map((a) => a.status === 'fulfilled' && a.value.subject)).toEqual(
      subjects,
    );
    const refused = answers[4];
    expect(refused.status).toBe('rejected');
    expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(InvalidTokenError);
    expect(((refused as PromiseRejectedResult).reason as InvalidTokenError).reason).toBe(
      'bad_signature',
    );
  });

  it('refuses a revoked token verified together with others', async () => {
    const store = new MemoryRevocationStore({ now: () => NOW });
    await store.revokeToken('revoked-1', NOW + 300);
    const auth = authenticator({ cacheSize: 0, store });
    const [kept, revoked] = await Promise.allSettled([
      auth.authenticate(request(validToken(key, NOW))),
      auth.authenticate(request(validToken(key, NOW, { jti: 'revoked-1' }))),
    ]);
    expect(kept.status).toBe('fulfilled');
    expect(((revoked as PromiseRejectedResult).reason as InvalidTokenError).reason).toBe('revoked');
  });

  it("runs each verification's hooks in the async context of the request that asked", async () => {
    const requestId = new AsyncLocalStorage<string>();
    const seen: [string, string | undefined][] = [];
    const auth = authenticator({
      cacheSize: 0,
      events: {
        tokenVerified: ({ principal }) => seen.push([principal.subject, requestId.getStore()]),
      },
    });
    await Promise.all(
      ['alice', 'bob', 'carol'].map((sub) =>
        requestId.run(`request-of-${sub}`, async () =>
          auth.authenticate(request(validToken(key, NOW, { sub }))),
        ),
      ),
    );
    expect(seen).toEqual([
      ['alice', 'request-of-alice'],
      ['bob', 'request-of-bob'],
      ['carol', 'request-of-carol'],
    ]);
  });

  it('answers from the verified-token cache at once, and checks revocation still', async () => {
    const store = new MemoryRevocationStore({ now: () => NOW });
    const auth = authenticator({ store });
    const token = validToken(key, NOW, { jti: 'later-revoked' });
    const first = await auth.authenticate(request(token));
    const again = auth.authenticate(request(token));
    expect(again).not.toBeInstanceOf(Promise);
    expect(again).toBe(first);
    await store.revokeToken('later-revoked', NOW + 300);
    expect(() => auth.authenticate(request(token))).toThrow(InvalidTokenError);
  });

  it.each([
    ['no other source', {}],
    ['another header too', { headers: ['x-access-token'] }],
  ])(
    'refuses a Bearer credential of two words, cached first word or not (%s)',
    async (_, sources) => {
      const resolved = resolveAuthOptions({
        issuers: [{ issuer: 'https://issuer.test', keys: [key.publicJwk] }],
        audience: 'orders-api',
        now: () => NOW,
        tokenSources: sources,
      });
      const auth = new RequestAuthenticator(
        createTokenVerifier(resolved),
        undefined,
        resolved.tokenSources,
      );
      const token = validToken(key, NOW);
      await auth.authenticate(request(token));
      for (const credential of [`${token} ${token}`, `${token}\tx`, `${token.slice(0, 9)} x`]) {
        let refusal: unknown;
        try {
          await auth.authenticate(request(credential));
        } catch (error) {
          refusal = error;
        }
        expect(refusal).toBeInstanceOf(InvalidRequestError);
        expect((refusal as InvalidRequestError).reason).toBe('malformed_credentials');
      }
    },
  );

  it('still answers while a test has faked the timers', async () => {
    jest.useFakeTimers();
    const auth = authenticator({ cacheSize: 0 });
    const principal = await auth.authenticate(request(validToken(key, NOW, { sub: 'alice' })));
    expect(principal.subject).toBe('alice');
  });

  describe('a token presented without a proof (extractor, message)', () => {
    // The cached path answers synchronously: a refusal there is thrown, not rejected.
    const reason = async (answer: () => unknown) => {
      try {
        await answer();
      } catch (error) {
        return (error as InvalidTokenError).reason;
      }
      return 'accepted';
    };

    it.each([
      { required: true as const, expected: 'dpop_required' },
      { required: new Set(['https://issuer.test']), expected: 'dpop_required' },
      { required: new Set(['https://other.test']), expected: 'accepted' },
      { required: false as const, expected: 'accepted' },
    ])('answers an unbound token $expected where DPoP required is $required', async (row) => {
      const auth = authenticator({ dpopRequired: row.required });
      const token = validToken(key, NOW);
      expect(await reason(() => auth.authenticateToken(token))).toBe(row.expected);
      // Again, from the verified-token cache.
      expect(await reason(() => auth.authenticateToken(token))).toBe(row.expected);
    });

    it('refuses a bound token, DPoP required or not', async () => {
      const token = validToken(key, NOW, { cnf: { jkt: 'A'.repeat(43) } });
      expect(await reason(() => authenticator().authenticateToken(token))).toBe(
        'dpop_bound_as_bearer',
      );
      const required = authenticator({ dpopRequired: true });
      expect(await reason(() => required.authenticateToken(token))).toBe('dpop_bound_as_bearer');
    });

    it("keeps the application's own token (a service identity's) out of the required rule", async () => {
      const auth = authenticator({ dpopRequired: true });
      expect(await reason(() => auth.authenticateOwnToken(validToken(key, NOW)))).toBe('accepted');
    });
  });
});
