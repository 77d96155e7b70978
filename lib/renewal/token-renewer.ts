import type { Principal } from '../verify/principal.js';

/**
 * Issues a renewed access token for a valid, near-expiry one: locally where the service holds a
 * signing key, or by asking the issuer. `undefined` means "not renewable" (session ended, revoked,
 * not a session token); a rejection means the renewal itself failed.
 */
export interface TokenRenewer {
  renew(token: string, principal: Principal): Promise<string | undefined>;
}
