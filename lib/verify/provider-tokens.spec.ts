import { describe, expect, it } from '@jest/globals';
import { InvalidTokenError } from '../errors/auth-errors.js';
import { createTokenVerifier } from '../options/create-token-verifier.js';
import { resolveAuthOptions } from '../options/resolve-auth-options.js';
import { TestIssuer } from '../testing/test-issuer.js';
import type { IssuerProfileName } from './issuer-profile.js';

// The verifier's profiles against the tokens nest-tessera/testing mints as each provider does:
// each access token is accepted as its issuer's, each ID (and Keycloak refresh) token refused,
// also where the issuer's audience is the client id its ID tokens are issued to.

const NOW = 1_700_000_000;
/** The client id `nest-tessera/testing` issues ID tokens to. */
const CLIENT_ID = 'test-client';
// Why each profile refuses an ID token: the header `typ` (rfc9068), a claim saying what the
// token is (keycloak `typ`, the others' ID-token-only `nonce`/`at_hash`), or, for Cognito, whose
// ID tokens carry no `client_id`, the missing claim.
const PROFILES: readonly {
  profile: IssuerProfileName;
  audience?: string;
  idTokenReason: string;
}[] = [
  { profile: 'rfc9068', idTokenReason: 'typ_mismatch' },
  { profile: 'keycloak', audience: 'orders-api', idTokenReason: 'typ_mismatch' },
  { profile: 'auth0', audience: 'https://orders.test', idTokenReason: 'typ_mismatch' },
  { profile: 'entra', idTokenReason: 'typ_mismatch' },
  { profile: 'cognito', audience: 'orders-client', idTokenReason: 'missing_claim' },
  { profile: 'okta', idTokenReason: 'typ_mismatch' },
  { profile: 'generic', idTokenReason: 'typ_mismatch' },
];

function verifierOf(issuer: TestIssuer) {
  return createTokenVerifier(
    resolveAuthOptions({ issuers: [issuer.trusted], audience: issuer.audience, now: () => NOW }),
  );
}

async function reasonOf(verify: () => unknown): Promise<string> {
  try {
    await verify();
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTokenError);
    return (error as InvalidTokenError).reason;
  }
}

describe.each(PROFILES)('$profile tokens as the provider mints them', (row) => {
  const { profile, audience, idTokenReason } = row;
  const issuer = TestIssuer.create({ profile, audience, alg: 'ES256', now: () => NOW });
  const verifier = verifierOf(issuer);

  it('accepts the access token', async () => {
    expect(await reasonOf(() => verifier.verify(issuer.token()))).toBe('accepted');
  });

  it('refuses the ID token', async () => {
    expect(await reasonOf(() => verifier.verify(issuer.idToken()))).toBe(idTokenReason);
  });

  it('refuses the ID token where the audience is the client id', async () => {
    const same = TestIssuer.create({ profile, audience: CLIENT_ID, alg: 'ES256', now: () => NOW });
    const sameVerifier = verifierOf(same);
    expect(await reasonOf(() => sameVerifier.verify(same.token()))).toBe('accepted');
    const idToken = same.idToken({ roles: ['orders:delete'], scp: 'orders:delete' });
    expect(await reasonOf(() => sameVerifier.verify(idToken))).toBe(idTokenReason);
  });

  if (profile === 'keycloak') {
    it('refuses the refresh token', async () => {
      expect(await reasonOf(() => verifier.verify(issuer.refreshToken()))).toBe('typ_mismatch');
    });
  }
});
