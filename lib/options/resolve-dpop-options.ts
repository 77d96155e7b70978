import { isSecureUrl } from '../util/secure-url.js';
import { DPOP_ALGORITHMS } from '../dpop/dpop-proof-verifier.js';
import type { DpopReplayCache } from '../dpop/dpop-replay-cache.js';
import { isSigningAlgorithm, type SigningAlgorithm } from '../keys/algorithms.js';
import type { AuthModuleOptions } from './auth-options.js';
import { bounded, fail, optional, strings } from './option-checks.js';

/** `AuthModuleOptions.dpop` with every default applied and every value checked. */
export interface ResolvedDpopOptions {
  readonly required: boolean | ReadonlySet<string>;
  readonly algorithms: readonly SigningAlgorithm[];
  readonly proofMaxAgeSeconds: number;
  readonly maxProofBytes: number;
  readonly origins: readonly string[];
  readonly nonce:
    { readonly secret: string | undefined; readonly lifetimeSeconds: number } | undefined;
  readonly replayCache: DpopReplayCache | undefined;
  readonly keyPrefix: string;
}

const DEFAULTS = Object.freeze({
  proofMaxAgeSeconds: 60,
  maxProofBytes: 8192,
  nonceLifetimeSeconds: 300,
  keyPrefix: '{tessera}:dpop:',
});

/** Applies the defaults of `dpop` and validates it; `false` when it is left out. */
export function resolveDpop(options: AuthModuleOptions): ResolvedDpopOptions | false {
  const dpop = optional('dpop', options.dpop, 'object');
  if (dpop === undefined) return false;
  const nonce = optional('dpop.nonce', dpop.nonce, 'object');
  if (
    nonce?.secret !== undefined &&
    (typeof nonce.secret !== 'string' || Buffer.byteLength(nonce.secret) < 32)
  ) {
    fail('dpop.nonce.secret must be a string of at least 32 bytes');
  }
  const replayCache = optional('dpop.replayCache', dpop.replayCache, 'object');
  if (replayCache !== undefined && typeof replayCache.remember !== 'function') {
    fail('dpop.replayCache is not a DpopReplayCache: no remember()');
  }
  return Object.freeze({
    required: resolveRequired(dpop.required, options),
    algorithms: resolveProofAlgorithms(dpop.algorithms),
    proofMaxAgeSeconds: bounded(
      'dpop.proofMaxAgeSeconds',
      dpop.proofMaxAgeSeconds ?? DEFAULTS.proofMaxAgeSeconds,
      1,
      600,
    ),
    maxProofBytes: bounded(
      'dpop.maxProofBytes',
      dpop.maxProofBytes ?? DEFAULTS.maxProofBytes,
      256,
      65_536,
    ),
    origins: strings('dpop.origins', dpop.origins ?? []).map((value) =>
      origin(value, options.requireHttps === true),
    ),
    nonce:
      nonce === undefined
        ? undefined
        : {
            secret: nonce.secret,
            lifetimeSeconds: bounded(
              'dpop.nonce.lifetimeSeconds',
              nonce.lifetimeSeconds ?? DEFAULTS.nonceLifetimeSeconds,
              10,
              86_400,
            ),
          },
    replayCache,
    keyPrefix: optional('dpop.keyPrefix', dpop.keyPrefix, 'string') ?? DEFAULTS.keyPrefix,
  });
}

function resolveRequired(
  required: boolean | readonly string[] | undefined,
  options: AuthModuleOptions,
): boolean | ReadonlySet<string> {
  if (required === undefined || typeof required === 'boolean') return required ?? false;
  const trusted = new Set(options.issuers.map((i) => i.issuer));
  const issuers = strings('dpop.required', required);
  for (const issuer of issuers) {
    if (!trusted.has(issuer)) fail(`dpop.required: ${issuer} is not a trusted issuer`);
  }
  return new Set(issuers);
}

function resolveProofAlgorithms(algorithms: readonly unknown[] | undefined): SigningAlgorithm[] {
  if (algorithms === undefined) return [...DPOP_ALGORITHMS];
  if (!Array.isArray(algorithms) || algorithms.length === 0)
    fail('dpop.algorithms must not be empty');
  for (const alg of algorithms) {
    // Never `none` nor an HMAC: a proof is checked with the public key it carries.
    if (!isSigningAlgorithm(alg)) {
      fail(`dpop.algorithms: "${String(alg)}" is not one of ${DPOP_ALGORITHMS.join(', ')}`);
    }
  }
  return [...(algorithms as SigningAlgorithm[])];
}

/**
 * `scheme://host[:port]`, without a path: what `htu` is compared to, before the path. Under
 * `requireHttps`, `https` or a loopback `http` only: a proof for a plain-HTTP request anywhere else
 * travels, with its token, where anyone on the way reads it.
 */
function origin(value: string, requireHttps: boolean): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(`dpop.origins: ${value} is not a URL`);
  }
  if (
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.pathname !== '/' ||
    url.search !== ''
  ) {
    fail(`dpop.origins: ${value} must be an http(s) origin without a path`);
  }
  if (requireHttps && !isSecureUrl(url.href)) {
    fail(`dpop.origins: ${value} must be https under requireHttps (or http to a loopback host)`);
  }
  return url.origin;
}
