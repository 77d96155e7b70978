import type { AuthEvents } from '../events.js';
import type { Principal } from '../verify/principal.js';
import type { TokenRenewer } from './token-renewer.js';

/** Outcomes remembered (one per token) so a burst of requests renews once; oldest out first. */
const REMEMBERED = 10_000;

/**
 * Decides which tokens to renew and makes each renewal happen once: requests carrying the same
 * token share one renewal (in flight or done), remembered until that token expires.
 */
export class RenewalCoordinator {
  private readonly outcomes = new Map<
    string,
    { until: number; renewed: Promise<string | undefined> }
  >();

  constructor(
    private readonly renewer: TokenRenewer,
    private readonly windowSeconds: number,
    private readonly isRenewable: (principal: Principal) => boolean,
    private readonly now: () => number,
    private readonly events: AuthEvents = {},
  ) {}

  /** Whether `principal`'s token is due: renewable, valid, with less than the window left. */
  due(principal: Principal): boolean {
    return principal.expiresAt - this.now() < this.windowSeconds && this.isRenewable(principal);
  }

  /** The renewed token, started now or earlier; never rejects (failures resolve `undefined`). */
  renew(token: string, principal: Principal): Promise<string | undefined> {
    // A `jti` is unique within its issuer: two issuers' tokens never share a renewal.
    const key = JSON.stringify([principal.issuer, principal.tokenId]);
    const known = this.outcomes.get(key);
    if (known !== undefined && known.until > this.now()) return known.renewed;
    const renewed = this.renewer.renew(token, principal).then(
      (result) => {
        if (result === undefined) this.events.tokenRenewed?.({ result: 'skipped' });
        return result;
      },
      (error: Error) => {
        this.events.tokenRenewed?.({ result: 'failed', reason: error.message });
        this.outcomes.delete(key); // a failure may be tried again later
        return undefined;
      },
    );
    if (this.outcomes.size >= REMEMBERED) this.outcomes.delete(this.outcomes.keys().next().value!);
    this.outcomes.set(key, { until: principal.expiresAt, renewed });
    return renewed;
  }
}
