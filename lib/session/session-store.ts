/** A login session: what every token of one login shares, up to an absolute limit. */
export interface SessionRecord {
  /** `sid` of the session's tokens. */
  readonly id: string;
  readonly subject: string;
  readonly tenant: string | undefined;
  readonly scopes: readonly string[];
  readonly clientId: string;
  /** The device the session is bound to, when the client named one at login. */
  readonly deviceId: string | undefined;
  /**
   * The thumbprint of the DPoP key the session was opened with: each of its refreshes needs a
   * proof by that key, and each of its access tokens is bound to it.
   */
  readonly jkt?: string;
  /** Epoch seconds. */
  readonly startedAt: number;
  /** Epoch seconds: no token of the session, refresh or access, outlives it. */
  readonly expiresAt: number;
}

/** What presenting a refresh token came to. */
export type RotationResult =
  | { readonly status: 'rotated'; readonly session: SessionRecord }
  /** A retired refresh token came back: the session is now revoked. */
  | { readonly status: 'reused'; readonly session: SessionRecord }
  /** The token came from another device than the session's: the session is now revoked. */
  | { readonly status: 'device_mismatch'; readonly session: SessionRecord }
  /** Unknown, expired, or of a revoked or ended session. */
  | { readonly status: 'invalid' };

/**
 * A session's first refresh token, as a store keeps it: hashes only. Every refresh token of a
 * session carries the session's family secret and its generation (0 for the first, one more at
 * each rotation), so a store keeps one token per session, however often it rotates, and still
 * knows any earlier token of the session for one (its family secret, an older generation).
 */
export interface FirstRefreshToken {
  /** SHA-256 of the session's family secret. */
  readonly familyHash: string;
  /** SHA-256 of the whole token. */
  readonly hash: string;
  /** Epoch seconds the token expires (never past the session's end). */
  readonly expiresAt: number;
}

/** One rotation: the presented token's session, family, generation and hash; its successor's. */
export interface RotationRequest {
  /** The session the presented token names. */
  readonly sessionId: string;
  /** SHA-256 of the family secret the presented token carries. */
  readonly familyHash: string;
  /** The generation the presented token names. */
  readonly generation: number;
  readonly presentedHash: string;
  /** SHA-256 of the successor, of generation `generation + 1`. */
  readonly nextHash: string;
  /** Epoch seconds the successor expires (never past the session's end). */
  readonly nextExpiresAt: number;
  readonly deviceId: string | undefined;
  readonly now: number;
}

/**
 * Sessions and their refresh-token families: per session, the hash of its family secret, the
 * current generation and the current token's hash, nothing per retired token. Rotation is atomic:
 * of two requests racing with one token, exactly one rotates; and idempotent: the same request
 * (the same `nextHash`, fresh for each request) run again answers `rotated` again. A token of the
 * session's family and of an earlier generation is reuse; one of another family is `invalid`
 * (whoever knows a session id cannot end the session with it).
 */
export interface SessionStore {
  /** Opens a session with its first refresh token (generation 0). */
  open(session: SessionRecord, first: FirstRefreshToken): Promise<void>;
  /** Makes the successor current if the presented token is, or says why not. */
  rotate(request: RotationRequest): Promise<RotationResult>;
  /** The session if it is live: not ended, not revoked. */
  find(sessionId: string): Promise<SessionRecord | undefined>;
  /** Ends a session: its refresh tokens stop working. Returns it if it was live. */
  revoke(sessionId: string): Promise<SessionRecord | undefined>;
  close(): Promise<void>;
}

/** Injection token of the `SessionStore`. */
export const SessionStore = Symbol('SessionStore');
