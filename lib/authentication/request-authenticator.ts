import { MissingTokenError } from '../errors/auth-errors.js';
import type { RevocationChecker, RiskTier } from '../revocation/revocation-checker.js';
import {
  extractToken,
  type CredentialCarrier,
  type TokenSources,
} from '../verify/extract-token.js';
import type { Principal } from '../verify/principal.js';
import type { TokenVerifier } from '../verify/token-verifier.js';

/**
 * One request's authentication, whatever the transport or guard: find the one token, verify it,
 * check it against the revocation list for the route's risk tier.
 */
export class RequestAuthenticator {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly revocation: RevocationChecker | undefined,
    private readonly sources: TokenSources,
  ) {}

  /** `alreadyVerified` is what the token verified as earlier in the same request, if it was. */
  async authenticate(
    request: CredentialCarrier,
    tier: RiskTier = 'standard',
    alreadyVerified?: (token: string) => Principal | undefined,
  ): Promise<Principal> {
    const token = extractToken(request, this.sources);
    if (token === undefined) throw new MissingTokenError();
    const principal = alreadyVerified?.(token);
    if (principal === undefined) return this.authenticateToken(token, tier);
    await this.revocation?.check(principal, tier);
    return principal;
  }

  /** Verifies a token obtained some other way (message metadata, a renewal request). */
  async authenticateToken(token: string, tier: RiskTier = 'standard'): Promise<Principal> {
    const principal = await this.verifier.verify(token);
    await this.revocation?.check(principal, tier);
    return principal;
  }
}
