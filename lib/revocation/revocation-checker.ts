import { InvalidTokenError } from '../errors/auth-errors.js';
import { NO_TRACING, type TraceHooks } from '../trace-hooks.js';
import type { OutagePolicy, RiskTier } from './risk-tier.js';
import type { Awaitable } from '../util/awaitable.js';
import type { Principal } from '../verify/principal.js';
import type { RevocationQuery } from './revocation-entry.js';
import { RevocationUnavailableError, type RevocationStore } from './revocation-store.js';

/** What the checker reports. */
export interface RevocationCheckEvents {
  /** A revoked token was refused. */
  revocationHit?(event: { principal: Principal; tier: RiskTier }): void;
  /** The backend could not be asked and the tier's policy let the request through. */
  revocationFailedOpen?(event: { principal: Principal; tier: RiskTier; error: Error }): void;
}

/** A principal's revocation keys: its `jti`, `sid`, `iss`, `sub` and `iat`. */
export function revocationQuery(principal: Principal): RevocationQuery {
  return {
    jti: principal.tokenId,
    sid: principal.sessionId,
    iss: principal.issuer,
    sub: principal.subject,
    iat: principal.issuedAt,
  };
}

/**
 * Checks a verified principal against the revocation list: standard routes from the local view
 * (no I/O), sensitive routes against the backend; an outage is decided by the declared policy.
 * Throws `InvalidTokenError('revoked' | 'revocation_unavailable')`.
 */
export class RevocationChecker {
  constructor(
    private readonly store: RevocationStore,
    private readonly policy: OutagePolicy,
    private readonly events: RevocationCheckEvents = {},
    private readonly trace: TraceHooks = NO_TRACING,
  ) {}

  /**
   * Throws if the principal's token is revoked, or if the backend cannot be asked and the tier
   * fails closed. Synchronous for standard routes (a promise for sensitive ones); `await` it.
   */
  check(principal: Principal, tier: RiskTier): Awaitable<void> {
    const query = revocationQuery(principal);
    // Only the backend round trip gets a span: the local check is a set look-up, cheaper than one.
    if (tier === 'sensitive') {
      return this.trace.revocationCheck(tier, () => this.checkBackend(principal, query, tier));
    }
    if (this.store.isRevoked(query)) this.refuse(principal, tier);
    if (!this.store.isCurrent) {
      this.outage(
        principal,
        tier,
        new RevocationUnavailableError('revocation view is not current'),
      );
    }
  }

  private async checkBackend(
    principal: Principal,
    query: RevocationQuery,
    tier: RiskTier,
  ): Promise<void> {
    let revoked: boolean;
    try {
      revoked = await this.store.isRevokedStrong(query);
    } catch (error) {
      if (!(error instanceof RevocationUnavailableError)) throw error;
      this.outage(principal, tier, error);
      revoked = this.store.isRevoked(query);
    }
    if (revoked) this.refuse(principal, tier);
  }

  private outage(principal: Principal, tier: RiskTier, error: Error): void {
    if (this.policy[tier] === 'fail-closed') {
      throw new InvalidTokenError('revocation_unavailable', { cause: error });
    }
    this.trace.revocationEvent('failed_open', tier);
    this.events.revocationFailedOpen?.({ principal, tier, error });
  }

  private refuse(principal: Principal, tier: RiskTier): never {
    this.trace.revocationEvent('hit', tier);
    this.events.revocationHit?.({ principal, tier });
    throw new InvalidTokenError('revoked');
  }
}
