import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AuthServiceConfig } from '../config.js';
import type { UserAccount } from './accounts.js';
import { AUTH_SERVICE_CONFIG } from './auth-service.tokens.js';

/** A login session: what every token of one login shares, up to an absolute limit. */
export interface Session {
  /** `sid` of the session's tokens. */
  readonly id: string;
  readonly subject: string;
  readonly tenant: string;
  readonly scopes: readonly string[];
  /** The device the session was opened from, when the client named one. */
  readonly deviceId: string | undefined;
  /** Epoch seconds. */
  readonly startedAt: number;
  /** Epoch seconds past which no token of the session is valid (`SESSION_MAX_AGE`). */
  readonly expiresAt: number;
}

/**
 * Opens login sessions: a fresh `sid`, the device, and the absolute limit `SESSION_MAX_AGE`,
 * kept in this process's memory. Refresh-token families, logout and a Redis-backed store (the
 * library's `SessionManager`) take this place once the auth service issues refresh tokens.
 */
@Injectable()
export class SessionService {
  private readonly sessions = new Map<string, Session>();

  constructor(@Inject(AUTH_SERVICE_CONFIG) private readonly config: AuthServiceConfig) {}

  async start(user: UserAccount, deviceId: string | undefined): Promise<Session> {
    const startedAt = Math.floor(Date.now() / 1000);
    this.forgetEnded(startedAt);
    const session: Session = Object.freeze({
      id: randomBytes(16).toString('base64url'),
      subject: user.username,
      tenant: user.tenant,
      scopes: user.scopes,
      deviceId,
      startedAt,
      expiresAt: startedAt + this.config.sessionMaxAgeSeconds,
    });
    this.sessions.set(session.id, session);
    return session;
  }

  /** A live session by its id. */
  find(id: string): Session | undefined {
    const session = this.sessions.get(id);
    return session !== undefined && session.expiresAt > Date.now() / 1000 ? session : undefined;
  }

  // Every session lives for the same maximum, so insertion order is expiry order: dropping from
  // the front until a live one keeps memory bounded at a constant cost per login.
  private forgetEnded(now: number): void {
    for (const [id, session] of this.sessions) {
      if (session.expiresAt > now) return;
      this.sessions.delete(id);
    }
  }
}
