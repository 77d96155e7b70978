import type { Principal } from './principal.js';

interface Entry {
  readonly principal: Principal;
  readonly kid: string;
}

/**
 * Principals of tokens already verified, keyed by the token itself, so a repeated token costs a
 * map look-up instead of a signature check. Bounded (oldest entry out first); an entry is never
 * served past its token's `exp`, nor once its key has left the issuer's key set.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries: number) {}

  get(token: string): Entry | undefined {
    return this.entries.get(token);
  }

  set(token: string, principal: Principal, kid: string): void {
    if (this.maxEntries === 0) return;
    if (this.entries.size >= this.maxEntries) {
      // Map iterates in insertion order: the first key is the oldest entry.
      this.entries.delete(this.entries.keys().next().value as string);
    }
    this.entries.set(token, { principal, kid });
  }

  delete(token: string): void {
    this.entries.delete(token);
  }

  get size(): number {
    return this.entries.size;
  }
}
