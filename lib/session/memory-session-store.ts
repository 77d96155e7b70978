import type {
  FirstRefreshToken,
  RotationRequest,
  RotationResult,
  SessionRecord,
  SessionStore,
} from './session-store.js';

interface Family {
  readonly session: SessionRecord;
  readonly familyHash: string;
  generation: number;
  currentHash: string;
  currentExpiresAt: number;
  revoked: boolean;
}

/** Sessions of a single instance, in memory: one entry per session, however often it refreshes. */
export class MemorySessionStore implements SessionStore {
  private readonly families = new Map<string, Family>();

  constructor(private readonly now: () => number = () => Date.now() / 1000) {}

  /** Sessions held: live ones, and ended ones not yet forgotten. */
  get size(): number {
    return this.families.size;
  }

  async open(session: SessionRecord, first: FirstRefreshToken): Promise<void> {
    this.sweep();
    this.families.set(session.id, {
      session,
      familyHash: first.familyHash,
      generation: 0,
      currentHash: first.hash,
      currentExpiresAt: first.expiresAt,
      revoked: false,
    });
  }

  async rotate(request: RotationRequest): Promise<RotationResult> {
    const family = this.families.get(request.sessionId);
    if (
      family === undefined ||
      family.revoked ||
      family.session.expiresAt <= request.now ||
      family.familyHash !== request.familyHash
    ) {
      return { status: 'invalid' };
    }
    const { session } = family;
    // The same request again (its fresh successor already current): the rotation stands.
    if (family.currentHash === request.nextHash) return { status: 'rotated', session };
    if (request.generation < family.generation) {
      family.revoked = true;
      return { status: 'reused', session };
    }
    if (request.generation !== family.generation || family.currentHash !== request.presentedHash) {
      return { status: 'invalid' };
    }
    if ((session.deviceId ?? '') !== (request.deviceId ?? '')) {
      family.revoked = true;
      return { status: 'device_mismatch', session };
    }
    if (family.currentExpiresAt <= request.now) return { status: 'invalid' };
    family.generation++;
    family.currentHash = request.nextHash;
    family.currentExpiresAt = request.nextExpiresAt;
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

  /** Forgets ended sessions, so memory stays bounded by live sessions. */
  private sweep(): void {
    const now = this.now();
    for (const [id, family] of this.families) {
      if (family.session.expiresAt <= now) this.families.delete(id);
    }
  }
}
