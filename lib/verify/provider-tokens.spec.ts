import { describe, expect, it } from '@jest/globals';
import { InvalidTokenError } from '../errors/auth-errors.js';
import { createTokenVerifier } from '../options/create-token-verifier.js';
import { resolveAuthOptions } from '../options/resolve-auth-options.js';
import { TestIssuer } from '../testing/test-issuer.js';
import type { IssuerProfileName } from './issuer-profile.js';

// The verifier's profiles against the tokens nest-tessera/testing mints as each provider does:
// each access token is accepted as its issuer's, each ID (and Keycloak refresh) token refused.

const NOW = 1_700_000_000;
const PROFILES: readonly { profile: IssuerProfileName; audience?: string }[] = [
  { profile: 'rfc9068' },
  { profile: 'keycloak', audience: 'orders-api' },
  { profile: 'auth0', audience: 'https://orders.test' },
  { profile: 'entra' },
  { profile: 'cognito', audience: 'orders-client' },
  { profile: 'okta' },
  { profile: 'generic' },
];

async function reasonOf(verify: () => unknown): Promise<string> {
  try {
    await verify();
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTokenError);
    return (error as InvalidTokenError).reason;
  }
}

describe.each(PROFILES)('$profile tokens as the provider mints them', ({ profile, audience }) => {
  const issuer = TestIssuer.create({ profile, audience, alg: 'ES256', now: () => NOW });
  const verifier = createTokenVerifier(
    resolveAuthOptions({
      issuers: [issuer.trusted],
      audience: issuer.audience,
      now: () => NOW,
    }),
  );

  it('accepts the access token', async () => {
    expect(await reasonOf(() => verifier.verify(issuer.token()))).toBe('accepted');
  });

  it('refuses the ID token', async () => {
    expect(await reasonOf(() => verifier.verify(issuer.idToken()))).not.toBe('accepted');
  });

  if (profile === 'keycloak') {
    it('refuses the refresh token', async () => {
      expect(await reasonOf(() => verifier.verify(issuer.refreshToken()))).toBe('typ_mismatch');
    });
  }
});
