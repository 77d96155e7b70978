import { describe, expect, it } from '@jest/globals';
import { RequestAuthenticator } from '../authentication/request-authenticator.js';
import { resolveAuthOptions } from '../options/resolve-auth-options.js';
import { createTokenVerifier } from '../options/create-token-verifier.js';
import { makeKey, validToken } from '../../test/support/keys.js';
import { createRevocationStore } from '../options/create-revocation-store.js';
import { RevocationChecker } from './revocation-checker.js';

describe('a revocation until exp', () => {
  it('holds for as long as the verifier still accepts the token past its exp', async () => {
    const key = makeKey('ES256');
    let clock = 1_700_000_000;
    const options = resolveAuthOptions({
      issuers: [{ issuer: 'https://issuer.test', keys: [key.publicJwk] }],
      audience: 'orders-api',
      now: () => clock,
      clockToleranceSeconds: 30,
      revocation: {},
    });
    // The store the module builds from these options.
    const { store } = createRevocationStore(options, undefined)!;
    const onOutage = options.revocation ? options.revocation.onOutage : undefined;
    const auth = new RequestAuthenticator(
      createTokenVerifier(options),
      new RevocationChecker(store, onOutage!),
      options.tokenSources,
    );
    const outcome = () =>
      Promise.resolve()
        .then(() => auth.authenticateToken(token))
        .then(
          () => 'accepted',
          (error: { reason: string }) => error.reason,
        );
    const token = validToken(key, clock, { exp: clock + 60 });
    const principal = await auth.authenticateToken(token);
    await store.revokeToken(principal.tokenId, principal.expiresAt); // as logout does
    clock = principal.expiresAt + 25; // past exp, within the tolerance
    expect(await outcome()).toBe('revoked');
    clock = principal.expiresAt + 31; // past the tolerance too: expired, whatever the list says
    expect(await outcome()).toBe('expired');
  });
});
