import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AuthServiceConfig } from '../config.js';
import type { UserAccount } from './accounts.js';
import { AUTH_SERVICE_CONFIG } from './auth-service.tokens.js';
import { SessionStore, type Session } from './session-store.js';

/** Opens login sessions: a fresh `sid`, the device, and the absolute limit `SESSION_MAX_AGE`. */
@Injectable()
export class SessionService {
  constructor(
    private readonly store: SessionStore,
    @Inject(AUTH_SERVICE_CONFIG) private readonly config: AuthServiceConfig,
  ) {}

  async start(user: UserAccount, deviceId: string | undefined): Promise<Session> {
    const startedAt = Math.floor(Date.now() / 1000);
    const session: Session = Object.freeze({
      id: randomBytes(16).toString('base64url'),
      subject: user.username,
      tenant: user.tenant,
      scopes: user.scopes,
      deviceId,
      startedAt,
      expiresAt: startedAt + this.config.sessionMaxAgeSeconds,
    });
    await this.store.save(session);
    return session;
  }
}
