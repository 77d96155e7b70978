import type { SessionManager } from '../session/session-manager.js';
import type { Principal } from '../verify/principal.js';
import type { TokenRenewer } from './token-renewer.js';

/** Renews with the issuer's own `SessionManager`: for the service that holds the signing key. */
export class LocalTokenRenewer implements TokenRenewer {
  constructor(private readonly sessions: SessionManager) {}

  async renew(_token: string, principal: Principal): Promise<string | undefined> {
    return (await this.sessions.renew(principal))?.token;
  }
}
