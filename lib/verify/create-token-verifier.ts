import { AuthConfigError } from '../errors/auth-errors.js';
import { importVerificationKey, JwkImportError, type Jwk } from '../keys/jwk.js';
import { JwksClient } from '../keys/jwks-client.js';
import { StaticKeySource, type KeySource } from '../keys/key-source.js';
import type { ResolvedAuthOptions, ResolvedIssuer } from '../options/resolve-auth-options.js';
import { TokenVerifier } from './token-verifier.js';

/** Builds the verifier of resolved options: one key source per trusted issuer. */
export function createTokenVerifier(options: ResolvedAuthOptions): TokenVerifier {
  const issuers = new Map<string, KeySource>(
    options.issuers.map((issuer) => [issuer.issuer, keySourceFor(issuer, options)]),
  );
  return new TokenVerifier({ ...options, issuers });
}

function keySourceFor(issuer: ResolvedIssuer, options: ResolvedAuthOptions): KeySource {
  if ('keySource' in issuer) return issuer.keySource;
  if ('keys' in issuer)
    return new StaticKeySource(issuer.keys.map((jwk) => staticKey(issuer.issuer, jwk)));
  return new JwksClient({
    uri: issuer.jwksUri,
    ...options.jwks,
    now: options.now,
    fetch: options.fetch,
    onFetch: (event) => options.events.jwksFetched?.({ ...event, issuer: issuer.issuer }),
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
