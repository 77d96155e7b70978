import {
  NO_TRACING,
  type JwksFetchCause,
  type JwksFetchOutcome,
  type TraceHooks,
} from '../trace-hooks.js';
import { errorWithCause } from '../util/error-message.js';
import { boundedText } from './bounded-body.js';
import { importVerificationKey, JwkImportError, type VerificationKey } from './jwk.js';
import type { KeySource, KeySourceHealth } from './key-source.js';

/** What a JWKS fetch did, for logs, metrics and traces. */
export interface JwksFetchEvent extends JwksFetchOutcome {
  readonly uri: string;
  readonly cause: JwksFetchCause;
  /** Keys in the document that were skipped (unsupported type, no kid, too short...). */
  readonly skipped?: readonly string[];
  readonly durationMs: number;
}

export interface JwksClientOptions {
  /** The JWKS URL; configured, never taken from a token. */
  readonly uri: string;
  /** Longest time keys are cached; a shorter `Cache-Control: max-age` wins. */
  readonly cacheTtlSeconds: number;
  /** Least time between two fetches: bounds what a flood of unknown `kid`s can cause. */
  readonly cooldownSeconds: number;
  /** Time after which a fetch is abandoned. */
  readonly timeoutMs: number;
  /** Epoch seconds, fractional allowed. */
  readonly now: () => number;
  readonly fetch?: typeof fetch;
  readonly onFetch?: (event: JwksFetchEvent) => void;
  readonly trace?: TraceHooks;
}

/** Largest JWKS document accepted, so a hostile or broken endpoint cannot exhaust memory. */
const MAX_JWKS_BYTES = 512 * 1024;

/**
 * One issuer's keys from its JWKS endpoint: cached for a TTL, fetched again at most once per
 * cooldown (on expiry or on an unknown `kid`), and kept when the endpoint fails, so an outage
 * of the issuer never refuses tokens signed with keys already known.
 */
export class JwksClient implements KeySource {
  private keys = new Map<string, VerificationKey>();
  private fetchedOnce = false;
  private expiresAt = 0;
  private fetchedAt: number | undefined;
  private lastError: string | undefined;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly options: JwksClientOptions) {}

  get ready(): boolean {
    return this.fetchedOnce;
  }

  cachedKey(kid: string): VerificationKey | undefined {
    if (this.options.now() >= this.expiresAt) return undefined;
    return this.keys.get(kid);
  }

  async key(kid: string): Promise<VerificationKey | undefined> {
    const now = this.options.now();
    if (!this.fetchedOnce) {
      await this.refresh('initial');
    } else if (now >= this.expiresAt && this.keys.has(kid)) {
      // A stale key keeps serving while a refresh runs: an endpoint outage costs nothing here.
      void this.refresh('expired');
    } else if (!this.keys.has(kid)) {
      await this.refresh('unknown_kid');
    }
    return this.keys.get(kid);
  }

  /**
   * Whether keys are at hand, when they were fetched and why the newest fetch failed. Without a
   * usable key (none fetched yet, or a document without one) it fetches now, within the cooldown,
   * joining a fetch that is running: an instance taken out of rotation for want of keys gets no
   * token to make it fetch them, so its health checks must.
   */
  async health(): Promise<KeySourceHealth> {
    if (this.keys.size === 0) await this.refresh(this.fetchedOnce ? 'expired' : 'initial');
    return {
      available: this.keys.size > 0,
      keyCount: this.keys.size,
      ...(this.fetchedAt === undefined ? {} : { fetchedAt: this.fetchedAt }),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** Fetches again unless a fetch is running (then joins it) or the cooldown has not passed. */
  private refresh(cause: JwksFetchCause): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.options.now() - this.lastAttemptAt < this.options.cooldownSeconds) {
      return Promise.resolve();
    }
    this.lastAttemptAt = this.options.now();
    const trace = this.options.trace ?? NO_TRACING;
    this.inFlight = trace
      .jwksFetch(this.options.uri, cause, (outcome) => this.fetchKeys(cause, outcome))
      .finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async fetchKeys(
    cause: JwksFetchCause,
    outcome: (outcome: JwksFetchOutcome) => void,
  ): Promise<void> {
    const started = performance.now();
    const report = (event: Omit<JwksFetchEvent, 'uri' | 'cause' | 'durationMs'>) => {
      outcome(event);
      this.options.onFetch?.({
        uri: this.options.uri,
        cause,
        durationMs: performance.now() - started,
        ...event,
      });
    };
    try {
      const { body, maxAgeSeconds } = await this.download();
      const { keys, skipped } = parseKeySet(body);
      this.keys = keys;
      this.fetchedOnce = true;
      this.fetchedAt = this.options.now();
      this.lastError = undefined;
      const ttl = Math.min(maxAgeSeconds ?? Infinity, this.options.cacheTtlSeconds);
      this.expiresAt = this.options.now() + Math.max(ttl, this.options.cooldownSeconds);
      report({ ok: true, keyCount: keys.size, skipped });
    } catch (error) {
      this.lastError = errorWithCause(error);
      report({ ok: false, error: error as Error });
    }
  }

  private async download(): Promise<{ body: unknown; maxAgeSeconds: number | undefined }> {
    const doFetch = this.options.fetch ?? fetch;
    const response = await doFetch(this.options.uri, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    if (response.status !== 200) throw new Error(`JWKS answered ${response.status}`);
    return {
      body: parseJson(await boundedText(response, MAX_JWKS_BYTES, 'JWKS document')),
      maxAgeSeconds: maxAge(response.headers.get('cache-control')),
    };
  }
}

function parseKeySet(body: unknown): {
  keys: Map<string, VerificationKey>;
  skipped: string[];
} {
  const list = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw new Error('JWKS document has no "keys" array');
  const keys = new Map<string, VerificationKey>();
  const skipped: string[] = [];
  for (const jwk of list) {
    if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) {
      skipped.push('an entry that is not a JWK object');
      continue;
    }
    try {
      const key = importVerificationKey(jwk);
      if (keys.has(key.kid)) throw new JwkImportError(`duplicate kid ${key.kid}`);
      keys.set(key.kid, key);
    } catch (error) {
      if (!(error instanceof JwkImportError)) throw error;
      skipped.push(error.message);
    }
  }
  return { keys, skipped };
}

/** `max-age` from a Cache-Control header; `no-store`/`no-cache` count as zero. */
export function maxAge(cacheControl: string | null): number | undefined {
  if (!cacheControl) return undefined;
  if (/(?:^|,)\s*no-(?:store|cache)\b/i.test(cacheControl)) return 0;
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(cacheControl);
  return match ? Number(match[1]) : undefined;
}

/** The JWKS document's JSON; its error never quotes the body (it reaches health reports). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error('JWKS document is not JSON');
  }
}
