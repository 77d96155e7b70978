/**
 * One revocation: a token, a session, or everything a subject was issued before a time. A token
 * or session entry with an `issuer` covers that issuer's `jti` or `sid` only (each issuer names
 * its own); one without covers that id of every issuer.
 */
export type RevocationEntry =
  | {
      readonly kind: 'token' | 'session';
      readonly id: string;
      readonly issuer?: string;
      readonly expiresAt: number;
    }
  | {
      readonly kind: 'subject';
      /** `subjectId(issuer, sub)`. */
      readonly id: string;
      /** Tokens of the subject issued (`iat`) before this epoch second are revoked. */
      readonly issuedBefore: number;
      readonly expiresAt: number;
    };

/** What a revocation check looks at: a verified token's `jti`, `sid`, `iss`, `sub` and `iat`. */
export interface RevocationQuery {
  readonly jti?: string;
  readonly sid?: string;
  /** With `sub`: a subject is revoked at one issuer. */
  readonly iss?: string;
  readonly sub?: string;
  readonly iat?: number;
}

/**
 * How long a store keeps an entry past the `until` it is given, by default: a verifier accepts a
 * token up to its clock tolerance past `exp` (at most 300 s), and a revocation must hold as long.
 */
export const DEFAULT_REVOCATION_CLOCK_TOLERANCE_SECONDS = 300;

/** A subject to revoke: a `sub` is unique only within its issuer (RFC 7519 §4.1.2). */
export interface RevokedSubject {
  readonly issuer: string;
  readonly subject: string;
}

/**
 * The id of a subject's entry: its issuer and `sub`, joined so that no two pairs share one (the
 * issuer's length says where it ends). Built on every request once a subject is revoked: a
 * concatenation, not `JSON.stringify`, which costs more than twice as much.
 */
export function subjectId(issuer: string, sub: string): string {
  return `${issuer.length}:${issuer}${sub}`;
}

/** The subject id a query asks about, if it names one. */
export function querySubjectId(query: RevocationQuery): string | undefined {
  return query.iss === undefined || query.sub === undefined
    ? undefined
    : subjectId(query.iss, query.sub);
}

/** A token or session entry, of `issuer` alone when one is named. */
export function issuedEntry(
  kind: 'token' | 'session',
  id: string,
  issuer: string | undefined,
  expiresAt: number,
): RevocationEntry {
  return issuer === undefined ? { kind, id, expiresAt } : { kind, id, issuer, expiresAt };
}

/** The wire form of an entry, for pub/sub and storage: `kind`, `id`, `expiresAt`, `issuedBefore`. */
export function encodeEntry(entry: RevocationEntry): string {
  return JSON.stringify(entry);
}

/** Parses an entry; `undefined` for anything that is not one (never trust the wire). */
export function decodeEntry(text: string): RevocationEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const e = value as Partial<Record<string, unknown>>;
  if (typeof e?.id !== 'string' || e.id === '' || !Number.isFinite(e.expiresAt)) return undefined;
  if (e.kind === 'token' || e.kind === 'session') {
    // An issuer of the wrong type is no issuer: the entry then covers every issuer's id, which
    // refuses too much rather than too little.
    const issuer = typeof e.issuer === 'string' && e.issuer !== '' ? e.issuer : undefined;
    return { kind: e.kind, id: e.id, ...(issuer && { issuer }), expiresAt: e.expiresAt as number };
  }
  if (e.kind === 'subject' && Number.isFinite(e.issuedBefore)) {
    return {
      kind: 'subject',
      id: e.id,
      issuedBefore: e.issuedBefore as number,
      expiresAt: e.expiresAt as number,
    };
  }
  return undefined;
}
