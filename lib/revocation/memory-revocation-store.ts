import { subjectId, type RevocationQuery, type RevokedSubject } from './revocation-entry.js';
import { RevocationSet } from './revocation-set.js';
import type { RevocationStore } from './revocation-store.js';

/** The revocation list of a single instance, in memory: the embedded default. */
export class MemoryRevocationStore implements RevocationStore {
  readonly isCurrent = true;
  private readonly set: RevocationSet;

  constructor(options: { now?: () => number } = {}) {
    this.set = new RevocationSet(options.now ?? (() => Date.now() / 1000));
  }

  async revokeToken(jti: string, expiresAt: number): Promise<void> {
    this.set.add({ kind: 'token', id: jti, expiresAt });
  }

  async revokeSession(sid: string, expiresAt: number): Promise<void> {
    this.set.add({ kind: 'session', id: sid, expiresAt });
  }

  async revokeSubject(
    { issuer, subject }: RevokedSubject,
    issuedBefore: number,
    expiresAt: number,
  ): Promise<void> {
    this.set.add({ kind: 'subject', id: subjectId(issuer, subject), issuedBefore, expiresAt });
  }

  isRevoked(query: RevocationQuery): boolean {
    return this.set.matches(query);
  }

  async isRevokedStrong(query: RevocationQuery): Promise<boolean> {
    return this.set.matches(query);
  }

  async close(): Promise<void> {}
}
