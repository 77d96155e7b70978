import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IssuedAccessToken, TokenIssuer } from '../issue/token-issuer.js';
import { revocationQuery } from '../revocation/revocation-checker.js';
import type { RevocationStore } from '../revocation/revocation-store.js';
import type { Principal } from '../verify/principal.js';
import type { SessionRecord, SessionStore } from './session-store.js';

/** Why a refresh was refused; `reused` and `device_mismatch` also revoked the session. */
export type RefreshFailureReason = 'invalid' | 'reused' | 'device_mismatch' | 'key_mismatch';

/** A refresh token was refused (answer 401); the reason is for logs and metrics only. */
export class RefreshRefusedError extends Error {
  constructor(readonly reason: RefreshFailureReason) {
    super(`refresh refused: ${reason}`);
    this.name = 'RefreshRefusedError';
  }
}

/** What the session manager reports. */
export interface SessionEvents {
  /** Every refresh, by result: `rotated`, or the reason it was refused. */
  refreshed?(event: { result: 'rotated' | RefreshFailureReason; sessionId?: string }): void;
  /** A retired refresh token came back: its session (family) was revoked. */
  refreshReuseDetected?(event: { sessionId: string; subject: string }): void;
  /** A refresh came from another device than the session's: the session was revoked. */
  deviceMismatchDetected?(event: { sessionId: string; subject: string }): void;
}

export interface SessionManagerOptions {
  readonly issuer: TokenIssuer;
  readonly sessions: SessionStore;
  /** Where revoked sessions and tokens are published, so verifiers refuse their access tokens. */
  readonly revocations: RevocationStore;
  /** Lifetime of a refresh token, in seconds (never past the session's end). */
  readonly refreshTokenTtlSeconds: number;
  /** The absolute limit of a session from login, in seconds. */
  readonly sessionMaxAgeSeconds: number;
  readonly events?: SessionEvents;
  /** Epoch seconds. @default () => Date.now() / 1000 */
  readonly now?: () => number;
}

/** Who logs in. */
export interface LoginRequest {
  readonly subject: string;
  readonly tenant?: string;
  readonly scopes: readonly string[];
  readonly clientId: string;
  readonly deviceId?: string;
  /** The thumbprint of the client's DPoP key, when it proved one: the session is bound to it. */
  readonly jkt?: string;
}

/** An access token and the refresh token that goes with it. */
export interface TokenPair {
  readonly access: IssuedAccessToken;
  /**
   * High entropy, to be kept secret: `<sid>.<generation>.<family secret>.<random>`; only hashes of
   * its parts are stored. Hand it to the client once.
   */
  readonly refreshToken: string;
  readonly session: SessionRecord;
}

/**
 * The issuer's sessions: login opens one, every refresh rotates its refresh token, a replayed or
 * foreign-device refresh token revokes the whole family, and logout ends it. Nothing outlives
 * the session's absolute limit.
 */
export class SessionManager {
  private readonly now: () => number;

  constructor(private readonly options: SessionManagerOptions) {
    this.now = options.now ?? (() => Date.now() / 1000);
  }

  async login(request: LoginRequest): Promise<TokenPair> {
    const startedAt = Math.floor(this.now());
    const session: SessionRecord = {
      id: randomUUID(),
      subject: request.subject,
      tenant: request.tenant,
      scopes: [...request.scopes],
      clientId: request.clientId,
      deviceId: request.deviceId,
      ...(request.jkt !== undefined && { jkt: request.jkt }),
      startedAt,
      expiresAt: startedAt + this.options.sessionMaxAgeSeconds,
    };
    const family = randomBytes(32).toString('base64url');
    const refreshToken = formatRefreshToken({ sessionId: session.id, generation: 0, family });
    await this.options.sessions.open(session, {
      familyHash: hashRefreshToken(family),
      hash: hashRefreshToken(refreshToken),
      expiresAt: this.refreshExpiry(session),
    });
    return { access: this.accessTokenFor(session), refreshToken, session };
  }

