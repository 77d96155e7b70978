/** One revocation: a token, a session, or everything a subject was issued before a time. */
export type RevocationEntry =
  | { readonly kind: 'token'; readonly id: string; readonly expiresAt: number }
  | { readonly kind: 'session'; readonly id: string; readonly expiresAt: number }
  | {
      readonly kind: 'subject';
      readonly id: string;
      /** Tokens of the subject issued (`iat`) before this epoch second are revoked. */
      readonly issuedBefore: number;
      readonly expiresAt: number;
    };

/** What a revocation check looks at: a verified token's `jti`, `sid`, `sub` and `iat`. */
export interface RevocationQuery {
  readonly jti?: string;
  readonly sid?: string;
  readonly sub?: string;
  readonly iat?: number;
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
    return { kind: e.kind, id: e.id, expiresAt: e.expiresAt as number };
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
