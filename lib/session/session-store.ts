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

/** One rotation: the presented token's hash, its successor's, and the device that asks. */
export interface RotationRequest {
  readonly presentedHash: string;
  readonly nextHash: string;
  /** Epoch seconds the successor expires (never past the session's end). */
  readonly nextExpiresAt: number;
  readonly deviceId: string | undefined;
  readonly now: number;
}

/**
 * Sessions and their refresh-token families. Only hashes of refresh tokens are stored. Rotation
 * is atomic: of two requests racing with one token, exactly one rotates; and idempotent: the same
 * request (the same `nextHash`, fresh for each request) run again answers `rotated` again.
 */
export interface SessionStore {
  /** Opens a session whose first refresh token has `refreshHash`. */
  open(session: SessionRecord, refreshHash: string, refreshExpiresAt: number): Promise<void>;
  /** Retires the presented token and makes its successor current, or says why not. */
  rotate(request: RotationRequest): Promise<RotationResult>;
  /** The session if it is live: not ended, not revoked. */
  find(sessionId: string): Promise<SessionRecord | undefined>;
  /** Ends a session: its refresh tokens stop working. Returns it if it was live. */
  revoke(sessionId: string): Promise<SessionRecord | undefined>;
  close(): Promise<void>;
}

/** Injection token of the `SessionStore`. */
export const SessionStore = Symbol('SessionStore');