  /**
   * Rotates `refreshToken` (any string: one that is no refresh token of this manager's is
   * refused like an unknown one); throws `RefreshRefusedError` (after revoking, for reuse). `jkt`
   * is the thumbprint of the DPoP key the request proved, if any: a session opened with one needs
   * a proof by the same key (another key, or none, revokes it), and the access token is bound to it.
   */
  async refresh(
    refreshToken: string,
    deviceId: string | undefined,
    jkt?: string,
  ): Promise<TokenPair> {
    const presented = parseRefreshToken(refreshToken);
    if (presented === undefined) {
      this.options.events?.refreshed?.({ result: 'invalid' });
      throw new RefreshRefusedError('invalid');
    }
    // The revocation list outlives what the session store may lose (a failover to a replica that
    // missed the session's end): a session it names stays ended, and is ended again here.
    const sid = presented.sessionId;
    if (this.options.revocations.isRevoked({ sid, iss: this.options.issuer.issuer })) {
      await this.options.sessions.revoke(sid);
      this.options.events?.refreshed?.({ result: 'invalid', sessionId: sid });
      throw new RefreshRefusedError('invalid');
    }
    const next = formatRefreshToken({ ...presented, generation: presented.generation + 1 });
    const now = this.now();
    const result = await this.options.sessions.rotate({
      sessionId: presented.sessionId,
      familyHash: hashRefreshToken(presented.family),
      generation: presented.generation,
      presentedHash: hashRefreshToken(refreshToken),
      nextHash: hashRefreshToken(next),
      nextExpiresAt: Math.floor(now) + this.options.refreshTokenTtlSeconds,
      deviceId,
      now,
    });
    const events = this.options.events;
    if (
      result.status === 'rotated' &&
      result.session.jkt !== undefined &&
      result.session.jkt !== jkt
    ) {
      // Whoever holds this refresh token does not hold the session's key: a stolen token.
      const { id, expiresAt } = result.session;
      events?.refreshed?.({ result: 'key_mismatch', sessionId: id });
      await this.options.sessions.revoke(id);
      await this.options.revocations.revokeSession(id, expiresAt, this.options.issuer.issuer);
      throw new RefreshRefusedError('key_mismatch');
    }
    if (result.status === 'rotated') {
      events?.refreshed?.({ result: 'rotated', sessionId: result.session.id });
      return {
        access: this.accessTokenFor(result.session, jkt),
        refreshToken: next,
        session: result.session,
      };
    }
    events?.refreshed?.({
      result: result.status,
      sessionId: 'session' in result ? result.session.id : undefined,
    });
    if (result.status !== 'invalid') {
      const { id, subject, expiresAt } = result.session;
      if (result.status === 'reused') events?.refreshReuseDetected?.({ sessionId: id, subject });
      else events?.deviceMismatchDetected?.({ sessionId: id, subject });
      await this.options.revocations.revokeSession(id, expiresAt, this.options.issuer.issuer);
    }
    throw new RefreshRefusedError(result.status);
  }

  /**
   * A new access token for a live session's valid token: the session's `sub`, `tid`, `scope` and
   * `client_id`, its `sid`, a new `jti` and `exp`, never past the session's absolute limit.
   * `undefined` when the token is not a session token of this issuer, or the session has ended,
   * or the token or session is revoked.
   */
  async renew(principal: Principal): Promise<IssuedAccessToken | undefined> {
    // Only this issuer's session tokens: another trusted issuer's `sid` names none of ours.
    if (principal.sessionId === undefined || principal.issuer !== this.options.issuer.issuer) {
      return undefined;
    }
    // Asks the revocation backend itself: a renewal must never outlive a logout.
    if (await this.options.revocations.isRevokedStrong(revocationQuery(principal))) {
      return undefined;
    }
    const session = await this.options.sessions.find(principal.sessionId);
    if (session === undefined || session.subject !== principal.subject) return undefined;
    if (session.expiresAt <= this.now() + 1) return undefined;
    // A bound token renews bound to the same key (its proof was checked with it); a bound
    // session never renews a token that is not bound to its key.
    const jkt = boundJkt(principal);
    if (session.jkt !== undefined && session.jkt !== jkt) return undefined;
    // What the session was granted, not what the presented token says.
    return this.accessTokenFor(session, jkt);
  }

