import type { RevocationQuery, RevokedSubject } from './revocation-entry.js';

/**
 * The revocation list: tokens (`jti`), sessions (`sid`) and "everything a subject was issued
 * before T". Each entry expires on its own once the tokens it covers would have expired.
 */
export interface RevocationStore {
  /** Revokes one token until `expiresAt` (epoch seconds, its `exp`). */
  revokeToken(jti: string, expiresAt: number): Promise<void>;
  /** Revokes every token of a session until `expiresAt` (the session's absolute end). */
  revokeSession(sid: string, expiresAt: number): Promise<void>;
  /**
   * Revokes every token of a subject of one issuer issued (`iat`) before `issuedBefore`,
   * remembered until `expiresAt` (the longest lifetime of a token issued before then). A
   * `Principal` names its subject: `revokeSubject(principal, now, now + ttl)`.
   */
  revokeSubject(subject: RevokedSubject, issuedBefore: number, expiresAt: number): Promise<void>;
  /** The local view's answer, without I/O: the per-request check. */
  isRevoked(query: RevocationQuery): boolean;
  /** False while the local view may be missing revocations (the shared backend is unreachable). */
  readonly isCurrent: boolean;
  /** Asks the shared backend itself; rejects with `RevocationUnavailableError` when it cannot. */
  isRevokedStrong(query: RevocationQuery): Promise<boolean>;
  /** Resolves once the local view is loaded (for stores that load one). */
  ready?(): Promise<void>;
  /** Releases connections and timers the store opened. */
  close(): Promise<void>;
}

/** Injection token of the `RevocationStore`. */
export const RevocationStore = Symbol('RevocationStore');

/** The revocation backend could not be asked. */
export class RevocationUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RevocationUnavailableError';
  }
}
