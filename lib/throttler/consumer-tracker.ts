import { InvalidTokenError } from '../errors/auth-errors.js';
import { principalOf, setVerdict, verifiedFor } from '../nest/request-state.js';
import { revocationQuery } from '../revocation/revocation-checker.js';
import type { RevocationStore } from '../revocation/revocation-store.js';
import {
  extractToken,
  type CredentialCarrier,
  type TokenSources,
} from '../verify/extract-token.js';
import type { Principal } from '../verify/principal.js';
import type { TokenVerifier } from '../verify/token-verifier.js';

/**
 * The consumer a principal counts as: its service client when the token is the client's own
 * (`sub` names the client, RFC 9068 §2.2, as client-credentials tokens do), else its user. Not
 * every issuer puts `sid` in a user's token, so its absence does not make a client token. The
 * issuer is part of the key, whatever number of issuers one application trusts: each names its
 * own subjects, and one issuer's `alice` must not spend another's, in this application or in
 * another counting in the same Redis.
 */
export function consumerKey(principal: Principal): string {
  const [kind, id] =
    principal.clientId !== undefined && principal.subject === principal.clientId
      ? ['client', principal.clientId]
      : ['sub', principal.subject];
  // The id's own `%` and `@` are escaped, so the first `@` is the one before the issuer: an id and
  // an issuer that both hold one (`bob@https://a/x` of `https://b`, `bob` of `https://a/x@https://b`)
  // never join into one key, and one issuer's user never spends another's budget.
  return `${kind}:${escapeAt(id)}@${principal.issuer}`;
}

/** `%` and `@` as `%25` and `%40`: reversible, and free of `@`. */
function escapeAt(id: string): string {
  return id.replace(/[%@]/g, (c) => (c === '%' ? '%25' : '%40'));
}

/**
 * Finds whom a request counts against, before or after the bearer guard has authenticated it:
 * its verified, unrevoked consumer (`consumerKey`), or none. The token is verified once per
 * request whichever runs first: what this verifies is recorded for the bearer guard, and what the
 * bearer guard authenticated is reused here.
 */
export class ConsumerTracker {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly revocations: RevocationStore | undefined,
    private readonly sources: TokenSources,
  ) {}

  /**
   * The request's consumer key, or `undefined` when it has no valid token: none, a malformed
   * request, a token that fails verification (forged, expired, of an untrusted issuer...) or one
   * the revocation list holds, or a token bound to a key (`cnf`) that the bearer guard has not yet
   * authenticated with its proof. Such a request counts against its client IP, never against the
   * subject its token names: anyone can write a token naming someone else, or steal a bound one.
   */
  async consumerOf(request: CredentialCarrier & object): Promise<string | undefined> {
    const authenticated = principalOf(request);
    if (authenticated !== undefined) return consumerKey(authenticated);
    let token: string | undefined;
    try {
      token = extractToken(request, this.sources);
    } catch {
      return undefined; // the bearer guard answers it (400)
    }
    if (token === undefined) return undefined;
    let principal: Principal;
    try {
      principal = verifiedFor(request, token, this.verifier) ?? (await this.verifier.verify(token));
    } catch (error) {
      // The bearer guard answers it with this error, without verifying the token again.
      if (error instanceof InvalidTokenError) {
        setVerdict(request, token, this.verifier, { error });
      }
      return undefined;
    }
    setVerdict(request, token, this.verifier, { principal });
    // A token bound to a key (`cnf`) is valid only with a proof by that key, which a bearer
    // source never carries: whoever sends it this way (a thief, say) spends the IP's budget, not
    // its owner's. A request the bearer guard authenticated with a proof is counted above.
    if (principal.claims.cnf !== undefined) return undefined;
    // The local view only, and silently: the bearer guard makes the check of the route's tier,
    // which refuses, counts and logs a revoked token once.
    if (this.revocations?.isRevoked(revocationQuery(principal))) return undefined;
    return consumerKey(principal);
  }
}
