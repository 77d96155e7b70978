import { DpopNonces } from '../dpop/dpop-nonces.js';
import { DpopProofVerifier } from '../dpop/dpop-proof-verifier.js';
import { MemoryDpopReplayCache } from '../dpop/dpop-replay-cache.js';
import type { DpopPolicy } from '../dpop/dpop-request.js';
import type { RedisBackendConnection } from './redis-backend.js';
import type { ResolvedAuthOptions } from './resolve-auth-options.js';

// The revocation list's tiers when it is off: a replay check of a sensitive route never passes
// unchecked, one of a standard route falls back to this instance's own memory.
const OUTAGE = { standard: 'fail-open', sensitive: 'fail-closed' } as const;

/**
 * The module's DPoP policy, or `undefined` when DPoP is off. Its replay cache is the one given,
 * else on the module's Redis connection (shared by every instance), else in memory. While the
 * shared cache is down, each tier does what the revocation list's outage policy says for it.
 */
export function createDpopPolicy(
  options: ResolvedAuthOptions,
  redis: RedisBackendConnection | undefined,
): DpopPolicy | undefined {
  const dpop = options.dpop;
  if (!dpop) return undefined;
  const replayCache =
    dpop.replayCache ??
    redis?.dpopReplayCache({ keyPrefix: dpop.keyPrefix }) ??
    new MemoryDpopReplayCache({ now: options.now });
  const nonces =
    dpop.nonce && new DpopNonces({ ...dpop.nonce, secret: dpop.nonce.secret, now: options.now });
  return {
    proofs: new DpopProofVerifier({
      replayCache,
      algorithms: dpop.algorithms,
      maxAgeSeconds: dpop.proofMaxAgeSeconds,
      clockToleranceSeconds: options.clockToleranceSeconds,
      maxProofBytes: dpop.maxProofBytes,
      nonces: nonces || undefined,
      now: options.now,
    }),
    required: dpop.required,
    origins: dpop.origins,
    onOutage: options.revocation ? options.revocation.onOutage : OUTAGE,
  };
}
