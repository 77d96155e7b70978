import {
  DEFAULT_REVOCATION_CLOCK_TOLERANCE_SECONDS,
  issuedEntry,
  subjectId,
  type RevocationQuery,
  type RevokedSubject,
} from './revocation-entry.js';
import { RevocationSet } from './revocation-set.js';
import type { RevocationStore, RevocationStoreHealth } from './revocation-store.js';

/** The revocation list of a single instance, in memory: the embedded default. */
export class MemoryRevocationStore implements RevocationStore {
  readonly isCurrent = true;
  private readonly set: RevocationSet;
  private readonly clockToleranceSeconds: number;

  /**
   * `clockToleranceSeconds`: how long an entry is kept past the `until` it is given, at least the
   * verifiers' clock tolerance (they accept a token that long past its `exp`); default 300.
   */
  constructor(options: { now?: () => number; clockToleranceSeconds?: number } = {}) {
    this.set = new RevocationSet(options.now ?? (() => Date.now() / 1000));
    this.clockToleranceSeconds =
      options.clockToleranceSeconds ?? DEFAULT_REVOCATION_CLOCK_TOLERANCE_SECONDS;
  }

  async revokeToken(jti: string, expiresAt: number, issuer?: string): Promise<void> {
    this.set.add(issuedEntry('token', jti, issuer, expiresAt + this.clockToleranceSeconds));
  }

  async revokeSession(sid: string, expiresAt: number, issuer?: string): Promise<void> {
    this.set.add(issuedEntry('session', sid, issuer, expiresAt + this.clockToleranceSeconds));
  }

  async revokeSubject(
    { issuer, subject }: RevokedSubject,
    issuedBefore: number,
    expiresAt: number,
  ): Promise<void> {
    this.set.add({
      kind: 'subject',
      id: subjectId(issuer, subject),
      issuedBefore,
      expiresAt: expiresAt + this.clockToleranceSeconds,
    });
  }

  isRevoked(query: RevocationQuery): boolean {
    return this.set.matches(query);
  }

  async isRevokedStrong(query: RevocationQuery): Promise<boolean> {
    return this.set.matches(query);
  }

  /** Always up: there is no backend to lose. */
  async health(): Promise<RevocationStoreHealth> {
    return { reachable: true, current: true };
  }

  async close(): Promise<void> {}
}
