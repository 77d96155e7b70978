import type { VerificationKey } from './jwk.js';
import { errorMessage } from '../util/error-message.js';

/** What a key source says about its keys, for a health check. */
export interface KeySourceHealth {
  /** Whether it holds usable keys now: tokens signed with one of them can be verified. */
  readonly available: boolean;
  /** How many usable keys it holds; absent when the source does not say. */
  readonly keyCount?: number;
  /** When its keys were last fetched (epoch seconds); sources that fetch only. */
  readonly fetchedAt?: number;
  /**
   * Why its newest fetch failed, when it did: keys fetched before (if any) are still used, but
   * newer ones (a rotation) are not known.
   */
  readonly lastError?: string;
}

/** One trusted issuer's keys, as `TokenVerifier.keysHealth()` reports them. */
export interface IssuerKeysHealth extends KeySourceHealth {
  /** The issuer (`iss`). */
  readonly issuer: string;
}

/** Where one issuer's verification keys come from: a fixed list or a JWKS endpoint. */
export interface KeySource {
  /** The key for `kid` when it is already known, without waiting: the verifier's fast path. */
  cachedKey(kid: string): VerificationKey | undefined;
  /** The key for `kid`, fetching the key set again when the rules allow it. */
  key(kid: string): Promise<VerificationKey | undefined>;
  /** Whether any key could ever be had (false while a JWKS has never been fetched). */
  readonly ready: boolean;
  /**
   * Its keys' state, for health checks; a source that fetches keys and holds none fetches them now
   * (as the first token would), within its own limits. Without it, `ready` is reported.
   */
  health?(): Promise<KeySourceHealth>;
}

/** A source's health; one without `health()` is judged by `ready`, one that throws is down. */
export async function keySourceHealth(source: KeySource): Promise<KeySourceHealth> {
  if (source.health === undefined) return { available: source.ready };
  try {
    return await source.health();
  } catch (error) {
    return { available: false, lastError: errorMessage(error) };
  }
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

  health(): Promise<KeySourceHealth> {
    return Promise.resolve({ available: this.keys.size > 0, keyCount: this.keys.size });
  }
}
