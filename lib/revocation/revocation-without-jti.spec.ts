import { describe, expect, it } from '@jest/globals';
import { RequestAuthenticator } from '../authentication/request-authenticator.js';
import { createRevocationStore } from '../options/create-revocation-store.js';
import { createTokenVerifier } from '../options/create-token-verifier.js';
import { resolveAuthOptions } from '../options/resolve-auth-options.js';
import { forge, makeKey } from '../../test/support/keys.js';
import { RevocationChecker } from './revocation-checker.js';

const NOW = 1_700_000_000;
const ISSUER = 'https://idp.test';
const key = makeKey('ES256');

// Auth0 and Entra access tokens carry no jti, and a generic issuer's may carry no iat: each
// revocation that covers such a token must still refuse it.
describe('a token without jti (or iat)', () => {
  function setup() {
    const options = resolveAuthOptions({
      issuers: [{ issuer: ISSUER, keys: [key.publicJwk], profile: 'generic' }],
      audience: 'orders-api',
      now: () => NOW,
      revocation: {},
    });
    const { store } = createRevocationStore(options, undefined)!;
    const policy = options.revocation ? options.revocation.onOutage : undefined;
    const auth = new RequestAuthenticator(
      createTokenVerifier(options),
      new RevocationChecker(store, policy!),
      options.tokenSources,
    );
    const outcome = (token: string) =>
      Promise.resolve()
        .then(() => auth.authenticateToken(token, 'standard'))
        .then(
          () => 'accepted',
          (error: { reason: string }) => error.reason,
        );
    return { auth, store, outcome };
  }
  const token = (claims: Record<string, unknown>) =>
    forge(
      { alg: key.alg, kid: key.kid },
      { iss: ISSUER, sub: 'u-1', aud: 'orders-api', exp: NOW + 300, sid: 's-1', ...claims },
      { key },
    );

  it('is refused once revoked by its tokenId, and only it', async () => {
    const { auth, store, outcome } = setup();
    const revoked = token({ iat: NOW });
    const other = token({ iat: NOW - 1 });
    const principal = await auth.authenticateToken(revoked, 'standard');
    expect(principal.tokenId.startsWith('#')).toBe(true);
    await store.revokeToken(principal.tokenId, principal.expiresAt);
    expect(await outcome(revoked)).toBe('revoked');
    expect(await outcome(other)).toBe('accepted');
  });

  it('is refused once its session is revoked', async () => {
    const { store, outcome } = setup();
    await store.revokeSession('s-1', NOW + 300);
    expect(await outcome(token({ iat: NOW }))).toBe('revoked');
  });

  it('without iat, is refused by any revocation of its subject', async () => {
    const { store, outcome } = setup();
    const t = token({ sid: undefined });
    expect(await outcome(t)).toBe('accepted');
    await store.revokeSubject({ issuer: ISSUER, subject: 'u-1' }, NOW - 3600, NOW + 300);
    expect(await outcome(t)).toBe('revoked');
  });

  it('with a jti of the wrong type, is named by its signed part, not by that value', async () => {
    const { auth, store, outcome } = setup();
    const t = token({ jti: 42, iat: NOW });
    const principal = await auth.authenticateToken(t, 'standard');
    expect(principal.tokenId).not.toBe('42');
    await store.revokeToken(principal.tokenId, principal.expiresAt);
    expect(await outcome(t)).toBe('revoked');
  });
});
