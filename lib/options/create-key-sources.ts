import { AuthConfigError } from '../errors/auth-errors.js';
import { DiscoveryKeySource } from '../keys/discovery-key-source.js';
import { importVerificationKey, JwkImportError, type Jwk } from '../keys/jwk.js';
import { JwksClient } from '../keys/jwks-client.js';
import { StaticKeySource, type KeySource } from '../keys/key-source.js';
import type { TraceHooks } from '../trace-hooks.js';
import type { ResolvedAuthOptions, ResolvedIssuer } from './resolve-auth-options.js';

/** Each trusted issuer's key source, and the background work of those that discover. */
export interface IssuerKeySources {
  /** By issuer (`iss`), in the order of the options. */
  readonly sources: ReadonlyMap<string, KeySource>;
  /** Starts reading the discovering issuers' metadata in the background, retrying until found. */
  start(): void;
  /** Stops every background retry: nothing is left scheduled. */
  close(): void;
}

/** Builds one key source per trusted issuer; nothing is fetched before a token (or `start()`). */
export function createKeySources(
  options: ResolvedAuthOptions,
  trace: TraceHooks,
): IssuerKeySources {
  const discovering: DiscoveryKeySource[] = [];
  const sources = new Map<string, KeySource>();
  for (const issuer of options.issuers) {
    const source = keySourceFor(issuer, options, trace);
    if (source instanceof DiscoveryKeySource) discovering.push(source);
    sources.set(issuer.issuer, source);
  }
  return {
    sources,
    start: () => discovering.forEach((source) => source.start()),
    close: () => discovering.forEach((source) => source.close()),
  };
}

function keySourceFor(
  issuer: ResolvedIssuer,
  options: ResolvedAuthOptions,
  trace: TraceHooks,
): KeySource {
  if ('keySource' in issuer) return issuer.keySource;
  if ('keys' in issuer)
    return new StaticKeySource(issuer.keys.map((jwk) => staticKey(issuer.issuer, jwk)));
  const jwksClient = (uri: string) =>
    new JwksClient({
      uri,
      ...options.jwks,
      now: options.now,
      fetch: options.fetch,
      onFetch: (event) => options.events.jwksFetched?.({ ...event, issuer: issuer.issuer }),
      trace,
    });
  if ('jwksUri' in issuer) return jwksClient(issuer.jwksUri);
  return new DiscoveryKeySource({
    issuer: issuer.issuer,
    timeoutMs: options.jwks.timeoutMs,
    cooldownSeconds: options.jwks.cooldownSeconds,
    now: options.now,
    fetch: options.fetch,
    requireHttps: options.requireHttps,
    jwksSource: jwksClient,
    onDiscovery: (event) => options.events.issuerDiscovered?.(event),
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
