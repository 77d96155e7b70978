import { verify as cryptoVerify } from 'node:crypto';
import { InvalidTokenError, type InvalidTokenReason } from '../errors/auth-errors.js';
import type { AuthEvents } from '../events.js';
import { cryptoParams, keyWithParams, type SigningAlgorithm } from '../keys/algorithms.js';
import type { VerificationKey } from '../keys/jwk.js';
import { keySourceHealth, type IssuerKeysHealth, type KeySource } from '../keys/key-source.js';
import { NO_TRACING, type TokenDescription, type TraceHooks } from '../trace-hooks.js';
import { checkJwsSignature, decodeCompactJws, type DecodedJws } from './compact-jws.js';
import { principalFromClaims, type AccessTokenClaims, type Principal } from './principal.js';
import type { Awaitable } from '../util/awaitable.js';
import { VerifiedTokenCache, verifiedByCurrentKey } from './verified-token-cache.js';

/** What a `TokenVerifier` checks tokens against. */
export interface TokenVerifierConfig {
  /** Each trusted issuer (`iss`) and the only source of its keys. */
  readonly issuers: ReadonlyMap<string, KeySource>;
  /** The `aud` values accepted; a token must name one. */
  readonly audiences: readonly string[];
  readonly algorithms: readonly SigningAlgorithm[];
  /** Accepted `typ` values, normalized (`normalizeTyp`). */
  readonly tokenTypes: readonly string[];
  readonly clockToleranceSeconds: number;
  readonly maxTokenBytes: number;
  /** Entries of the verified-token cache; 0: none. */
  readonly verifiedTokenCacheSize: number;
  /** Epoch seconds. */
  readonly now: () => number;
  readonly events?: AuthEvents;
  readonly trace?: TraceHooks;
}

/** `typ` values compare without case and without the `application/` prefix (RFC 7515 §4.1.9). */
export function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

// RFC 7515 §4.1.11: a token naming an extension we do not implement must be refused.
const UNDERSTOOD_CRIT: ReadonlySet<string> = new Set();
const REQUIRED_STRING_CLAIMS = ['iss', 'sub', 'jti'] as const;
const REQUIRED_NUMERIC_CLAIMS = ['exp', 'iat'] as const;

/**
 * Verifies RFC 9068 access tokens locally: structure, header, issuer-bound key, signature and
 * claims, with no network hop beyond the (cached) JWKS. Throws only `InvalidTokenError`.
 */
export class TokenVerifier {
  private readonly cache: VerifiedTokenCache;
  private readonly algorithms: ReadonlySet<string>;
  private readonly tokenTypes: ReadonlySet<string>;
  private readonly trace: TraceHooks;

  constructor(private readonly config: TokenVerifierConfig) {
    this.trace = config.trace ?? NO_TRACING;
    this.cache = new VerifiedTokenCache(config.verifiedTokenCacheSize);
    this.algorithms = new Set(config.algorithms);
    this.tokenTypes = new Set(config.tokenTypes);
  }

  /**
   * The verified principal of `token`, or an `InvalidTokenError` with its reason. Synchronous
   * (a value, or a synchronous throw) unless a key must be fetched first; `await` it either way.
   */
  verify(token: string): Awaitable<Principal> {
    const started = this.config.events?.tokenVerified ? performance.now() : 0;
    try {
      const cached = this.fromCache(token);
      if (cached !== undefined) return this.verified(cached, true, started);
      // With the key at hand, verification completes synchronously: nothing to await.
      const principal = this.trace.verification((describe) => this.verifyUncached(token, describe));
      return principal instanceof Promise
        ? principal.then(
            (fetched) => this.verified(fetched, false, started),
            (error: unknown) => this.rejected(error),
          )
        : this.verified(principal, false, started);
    } catch (error) {
      this.rejected(error);
    }
  }

  /**
   * Each trusted issuer's keys, in the order of the options, for health checks: whether tokens of
   * that issuer can be verified now. A JWKS without a usable key is fetched (as for the first
   * token), within its cooldown; keys kept through an outage of their endpoint count as available.
   */
  keysHealth(): Promise<readonly IssuerKeysHealth[]> {
    return Promise.all(
      [...this.config.issuers].map(async ([issuer, source]) => ({
        issuer,
        ...(await keySourceHealth(source)),
      })),
    );
  }

  /**
   * The principal of `token` when the verified-token cache answers for it (reported to
   * `tokenVerified` as a cached verification), else `undefined`: never verifies, never throws.
   * @internal What the request path asks before deciding whether a signature must be checked.
   */
  cachedPrincipal(token: string): Principal | undefined {
    if (this.config.verifiedTokenCacheSize === 0 || typeof token !== 'string') return undefined;
    const started = this.config.events?.tokenVerified ? performance.now() : 0;
    const cached = this.fromCache(token);
    return cached === undefined ? undefined : this.verified(cached, true, started);
  }

  private verified(principal: Principal, cached: boolean, started: number): Principal {
    this.config.events?.tokenVerified?.({
      principal,
      cached,
      durationMs: performance.now() - started,
    });
    return principal;
  }

  private rejected(error: unknown): never {
    // Whatever goes wrong while reading a client's token is the token's fault, never a 5xx.
    const rejection =
      error instanceof InvalidTokenError
        ? error
        : new InvalidTokenError('malformed', { cause: error });
    this.config.events?.tokenRejected?.({ error: rejection });
    throw rejection;
  }

