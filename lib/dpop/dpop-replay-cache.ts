/**
 * Remembers the DPoP proofs already accepted (RFC 9449 §11.1), shared by every instance that
 * accepts the same proofs: `MemoryDpopReplayCache` for one instance, or the module's Redis.
 */
export interface DpopReplayCache {
  /**
   * Records `key` until `expiresAt` (epoch seconds): `true` when it was not recorded yet, `false`
   * for a replay. Rejects (or throws) when the cache cannot be asked.
   */
  remember(key: string, expiresAt: number): boolean | Promise<boolean>;
  /** Whether the cache answers now; `false` while its backend is unreachable. */
  readonly isCurrent?: boolean;
  close?(): Promise<void>;
}

/** Options of `MemoryDpopReplayCache`. */
export interface MemoryDpopReplayCacheOptions {
  /**
   * Most proofs remembered at once; past it (after the expired ones are dropped) a proof is
   * refused rather than one forgotten.
   * @default 100000
   */
  readonly maxEntries?: number;
  /** Epoch seconds. @default () => Date.now() / 1000 */
  readonly now?: () => number;
}

/** The proofs one process accepted, each until its `iat` window has passed. */
export class MemoryDpopReplayCache implements DpopReplayCache {
  private readonly entries = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: MemoryDpopReplayCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? (() => Date.now() / 1000);
  }

  remember(key: string, expiresAt: number): boolean {
    const now = this.now();
    const known = this.entries.get(key);
    if (known !== undefined && known > now) return false;
    if (this.entries.size >= this.maxEntries) this.dropExpired(now);
    // Full of live proofs: forgetting one would let it be replayed; refusing costs a retry.
    if (this.entries.size >= this.maxEntries) throw new RangeError('DPoP replay cache is full');
    this.entries.set(key, expiresAt);
    return true;
  }

  private dropExpired(now: number): void {
    for (const [key, until] of this.entries) if (until <= now) this.entries.delete(key);
  }
}