  /**
   * Revokes the caller's access token and, for a user token, its whole session. The session
   * store goes first and the access token last: if a step fails, the token still works, so the
   * client can retry the logout with it instead of being refused as already revoked.
   */
  async logout(principal: Principal): Promise<void> {
    // Another trusted issuer's `sid` names none of this manager's sessions.
    if (principal.sessionId !== undefined && principal.issuer === this.options.issuer.issuer) {
      const session = await this.options.sessions.revoke(principal.sessionId);
      const until = Math.max(session?.expiresAt ?? 0, principal.expiresAt);
      await this.options.revocations.revokeSession(principal.sessionId, until, principal.issuer);
    }
    await this.options.revocations.revokeToken(
      principal.tokenId,
      principal.expiresAt,
      principal.issuer,
    );
  }

  private accessTokenFor(session: SessionRecord, jkt = session.jkt): IssuedAccessToken {
    return this.options.issuer.issueAccessToken({
      ...(jkt !== undefined && { jkt }),
      subject: session.subject,
      tenant: session.tenant,
      scopes: session.scopes,
      clientId: session.clientId,
      sessionId: session.id,
      notAfter: session.expiresAt,
    });
  }

  private refreshExpiry(session: SessionRecord): number {
    return Math.min(session.startedAt + this.options.refreshTokenTtlSeconds, session.expiresAt);
  }
}

/** What a refresh token says: its session, its generation and the session's family secret. */
interface RefreshTokenParts {
  readonly sessionId: string;
  readonly generation: number;
  /** 32 random bytes, base64url, the same in every token of the session; only its hash is stored. */
  readonly family: string;
}

/** Generations past this are refused (a session refreshing every second for 30 years stays below). */
const MAX_GENERATION = 999_999_999;

// `<sid>.<generation>.<family secret>.<32 random bytes>`, the secrets base64url: the last part
// makes each token of a family unguessable from the others, so that holding an earlier token of
// a session (a thief's) never gives its current one.
const REFRESH_TOKEN =
  /^([A-Za-z0-9_-]{1,64})\.(0|[1-9][0-9]{0,8})\.([A-Za-z0-9_-]{43})\.[A-Za-z0-9_-]{43}$/;

function formatRefreshToken({ sessionId, generation, family }: RefreshTokenParts): string {
  return `${sessionId}.${generation}.${family}.${randomBytes(32).toString('base64url')}`;
}

/** The parts of a refresh token; `undefined` for any string that is not one (never throws). */
function parseRefreshToken(token: string): RefreshTokenParts | undefined {
  // Longer than any token: not even matched (a body may hold 100 KiB of it).
  if (typeof token !== 'string' || token.length > 200) return undefined;
  const match = REFRESH_TOKEN.exec(token);
  if (match === null) return undefined;
  const generation = Number(match[2]);
  if (generation >= MAX_GENERATION) return undefined;
  return { sessionId: match[1], generation, family: match[3] };
}

/** `cnf.jkt` of a verified token, if it is bound to a DPoP key. */
function boundJkt(principal: Principal): string | undefined {
  const jkt = (principal.claims.cnf as { jkt?: unknown } | undefined)?.jkt;
  return typeof jkt === 'string' ? jkt : undefined;
}

/** Refresh tokens are stored only as SHA-256 hashes: a leak of the store leaks no usable token. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
