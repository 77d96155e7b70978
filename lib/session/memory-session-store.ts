import type {
  RotationRequest,
  RotationResult,
  SessionRecord,
  SessionStore,
} from './session-store.js';

interface Family {
  readonly session: SessionRecord;
  currentHash: string;
  currentExpiresAt: number;
  revoked: boolean;
}

/** Sessions of a single instance, in memory. */
export class MemorySessionStore implements SessionStore {
  private readonly families = new Map<string, Family>();
  /** Every refresh-token hash ever issued, current or retired, to its session id. */
  private readonly tokens = new Map<string, string>();

  constructor(private readonly now: () => number = () => Date.now() / 1000) {}

  async open(session: SessionRecord, refreshHash: string, refreshExpiresAt: number): Promise<void> {
    this.sweep();
    this.families.set(session.id, {
      session,
      currentHash: refreshHash,
      currentExpiresAt: refreshExpiresAt,
      revoked: false,
    });
    this.tokens.set(refreshHash, session.id);
  }

  async rotate(request: RotationRequest): Promise<RotationResult> {
    const sessionId = this.tokens.get(request.presentedHash);
    const family = sessionId === undefined ? undefined : this.families.get(sessionId);
    if (family === undefined || family.revoked || family.session.expiresAt <= request.now) {
      return { status: 'invalid' };
    }
    const { session } = family;
    // The same request again (its fresh successor already current): the rotation stands.
    if (family.currentHash === request.nextHash) return { status: 'rotated', session };
    if (family.currentHash !== request.presentedHash) {
      family.revoked = true;
      return { status: 'reused', session };
    }
    if ((session.deviceId ?? '') !== (request.deviceId ?? '')) {
      family.revoked = true;
      return { status: 'device_mismatch', session };
    }
    if (family.currentExpiresAt <= request.now) return { status: 'invalid' };
    family.currentHash = request.nextHash;
    family.currentExpiresAt = request.nextExpiresAt;
    this.tokens.set(request.nextHash, session.id);
    return { status: 'rotated', session };
  }

  async find(sessionId: string): Promise<SessionRecord | undefined> {
    const family = this.families.get(sessionId);
    if (family === undefined || family.revoked || family.session.expiresAt <= this.now()) {
      return undefined;
    }
    return family.session;
  }

  async revoke(sessionId: string): Promise<SessionRecord | undefined> {
    const family = this.families.get(sessionId);
    if (family === undefined || family.revoked) return undefined;
    family.revoked = true;
    return family.session.expiresAt > this.now() ? family.session : undefined;
  }

  async close(): Promise<void> {}

  /** Forgets ended sessions and their tokens, so memory stays bounded by live sessions. */
  private sweep(): void {
    const now = this.now();
    for (const [id, family] of this.families) {
      if (family.session.expiresAt > now) continue;
      this.families.delete(id);
    }
    if (this.tokens.size > 4 * this.families.size + 1024) {
      for (const [hash, id] of this.tokens) if (!this.families.has(id)) this.tokens.delete(hash);
    }
  }
}
