import type { RiskTier } from './revocation/risk-tier.js';
import type { Awaitable } from './util/awaitable.js';

/** Why a JWKS was fetched: first use, cache expiry, or a `kid` the cache did not know. */
export type JwksFetchCause = 'initial' | 'expired' | 'unknown_kid';

/** What one JWKS download came to, for its trace. */
export interface JwksFetchOutcome {
  readonly ok: boolean;
  readonly keyCount?: number;
  readonly error?: Error;
}

/** What a token's header says, for the trace of its verification. Never the token. */
export interface TokenDescription {
  readonly alg: string;
  /** The issuer when it is a trusted one. */
  readonly trustedIssuer: string | undefined;
  readonly kid: unknown;
}

/**
 * How the core lets an observer trace its operations without knowing who observes: each hook
 * runs the work it is given (and returns what the work returns, synchronously when the work is
 * synchronous), and may wrap it, e.g. in an OpenTelemetry span. The core never imports a
 * tracing library; `NO_TRACING` is what it uses when nobody observes.
 */
export interface TraceHooks {
  /** One verification not answered from the cache; `describe` names its header once decoded. */
  verification<T>(
    work: (describe: (token: TokenDescription) => void) => Awaitable<T>,
  ): Awaitable<T>;
  /** One download of a JWKS; `report` gives its outcome. */
  jwksFetch<T>(
    uri: string,
    cause: JwksFetchCause,
    work: (report: (outcome: JwksFetchOutcome) => void) => Promise<T>,
  ): Promise<T>;
  /** One revocation check that asks the backend; a rejection's reason says how it ended. */
  revocationCheck<T>(tier: RiskTier, work: () => Promise<T>): Promise<T>;
  /** A revocation hit, or a check let through while the backend is out, on the active trace. */
  revocationEvent(event: 'hit' | 'failed_open', tier: RiskTier): void;
}

const ignore = () => {};

/** Hooks that only run the work. */
export const NO_TRACING: TraceHooks = {
  verification: (work) => work(ignore),
  jwksFetch: (_uri, _cause, work) => work(ignore),
  revocationCheck: (_tier, work) => work(),
  revocationEvent: ignore,
};