  private fromCache(token: string): Principal | undefined {
    // With the cache off, not even the cache key is computed.
    if (this.config.verifiedTokenCacheSize === 0) return undefined;
    const entry = this.cache.get(token);
    if (entry === undefined) return undefined;
    const { principal } = entry;
    const stillValid =
      this.config.now() < principal.expiresAt + this.config.clockToleranceSeconds &&
      verifiedByCurrentKey(entry);
    if (stillValid) return principal;
    this.cache.delete(token);
    return undefined;
  }

  private verifyUncached(
    token: string,
    describe: (token: TokenDescription) => void,
  ): Principal | Promise<Principal> {
    if (typeof token !== 'string' || token.length > this.config.maxTokenBytes) {
      throw new InvalidTokenError(typeof token === 'string' ? 'oversized' : 'malformed');
    }
    const jws = decodeCompactJws(token);
    const alg = this.checkHeader(jws.header);
    const issuer = jws.payload.iss;
    if (typeof issuer !== 'string') throw new InvalidTokenError('missing_claim');
    // Only the keys of the issuer the token names; `jku`, `x5u`, `jwk`, `x5c` are never read.
    const keys = this.config.issuers.get(issuer);
    describe({ alg, trustedIssuer: keys === undefined ? undefined : issuer, kid: jws.header.kid });
    if (keys === undefined) throw new InvalidTokenError('issuer_mismatch');
    const key = keyFor(keys, jws.header.kid);
    return key instanceof Promise
      ? key.then((fetched) => this.verifyWithKey(jws, alg, fetched, keys))
      : this.verifyWithKey(jws, alg, key, keys);
  }

  private verifyWithKey(
    jws: DecodedJws,
    alg: SigningAlgorithm,
    key: VerificationKey,
    keys: KeySource,
  ): Principal {
    // The key decides its algorithm; a token cannot talk a key into another one.
    if (key.alg !== alg) throw new InvalidTokenError('alg_not_allowed');
    if (!verifySignature(alg, key, jws)) throw new InvalidTokenError('bad_signature');
    const claims = this.checkClaims(jws.payload);
    const principal = principalFromClaims(claims);
    this.cache.set(jws.token, principal, keys, key);
    return principal;
  }

  private checkHeader(header: Record<string, unknown>): SigningAlgorithm {
    const { alg, typ, crit } = header;
    if (typeof alg !== 'string' || !this.algorithms.has(alg)) {
      throw new InvalidTokenError('alg_not_allowed');
    }
    if (typeof typ !== 'string' || !this.tokenTypes.has(normalizeTyp(typ))) {
      throw new InvalidTokenError('typ_mismatch');
    }
    if (crit !== undefined) {
      const names = Array.isArray(crit) ? crit : [crit];
      if (
        names.length === 0 ||
        names.some((n) => typeof n !== 'string' || !UNDERSTOOD_CRIT.has(n))
      ) {
        throw new InvalidTokenError('crit_unsupported');
      }
    }
    return alg as SigningAlgorithm;
  }

  private checkClaims(payload: Record<string, unknown>): AccessTokenClaims {
    for (const name of REQUIRED_STRING_CLAIMS) {
      if (typeof payload[name] !== 'string' || payload[name] === '') reject('missing_claim');
    }
    for (const name of REQUIRED_NUMERIC_CLAIMS) {
      if (!Number.isFinite(payload[name])) reject('missing_claim');
    }
    if (payload.aud === undefined) reject('missing_claim');
    const now = this.config.now();
    const leeway = this.config.clockToleranceSeconds;
    if ((payload.exp as number) <= now - leeway) reject('expired');
    if ((payload.iat as number) > now + leeway) reject('not_yet_valid');
    if (payload.nbf !== undefined) {
      if (!Number.isFinite(payload.nbf)) reject('malformed');
      if ((payload.nbf as number) > now + leeway) reject('not_yet_valid');
    }
    if (!this.audienceMatches(payload.aud)) reject('audience_mismatch');
    return payload as AccessTokenClaims;
  }

  private audienceMatches(aud: unknown): boolean {
    if (typeof aud === 'string') return this.config.audiences.includes(aud);
    if (!Array.isArray(aud)) return false;
    return aud.some((a) => typeof a === 'string' && this.config.audiences.includes(a));
  }
}

function keyFor(keys: KeySource, kid: unknown): VerificationKey | Promise<VerificationKey> {
  if (typeof kid !== 'string' || kid === '') throw new InvalidTokenError('unknown_kid');
  return keys.cachedKey(kid) ?? fetchKey(keys, kid);
}

async function fetchKey(source: KeySource, kid: string): Promise<VerificationKey> {
  const key = await source.key(kid);
  if (key !== undefined) return key;
  throw new InvalidTokenError(source.ready ? 'unknown_kid' : 'keys_unavailable');
}

function verifySignature(alg: SigningAlgorithm, key: VerificationKey, jws: DecodedJws): boolean {
  const { digest, signatureBytes } = cryptoParams(alg);
  const keyAndParams = keyWithParams(key.key, alg);
  return checkJwsSignature(jws, (signingInput, signature) => {
    if (signatureBytes !== undefined && signature.length !== signatureBytes) return false;
    return cryptoVerify(digest, signingInput, keyAndParams, signature);
  });
}

function reject(reason: InvalidTokenReason): never {
  throw new InvalidTokenError(reason);
}
