import type { Principal } from './principal.js';

interface Entry {
  readonly token: string;
  readonly principal: Principal;
  readonly kid: string;
}

// The map is keyed by the token's last characters (its signature's tail) rather than the whole
// token: a look-up hashes a string, and a whole token is hundreds of characters, hashed again for
// every request since each request brings a new string. The entry keeps the whole token and a
// hit requires an exact match, so a colliding key is only ever a miss.
const KEY_LENGTH = 32;

/**
 * Principals of tokens already verified, so a repeated token costs a map look-up instead of a
 * signature check. Bounded (oldest entry out first); an entry is never served past its token's
 * `exp`, nor once its key has left the issuer's key set.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries: number) {}

  get(token: string): Entry | undefined {
    const entry = this.entries.get(token.slice(-KEY_LENGTH));
    return entry !== undefined && entry.token === token ? entry : undefined;
  }

  set(token: string, principal: Principal, kid: string): void {
    if (this.maxEntries === 0) return;
    if (this.entries.size >= this.maxEntries) {
      // Map iterates in insertion order: the first key is the oldest entry.
      this.entries.delete(this.entries.keys().next().value as string);
    }
    this.entries.set(token.slice(-KEY_LENGTH), { token, principal, kid });
  }

  delete(token: string): void {
    if (this.get(token) !== undefined) this.entries.delete(token.slice(-KEY_LENGTH));
  }

  get size(): number {
    return this.entries.size;
  }
}
