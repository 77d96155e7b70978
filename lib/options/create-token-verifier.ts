import type { KeySource } from '../keys/key-source.js';
import { NO_TRACING, type TraceHooks } from '../trace-hooks.js';
import { TokenVerifier, type TrustedIssuer } from '../verify/token-verifier.js';
import { createKeySources } from './create-key-sources.js';
import type { ResolvedAuthOptions } from './resolve-auth-options.js';

/**
 * Builds the verifier of resolved options, over the trusted issuers' key sources (by default
 * built here; the module builds them itself, to start and stop their background work) and each
 * issuer's policy.
 */
export function createTokenVerifier(
  options: ResolvedAuthOptions,
  trace: TraceHooks = NO_TRACING,
  keySources: ReadonlyMap<string, KeySource> = createKeySources(options, trace).sources,
): TokenVerifier {
  const issuers = new Map<string, TrustedIssuer>(
    options.issuers.map((issuer) => [
      issuer.issuer,
      { keys: keySources.get(issuer.issuer)!, policy: issuer.policy },
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
