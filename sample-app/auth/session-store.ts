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
 * Where sessions live. In memory for one process; refresh-token families, logout and a shared
 * (Redis) implementation build on this interface.
 */
export abstract class SessionStore {
  abstract save(session: Session): Promise<void>;
  abstract find(id: string): Promise<Session | undefined>;
}

/** Sessions in this process's memory, forgotten once past their absolute limit. */
export class MemorySessionStore extends SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly now: () => number = () => Date.now() / 1000) {
    super();
  }

  override async save(session: Session): Promise<void> {
    this.forgetExpired();
    this.sessions.set(session.id, session);
  }

  override async find(id: string): Promise<Session | undefined> {
    const session = this.sessions.get(id);
    return session !== undefined && session.expiresAt > this.now() ? session : undefined;
  }

  // Every session lives for the same maximum, so insertion order is expiry order: dropping from
  // the front until a live one keeps memory bounded at constant cost per login.
  private forgetExpired(): void {
    const now = this.now();
    for (const [id, session] of this.sessions) {
      if (session.expiresAt > now) return;
      this.sessions.delete(id);
    }
  }
}
