import type { VerificationKey } from './jwk.js';

/** Where one issuer's verification keys come from: a fixed list or a JWKS endpoint. */
export interface KeySource {
  /** The key for `kid` when it is already known, without waiting: the verifier's fast path. */
  cachedKey(kid: string): VerificationKey | undefined;
  /** The key for `kid`, fetching the key set again when the rules allow it. */
  key(kid: string): Promise<VerificationKey | undefined>;
  /** Whether any key could ever be had (false while a JWKS has never been fetched). */
  readonly ready: boolean;
}

/** A fixed set of keys, configured rather than fetched. */
export class StaticKeySource implements KeySource {
  readonly ready = true;
  private readonly keys: ReadonlyMap<string, VerificationKey>;

  constructor(keys: readonly VerificationKey[]) {
    this.keys = new Map(keys.map((k) => [k.kid, k]));
  }

  cachedKey(kid: string): VerificationKey | undefined {
    return this.keys.get(kid);
  }

  key(kid: string): Promise<VerificationKey | undefined> {
    return Promise.resolve(this.keys.get(kid));
  }
}
