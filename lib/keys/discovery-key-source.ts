import { readIssuerMetadata } from './issuer-metadata.js';
import type { VerificationKey } from './jwk.js';
import { keySourceHealth, type KeySource, type KeySourceHealth } from './key-source.js';

/**
 * Why an issuer's metadata was read: at start-up, a background retry after a failure, a token
 * of that issuer, or a health check.
 */
export type IssuerDiscoveryCause = 'start' | 'retry' | 'token' | 'health';

/** What one reading of an issuer's metadata came to, for logs and metrics. */
export interface IssuerDiscoveryEvent {
  /** The configured issuer (`iss`). */
  readonly issuer: string;
  /** What asked for this reading. */
  readonly cause: IssuerDiscoveryCause;
  /** Whether a `jwks_uri` was found: its tokens are verified from now on. */
  readonly ok: boolean;
  /** The metadata location that answered, or the one whose answer failed. */
  readonly metadataUri: string;
  /** The `jwks_uri` found, when `ok`. */
  readonly jwksUri?: string;
  /** Why it failed, when it did. */
  readonly error?: Error;
  /** How long the reading took, every location tried included. */
  readonly durationMs: number;
  /** After a failure: seconds until the next background attempt; absent when none is planned. */
  readonly retryInSeconds?: number;
}

export interface DiscoveryKeySourceOptions {
  /** The issuer, an http(s) URL: its metadata is read from its well-known locations. */
  readonly issuer: string;
  /** Time after which a reading (every location tried) is abandoned. */
  readonly timeoutMs: number;
  /** Least time between two readings asked for by tokens or health checks. */
  readonly cooldownSeconds: number;
  /** Epoch seconds, fractional allowed. */
  readonly now: () => number;
  readonly fetch?: typeof fetch;
  /** Refuse a discovered `http:` `jwks_uri` whose host is not loopback. */
  readonly requireHttps?: boolean;
  /** The key source of a discovered `jwks_uri`. */
  readonly jwksSource: (jwksUri: string) => KeySource;
  readonly onDiscovery?: (event: IssuerDiscoveryEvent) => void;
}

/** Background retries: the first after about a second, each next twice as late, up to a minute. */
const FIRST_RETRY_SECONDS = 1;
const MAX_RETRY_SECONDS = 60;

/**
 * An issuer's keys from the `jwks_uri` its metadata names. Until the metadata has been read its
 * tokens are refused (`keys_unavailable`), nothing waits for it: `start()` reads it in the
 * background and retries with a growing delay while the issuer is unreachable or answers
 * something unusable; a token of the issuer (or a health check) reads it at once, at most once
 * per cooldown. Once found, the `jwks_uri` serves for the life of the source.
 */
export class DiscoveryKeySource implements KeySource {
  private keys: KeySource | undefined;
  private lastError: string | undefined;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly options: DiscoveryKeySourceOptions) {}

  get ready(): boolean {
    return this.keys?.ready ?? false;
  }

  cachedKey(kid: string): VerificationKey | undefined {
    return this.keys?.cachedKey(kid);
  }

  async key(kid: string): Promise<VerificationKey | undefined> {
    if (this.keys === undefined) await this.discoverOnDemand('token');
    return this.keys?.key(kid);
  }

  /** Unavailable until the metadata is read (now, within the cooldown); then its JWKS's health. */
  async health(): Promise<KeySourceHealth> {
    if (this.keys === undefined) await this.discoverOnDemand('health');
    if (this.keys !== undefined) return keySourceHealth(this.keys);
    return {
      available: false,
      lastError: `discovery: ${this.lastError ?? 'metadata not read yet'}`,
    };
  }

  /** Reads the metadata now, without waiting for it, and keeps retrying until found or closed. */
  start(): void {
    if (this.running || this.keys !== undefined) return;
    this.running = true;
    void this.attempt('start');
  }

  /** Plans no more background attempts (one running ends on its own, bounded by its time-out). */
  close(): void {
    this.running = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private discoverOnDemand(cause: 'token' | 'health'): Promise<void> {
    if (this.inFlight) return this.inFlight;
    // A flood of tokens of an unreachable issuer costs one reading per cooldown, not one each.
    if (this.options.now() - this.lastAttemptAt < this.options.cooldownSeconds) {
      return Promise.resolve();
    }
    return this.attempt(cause);
  }

  private attempt(cause: IssuerDiscoveryCause): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.lastAttemptAt = this.options.now();
    this.inFlight = this.read(cause).finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async read(cause: IssuerDiscoveryCause): Promise<void> {
    const { issuer, timeoutMs, fetch, requireHttps } = this.options;
    const started = performance.now();
    const result = await readIssuerMetadata(issuer, { timeoutMs, fetch, requireHttps });
    const durationMs = performance.now() - started;
    if (result.ok) {
      this.keys = this.options.jwksSource(result.jwksUri);
      this.lastError = undefined;
      this.close();
      this.options.onDiscovery?.({ issuer, cause, durationMs, ...result });
      return;
    }
    this.failures++;
    // Its message already carries the location and the cause.
    this.lastError = result.error.message;
    const retryInSeconds = this.planRetry();
    this.options.onDiscovery?.({
      issuer,
      cause,
      durationMs,
      ...result,
      ...(retryInSeconds === undefined ? {} : { retryInSeconds }),
    });
  }

  private planRetry(): number | undefined {
    if (!this.running) return undefined;
    clearTimeout(this.retryTimer);
    const base = Math.min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (this.failures - 1));
    // Jitter: a fleet restarted together does not knock at the issuer in step.
    const seconds = base * (0.75 + Math.random() / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.attempt('retry');
    }, seconds * 1000);
    // Never what keeps a process alive.
    this.retryTimer.unref();
    return seconds;
  }
}
