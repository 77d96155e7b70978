import type { RevocationQuery, RevokedSubject } from './revocation-entry.js';
import { errorMessage } from '../util/error-message.js';

/**
 * The revocation list: tokens (`jti`), sessions (`sid`) and "everything a subject was issued
 * before T". Each entry expires on its own once the tokens it covers would have expired.
 */
export interface RevocationStore {
  /**
   * Revokes one token until `expiresAt` (epoch seconds, its `exp`): the token `jti` of `issuer`,
   * or, without an issuer, every issuer's token of that `jti`. A `jti` is unique only within its
   * issuer (RFC 7519 §4.1.7): name the issuer (a `Principal`'s `issuer`) wherever it is known.
   */
  revokeToken(jti: string, expiresAt: number, issuer?: string): Promise<void>;
  /**
   * Revokes every token of a session until `expiresAt` (the session's absolute end): the session
   * `sid` of `issuer`, or, without an issuer, every issuer's session of that `sid`.
   */
  revokeSession(sid: string, expiresAt: number, issuer?: string): Promise<void>;
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
  /**
   * Whether the backend answers now and the local view is current, for health checks; answers
   * within about a second whatever the backend does. Without it, `isCurrent` is reported.
   */
  health?(): Promise<RevocationStoreHealth>;
  /** Releases connections and timers the store opened. */
  close(): Promise<void>;
}

/** What a revocation store says about itself, for a health check. */
export interface RevocationStoreHealth {
  /** Whether its shared backend answered just now; always true for a store without one. */
  readonly reachable: boolean;
  /** Whether its local view holds every revocation (`isCurrent`). */
  readonly current: boolean;
  /** Why the backend did not answer, or why the view is not current. */
  readonly error?: string;
}

/** A store's health; one without `health()` is judged by `isCurrent`, one that throws is down. */
export async function revocationStoreHealth(
  store: RevocationStore,
): Promise<RevocationStoreHealth> {
  if (store.health === undefined) {
    return { reachable: store.isCurrent, current: store.isCurrent };
  }
  try {
    return await store.health();
  } catch (error) {
    return { reachable: false, current: false, error: errorMessage(error) };
  }
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
