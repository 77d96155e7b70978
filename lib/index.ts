// nest-tessera: what a resource server calls. The issuer side is in nest-tessera/issuer, Redis
// in nest-tessera/redis, Passport in nest-tessera/passport, metrics in nest-tessera/prometheus,
// throttling in nest-tessera/throttler, health in nest-tessera/terminus, test tokens in
// nest-tessera/testing: none of their optional peers is loaded from here.

// The module and its options
export { AuthModule } from './nest/auth.module.js';
export type {
  AuthModuleAsyncOptions,
  AuthModuleRootOptions,
} from './nest/auth.module-definition.js';
export type {
  AuthModuleOptions,
  DpopNonceSettings,
  DpopOptions,
  JwksOptions,
  RenewalOptions,
  RevocationOptions,
  TokenSourceOptions,
  TrustedIssuerOptions,
} from './options/auth-options.js';
export type { IssuerProfileName } from './verify/issuer-profile.js';
export type { RedisBackend } from './options/redis-backend.js';
export type { SigningAlgorithm } from './keys/algorithms.js';
export type { Jwk, JwkSet } from './keys/jwk.js';
export type { KeySource, KeySourceHealth } from './keys/key-source.js';
export type { VerificationKey } from './keys/jwk.js';
export type { AuthEvents } from './events.js';
export type { RevocationCheckEvents } from './revocation/revocation-checker.js';
export type { JwksFetchEvent } from './keys/jwks-client.js';
export type { IssuerDiscoveryCause, IssuerDiscoveryEvent } from './keys/discovery-key-source.js';
export type { JwksFetchCause, JwksFetchOutcome } from './trace-hooks.js';
export { combineAuthEvents } from './observability/combine-events.js';

// Guarding routes and methods
export { BearerGuard } from './nest/bearer.guard.js';
export { Public } from './nest/public.decorator.js';
export { AnyScope, Scopes } from './nest/scopes.decorator.js';
export type { SecuringDecorator } from './nest/secure.decorator.js';
export { Tenant } from './nest/tenant.decorator.js';
export type { TenantLocation } from './authorization/method-rule.js';
export { Sensitive } from './nest/sensitive.decorator.js';
export { RunAs } from './nest/run-as.decorator.js';
export type {
  ClientCredentialsServiceIdentity,
  LocalServiceIdentity,
  ServiceIdentityOptions,
} from './authorization/service-identities.js';

// The principal
export type { AccessTokenClaims, Principal } from './verify/principal.js';
export { CurrentPrincipal } from './nest/principal.decorators.js';
export { currentPrincipal, runAs } from './authorization/principal-context.js';
export type { CallIdentity } from './authorization/principal-context.js';
export { principalOf, rejectionOf } from './nest/request-state.js';
export type { RequestRejection } from './nest/request-state.js';

// Errors and their RFC 6750 answers
export {
  AuthConfigError,
  AuthError,
  bearerChallenge,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  InvalidDpopProofError,
  MissingTokenError,
  UseDpopNonceError,
} from './errors/auth-errors.js';
export type {
  BearerErrorCode,
  DpopErrorCode,
  InvalidDpopProofReason,
  InvalidRequestReason,
  InvalidTokenReason,
} from './errors/auth-errors.js';

// Sender-constrained tokens (DPoP, RFC 9449)
export { accessTokenHash, DPOP_ALGORITHMS, DpopProofVerifier } from './dpop/dpop-proof-verifier.js';
export type {
  DpopProofRequest,
  DpopProofVerifierOptions,
  VerifiedDpopProof,
} from './dpop/dpop-proof-verifier.js';
export { MemoryDpopReplayCache } from './dpop/dpop-replay-cache.js';
export { DpopNonces } from './dpop/dpop-nonces.js';
export type { DpopNonceOptions } from './dpop/dpop-nonces.js';
export type { DpopReplayCache, MemoryDpopReplayCacheOptions } from './dpop/dpop-replay-cache.js';
export { jwkThumbprint } from './dpop/jwk-thumbprint.js';
export { requestUrl as dpopRequestUrl } from './dpop/dpop-request.js';
export type { DpopCarrier } from './dpop/dpop-request.js';

// Revocation
export { RevocationStore, RevocationUnavailableError } from './revocation/revocation-store.js';
export type { RevocationStoreHealth } from './revocation/revocation-store.js';
export { MemoryRevocationStore } from './revocation/memory-revocation-store.js';
export type {
  RevocationEntry,
  RevocationQuery,
  RevokedSubject,
} from './revocation/revocation-entry.js';
export type { OutagePolicy, RiskTier } from './revocation/risk-tier.js';

// Renewal by the issuer
export type { TokenRenewer } from './renewal/token-renewer.js';
export { RemoteTokenRenewer } from './renewal/remote-token-renewer.js';
export type { RemoteTokenRenewerOptions } from './renewal/remote-token-renewer.js';
export type { BreakerState } from './resilience/circuit-breaker.js';
