import { verify as cryptoVerify } from 'node:crypto';
import { InvalidTokenError, type InvalidTokenReason } from '../errors/auth-errors.js';
import type { AuthEvents } from '../events.js';
import { cryptoParams, keyWithParams, type SigningAlgorithm } from '../keys/algorithms.js';
import type { VerificationKey } from '../keys/jwk.js';
import { keySourceHealth, type IssuerKeysHealth, type KeySource } from '../keys/key-source.js';
import { NO_TRACING, type TokenDescription, type TraceHooks } from '../trace-hooks.js';
import { checkJwsSignature, decodeCompactJws, type DecodedJws } from './compact-jws.js';
import { normalizeTyp, type ClaimKind, type IssuerPolicy } from './issuer-profile.js';
import { principalFromClaims, type AccessTokenClaims, type Principal } from './principal.js';
import type { Awaitable } from '../util/awaitable.js';
import { VerifiedTokenCache, verifiedByCurrentKey } from './verified-token-cache.js';

/** A trusted issuer: the only source of its keys, and what its tokens must look like. */
export interface TrustedIssuer {
  readonly keys: KeySource;
  readonly policy: IssuerPolicy;
}

/** What a `TokenVerifier` checks tokens against. */
export interface TokenVerifierConfig {
  /** Each trusted issuer, by its `iss`. */
  readonly issuers: ReadonlyMap<string, TrustedIssuer>;
  readonly algorithms: readonly SigningAlgorithm[];
  readonly clockToleranceSeconds: number;
  readonly maxTokenBytes: number;
  /** Entries of the verified-token cache; 0: none. */
  readonly verifiedTokenCacheSize: number;
  /** Epoch seconds. */
  readonly now: () => number;
  readonly events?: AuthEvents;
  readonly trace?: TraceHooks;
}

// RFC 7515 §4.1.11: a token naming an extension we do not implement must be refused.
const UNDERSTOOD_CRIT: ReadonlySet<string> = new Set();

/**
 * Verifies access tokens locally: structure, header, issuer-bound key, signature and claims
 * (as the issuer's profile says), with no network hop beyond the (cached) JWKS. Throws only
 * `InvalidTokenError`.
 */
export class TokenVerifier {
  private readonly cache: VerifiedTokenCache;
  private readonly algorithms: ReadonlySet<string>;
  private readonly trace: TraceHooks;

  constructor(private readonly config: TokenVerifierConfig) {
    this.trace = config.trace ?? NO_TRACING;
    this.cache = new VerifiedTokenCache(config.verifiedTokenCacheSize);
    this.algorithms = new Set(config.algorithms);
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
      [...this.config.issuers].map(async ([issuer, { keys }]) => ({
        issuer,
        ...(await keySourceHealth(keys)),
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
    const trusted = this.config.issuers.get(issuer);
    describe({
      alg,
      trustedIssuer: trusted === undefined ? undefined : issuer,
      kid: jws.header.kid,
    });
    if (trusted === undefined) throw new InvalidTokenError('issuer_mismatch');
    // The header's type, before any key is fetched for it (RFC 8725 §3.11).
    if (!typAccepted(jws.header.typ, trusted.policy)) throw new InvalidTokenError('typ_mismatch');
    const key = keyFor(trusted.keys, jws.header.kid);
    return key instanceof Promise
      ? key.then((fetched) => this.verifyWithKey(jws, alg, fetched, trusted))
      : this.verifyWithKey(jws, alg, key, trusted);
  }

  private verifyWithKey(
    jws: DecodedJws,
    alg: SigningAlgorithm,
    key: VerificationKey,
    trusted: TrustedIssuer,
  ): Principal {
    // The key decides its algorithm; a token cannot talk a key into another one.
    if (key.alg !== alg) throw new InvalidTokenError('alg_not_allowed');
    if (!verifySignature(alg, key, jws)) throw new InvalidTokenError('bad_signature');
    const claims = this.checkClaims(jws.payload, trusted.policy);
    const principal = principalFromClaims(claims, trusted.policy, jws);
    this.cache.set(jws.token, principal, trusted.keys, key);
    return principal;
  }

  private checkHeader(header: Record<string, unknown>): SigningAlgorithm {
    const { alg, crit } = header;
    if (typeof alg !== 'string' || !this.algorithms.has(alg)) {
      throw new InvalidTokenError('alg_not_allowed');
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

  private checkClaims(payload: Record<string, unknown>, policy: IssuerPolicy): AccessTokenClaims {
    if (!hasClaim(payload, 'sub', 'string')) reject('missing_claim');
    if (!Number.isFinite(own(payload, 'exp'))) reject('missing_claim');
    for (const { name, kind } of policy.requiredClaims) {
      if (!hasClaim(payload, name, kind)) reject('missing_claim');
    }
    // Another kind of token of the same issuer (an ID or refresh token), signed by the same keys.
    for (const { name, value } of policy.tokenTypeClaims) {
      if (own(payload, name) !== value) reject('typ_mismatch');
    }
    for (const name of policy.idTokenClaims) {
      if (own(payload, name) !== undefined) reject('typ_mismatch');
    }
    const now = this.config.now();
    const leeway = this.config.clockToleranceSeconds;
    if ((payload.exp as number) <= now - leeway) reject('expired');
    const iat = own(payload, 'iat');
    if (Number.isFinite(iat) && (iat as number) > now + leeway) reject('not_yet_valid');
    const nbf = own(payload, 'nbf');
    if (nbf !== undefined) {
      if (!Number.isFinite(nbf)) reject('malformed');
      if ((nbf as number) > now + leeway) reject('not_yet_valid');
    }
    if (!audienceMatches(own(payload, policy.audienceClaim), policy)) reject('audience_mismatch');
    return payload as unknown as AccessTokenClaims;
  }
}

/** Whether a header `typ` (or its absence) is one the issuer's tokens carry. */
function typAccepted(typ: unknown, policy: IssuerPolicy): boolean {
  if (typ === undefined) return policy.untyped;
  return typeof typ === 'string' && policy.tokenTypes.has(normalizeTyp(typ));
}

/** A token's own member: never what every object inherits (`constructor`, `toString`). */
function own(payload: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(payload, name) ? payload[name] : undefined;
}

/** A claim of the wrong type counts as absent. */
function hasClaim(payload: Record<string, unknown>, name: string, kind: ClaimKind): boolean {
  const value = own(payload, name);
  switch (kind) {
    case 'number':
      return Number.isFinite(value);
    case 'audience':
      return (
        (typeof value === 'string' && value !== '') ||
        (Array.isArray(value) && value.length > 0 && value.every((a) => typeof a === 'string'))
      );
    case 'string':
      return typeof value === 'string' && value !== '';
    default:
      return value !== undefined && value !== null;
  }
}

/** `aud` as a string or an array naming an accepted audience; Cognito's `client_id` as a string. */
function audienceMatches(value: unknown, policy: IssuerPolicy): boolean {
  if (typeof value === 'string') return policy.audiences.has(value);
  if (policy.audienceClaim !== 'aud' || !Array.isArray(value)) return false;
  return value.some((a) => typeof a === 'string' && policy.audiences.has(a));
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
