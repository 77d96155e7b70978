import type { KeyObject } from 'node:crypto';
import type { VerificationKey } from '../keys/jwk.js';
import type { KeySource } from '../keys/key-source.js';
import type { Principal } from './principal.js';

/** A verified token, with the issuer's keys and the key that verified it. */
export interface VerifiedEntry {
  readonly token: string;
  readonly principal: Principal;
  readonly keys: KeySource;
  readonly kid: string;
  /** The key material that verified the token (the latest equal key object, once compared). */
  key: KeyObject;
}

/**
 * Whether the issuer's key under the entry's `kid` is still the one that verified its token. A
 * JWKS refresh builds new key objects: an equal one is compared once, then remembered. An issuer
 * that reuses a `kid` for new material has its old tokens verified anew (and refused).
 */
export function verifiedByCurrentKey(entry: VerifiedEntry): boolean {
  const current = entry.keys.cachedKey(entry.kid)?.key;
  if (current === entry.key) return true;
  if (current === undefined || !current.equals(entry.key)) return false;
  entry.key = current;
  return true;
}

// The map is keyed by a number made of the token's length and last characters (its signature's
// tail) rather than by the token: each request brings a new string, and hashing hundreds of
// characters, or even a slice of a few dozen, costs more than the rest of a look-up. The entry
// keeps the whole token and a hit requires an exact match, so two tokens with the same key only
// ever make a miss (and the later one, once verified, takes the entry).
const KEY_CHARACTERS = 8;

function keyOf(token: string): number {
  let key = token.length;
  for (let i = Math.max(0, token.length - KEY_CHARACTERS); i < token.length; i++) {
    key = (key * 31 + token.charCodeAt(i)) | 0;
  }
  // A small integer: V8 keys maps by those fastest.
  return key & 0x3fffffff;
}

/**
 * Principals of tokens already verified, so a repeated token costs a map look-up instead of a
 * signature check. Bounded (oldest entry out first); an entry is never served past its token's
 * `exp`, nor once its key has left the issuer's key set or been replaced under its `kid`.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<number, VerifiedEntry>();

  constructor(private readonly maxEntries: number) {}

  get(token: string): VerifiedEntry | undefined {
    const entry = this.entries.get(keyOf(token));
    return entry !== undefined && entry.token === token ? entry : undefined;
  }

  set(token: string, principal: Principal, keys: KeySource, verifiedBy: VerificationKey): void {
    if (this.maxEntries === 0) return;
    const key = keyOf(token);
    // An entry under the same key is replaced, and its place taken by no other; the new one goes
    // last, as the newest. Map iterates in insertion order: the first key is the oldest entry.
    if (!this.entries.delete(key) && this.entries.size >= this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as number);
    }
    this.entries.set(key, { token, principal, keys, kid: verifiedBy.kid, key: verifiedBy.key });
  }

  delete(token: string): void {
    if (this.get(token) !== undefined) this.entries.delete(keyOf(token));
  }

  get size(): number {
    return this.entries.size;
  }
}
