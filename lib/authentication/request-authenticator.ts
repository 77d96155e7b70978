import {
  checkBinding,
  dpopCredential,
  refuseWithoutProof,
  unbound,
  type DpopCarrier,
  type DpopPolicy,
} from '../dpop/dpop-request.js';
import { InvalidRequestError, MissingTokenError } from '../errors/auth-errors.js';
import type { RevocationChecker } from '../revocation/revocation-checker.js';
import type { RiskTier } from '../revocation/risk-tier.js';
import {
  assertOneWord,
  extractToken,
  type CredentialCarrier,
  type TokenSources,
} from '../verify/extract-token.js';
import type { Principal } from '../verify/principal.js';
import type { TokenVerifier } from '../verify/token-verifier.js';
import { thenApply, type Awaitable } from '../util/awaitable.js';
import { EndOfTurn } from '../util/end-of-turn.js';
import { extractedToken, type TokenExtractor } from './extracted-token.js';

/**
 * One request's authentication, whatever the transport or guard: find the one token, verify it,
 * check it against the revocation list for the route's risk tier.
 */
export class RequestAuthenticator {
  /**
   * With the Authorization header as the only source, its credential is scanned for a second
   * word only when the verified-token cache does not hold it: a token found there has none, and
   * the scan of hundreds of characters was a fifth of a cached request's cost in the guard.
   */
  private readonly bearerOnly: boolean;
  /** When the signature checks of this turn's requests run, together. */
  private readonly endOfTurn = new EndOfTurn();

  constructor(
    /** The verifier of this module: a verdict another one reached is never taken for its own. */
    readonly verifier: TokenVerifier,
    private readonly revocation: RevocationChecker | undefined,
    private readonly sources: TokenSources,
    /** DPoP (RFC 9449); without it a bound token is refused whichever way it comes. */
    private readonly dpop?: DpopPolicy,
  ) {
    this.bearerOnly = sources.headers.length === 0 && sources.bodyField === undefined;
  }

  /**
   * The request's verified, unrevoked principal. `alreadyVerified` is what the token verified as
   * earlier in the same request, if it was (a function of the token and the request, so that a
   * caller needs no new one per request). Synchronous when it can be; `await` it.
   */
  authenticate<R extends CredentialCarrier>(
    request: R,
    tier: RiskTier = 'standard',
    alreadyVerified?: (token: string, request: R) => Principal | undefined,
  ): Awaitable<Principal> {
    if (this.dpop !== undefined) return this.authenticateWithDpop(request, tier, alreadyVerified);
    const token = extractToken(request, this.sources, !this.bearerOnly);
    if (token === undefined) throw new MissingTokenError();
    // A verdict reached earlier came from a full extraction of its own (the throttler guard's).
    const principal = alreadyVerified?.(token, request);
    if (principal !== undefined) return this.unrevoked(unbound(principal), tier);
    const cached = this.verifier.cachedPrincipal(token);
    if (cached !== undefined) return this.unrevoked(unbound(cached), tier);
    if (this.bearerOnly) assertOneWord(token);
    return this.verifyAtEndOfTurn(token, tier, unbound);
  }

  /**
   * With DPoP on: the token of `Authorization: DPoP` (with its proof) or of the bearer sources,
   * verified and unrevoked, then its binding checked (`checkBinding`).
   */
  private authenticateWithDpop<R extends CredentialCarrier>(
    request: R,
    tier: RiskTier,
    alreadyVerified: ((token: string, request: R) => Principal | undefined) | undefined,
  ): Awaitable<Principal> {
    const dpop = this.dpop!;
    const proven = dpopCredential(request.headers.authorization);
    const bearer = extractToken(request, this.sources);
    if (proven !== undefined && bearer !== undefined && bearer !== proven) {
      throw new InvalidRequestError('multiple_tokens');
    }
    const token = proven ?? bearer;
    if (token === undefined) throw new MissingTokenError();
    const bound = (principal: Principal) =>
      checkBinding(dpop, request as DpopCarrier, principal, token, proven !== undefined, tier);
    const principal = alreadyVerified?.(token, request) ?? this.verifier.cachedPrincipal(token);
    if (principal !== undefined) return thenApply(this.unrevoked(principal, tier), bound);
    return this.verifyAtEndOfTurn(token, tier).then(bound);
  }

  /**
   * The request's verified, unrevoked principal, its token found by the application's own
   * `extract` instead of the module's token sources; the module's query-string rule still holds.
   */
  authenticateWith<R extends CredentialCarrier>(
    request: R,
    extract: TokenExtractor<R>,
    tier: RiskTier = 'standard',
  ): Awaitable<Principal> {
    const token = extractedToken(request, extract, this.sources.forbiddenQueryParameters);
    return this.authenticateToken(token, tier);
  }

  /**
   * Verifies a token a client presented some other way (an application's extractor, message
   * metadata, a renewal request). No proof travels with these: a token bound to a key is refused,
   * and so is an unbound one where DPoP is required (`dpop_required`). Synchronous when the
   * verified-token cache answers; `await` it.
   */
  authenticateToken(token: string, tier: RiskTier = 'standard'): Awaitable<Principal> {
    return this.withoutProof(token, tier, this.presentedWithoutProof);
  }

  /**
   * Verifies a token this application obtained for itself (a service identity's): a token bound
   * to a key is refused, as wherever no proof can be asked; DPoP's `required` is a rule for what
   * clients present, not for this.
   */
  authenticateOwnToken(token: string): Awaitable<Principal> {
    return this.withoutProof(token, 'standard', unbound);
  }

  private readonly presentedWithoutProof = (principal: Principal): Principal =>
    refuseWithoutProof(this.dpop, unbound(principal));

  private withoutProof(
    token: string,
    tier: RiskTier,
    accept: (principal: Principal) => Principal,
  ): Awaitable<Principal> {
    const cached = this.verifier.cachedPrincipal(token);
    if (cached !== undefined) return this.unrevoked(accept(cached), tier);
    return this.verifyAtEndOfTurn(token, tier, accept);
  }

  private verifyAtEndOfTurn(
    token: string,
    tier: RiskTier,
    accept: (principal: Principal) => Principal = same,
  ): Promise<Principal> {
    // A signature to check waits for the end of the event loop's turn, so that the checks of all
    // the requests read in one turn run back to back, and then their answers. Interleaved with
    // the rest of each request, a check (and the request around it) runs with the processor's
    // caches full of the other's code and data: measured in a server under load, one RSA check
    // cost about twice its time in a loop, and up to three times on Express (docs/benchmarks.md).
    return this.endOfTurn
      .next()
      .then(() =>
        thenApply(this.verifier.verify(token), (principal) =>
          this.unrevoked(accept(principal), tier),
        ),
      );
  }

  private unrevoked(principal: Principal, tier: RiskTier): Awaitable<Principal> {
    if (this.revocation === undefined) return principal;
    const checked = this.revocation.check(principal, tier);
    // The local check (standard routes) answers at once: no closure on every request's path.
    return checked instanceof Promise ? checked.then(() => principal) : principal;
  }
}

function same(principal: Principal): Principal {
  return principal;
}
