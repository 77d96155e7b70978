import { AuthConfigError } from '../errors/auth-errors.js';
import { importVerificationKey, JwkImportError, type Jwk } from '../keys/jwk.js';
import { JwksClient } from '../keys/jwks-client.js';
import { StaticKeySource, type KeySource } from '../keys/key-source.js';
import { NO_TRACING, type TraceHooks } from '../trace-hooks.js';
import { TokenVerifier, type TrustedIssuer } from '../verify/token-verifier.js';
import type { ResolvedAuthOptions, ResolvedIssuer } from './resolve-auth-options.js';

/** Builds the verifier of resolved options: one key source per trusted issuer. */
export function createTokenVerifier(
  options: ResolvedAuthOptions,
  trace: TraceHooks = NO_TRACING,
): TokenVerifier {
  const issuers = new Map<string, TrustedIssuer>(
    options.issuers.map((issuer) => [
      issuer.issuer,
      { keys: keySourceFor(issuer, options, trace), policy: issuer.policy },
    ]),
  );
  return new TokenVerifier({
    issuers,
    algorithms: options.algorithms,
    clockToleranceSeconds: options.clockToleranceSeconds,
    maxTokenBytes: options.maxTokenBytes,
    verifiedTokenCacheSize: options.verifiedTokenCacheSize,
    now: options.now,
    events: options.events,
    trace,
  });
}

function keySourceFor(
  issuer: ResolvedIssuer,
  options: ResolvedAuthOptions,
  trace: TraceHooks,
): KeySource {
  if ('keySource' in issuer) return issuer.keySource;
  if ('keys' in issuer)
    return new StaticKeySource(issuer.keys.map((jwk) => staticKey(issuer.issuer, jwk)));
  return new JwksClient({
    uri: issuer.jwksUri,
    ...options.jwks,
    now: options.now,
    fetch: options.fetch,
    onFetch: (event) => options.events.jwksFetched?.({ ...event, issuer: issuer.issuer }),
    trace,
  });
}

function staticKey(issuer: string, jwk: Jwk) {
  try {
    return importVerificationKey(jwk);
  } catch (error) {
    if (error instanceof JwkImportError)
      throw new AuthConfigError(`issuer ${issuer}: ${error.message}`);
    throw error;
  }
}
