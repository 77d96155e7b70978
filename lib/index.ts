// The main entry point of nest-tessera. Redis-backed stores are in nest-tessera/redis (lib/redis.ts),
// Prometheus metrics in nest-tessera/prometheus: neither ioredis nor prom-client is loaded from here.

// Errors and RFC 6750 answers
export {
  AuthConfigError,
  AuthError,
  bearerChallenge,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  MissingTokenError,
} from './errors/auth-errors.js';
export type {
  BearerErrorCode,
  InvalidRequestReason,
  InvalidTokenReason,
} from './errors/auth-errors.js';

// Options and events
export type {
  AuthModuleOptions,
  JwksOptions,
  RevocationOptions,
  TokenSourceOptions,
  TrustedIssuerOptions,
} from './options/auth-options.js';
export type {
  RedisBackend,
  RedisBackendConnection,
  RedisBackendRevocationOptions,
  RedisBackendThrottleOptions,
} from './options/redis-backend.js';
export { resolveAuthOptions } from './options/resolve-auth-options.js';
export type { ResolvedAuthOptions } from './options/resolve-auth-options.js';
export type { AuthEvents } from './events.js';
export { combineAuthEvents } from './observability/combine-events.js';
export {
  SpanEventNames,
  SpanNames,
  TraceAttributes,
  TRACER_NAME,
} from './observability/tracing.js';

// Keys
export { SIGNING_ALGORITHMS } from './keys/algorithms.js';
export type { SigningAlgorithm } from './keys/algorithms.js';
export type { Jwk, JwkSet } from './keys/jwk.js';
export type { JwksFetchEvent } from './keys/jwks-client.js';

// Verification
export { TokenVerifier } from './verify/token-verifier.js';
export type { Awaitable } from './util/awaitable.js';
export { createTokenVerifier } from './verify/create-token-verifier.js';
export { extractToken } from './verify/extract-token.js';
export type { CredentialCarrier, TokenSources } from './verify/extract-token.js';
export type { AccessTokenClaims, Principal } from './verify/principal.js';

// Issuing
export { KeyRing, generateSigningJwk } from './issue/key-ring.js';
export { TokenIssuer } from './issue/token-issuer.js';
export type { KeyRingOptions } from './issue/key-ring.js';
export { KeyRotator } from './issue/key-rotator.js';
export type { KeyRotationEvent, KeyRotatorOptions } from './issue/key-rotator.js';
export { describeKeySet, pruneKeySet, rotateKeySet, rotationDue } from './issue/key-rotation.js';
export type { RotationPolicy } from './issue/key-rotation.js';
export { readKeyFile, writeKeyFile } from './issue/key-file.js';
export type { KeyPhase } from './issue/key-schedule.js';
export type {
  AccessTokenRequest,
  IssuedAccessToken,
  TokenIssuerOptions,
} from './issue/token-issuer.js';

// Authentication and revocation
export { RequestAuthenticator } from './authentication/request-authenticator.js';
export { RevocationStore, RevocationUnavailableError } from './revocation/revocation-store.js';
export { MemoryRevocationStore } from './revocation/memory-revocation-store.js';
export { subjectId } from './revocation/revocation-entry.js';
export type {
  RevocationEntry,
  RevocationQuery,
  RevokedSubject,
} from './revocation/revocation-entry.js';
export { RevocationChecker, revocationQuery } from './revocation/revocation-checker.js';
export type {
  OutagePolicy,
  RevocationCheckEvents,
  RiskTier,
} from './revocation/revocation-checker.js';
export type { BreakerState } from './resilience/circuit-breaker.js';

// Sessions and refresh tokens (issuer side)
export { SessionStore } from './session/session-store.js';
export type { RotationRequest, RotationResult, SessionRecord } from './session/session-store.js';
export { MemorySessionStore } from './session/memory-session-store.js';
export { RefreshRefusedError, SessionManager } from './session/session-manager.js';
export type {
  LoginRequest,
  RefreshFailureReason,
  SessionEvents,
  SessionManagerOptions,
  TokenPair,
} from './session/session-manager.js';

// Renewal
export type { RenewalOptions } from './options/auth-options.js';
export type { TokenRenewer } from './renewal/token-renewer.js';
export { LocalTokenRenewer } from './renewal/local-token-renewer.js';
export { RemoteTokenRenewer } from './renewal/remote-token-renewer.js';
export type { RemoteTokenRenewerOptions } from './renewal/remote-token-renewer.js';

// Throttling
export type { ThrottleOptions } from './options/auth-options.js';
export { TooManyRequestsError } from './errors/too-many-requests.error.js';
export { ConsumerThrottle, consumerKey } from './throttling/consumer-throttle.js';
export type { ThrottleDecision, ThrottleLimit } from './throttling/consumer-throttle.js';
export { MemoryThrottleStorage } from './throttling/memory-throttle-storage.js';
export type { ThrottleStorage, WindowRecord } from './throttling/throttle-storage.js';
export { SkipThrottle, Throttle } from './nest/throttle.decorator.js';

// Authorization, in controllers and in the service layer
export { assertScopes, missingScopes, requireTenant } from './authorization/scopes.js';
export { currentPrincipal, runAs } from './authorization/principal-context.js';
export type { CallIdentity } from './authorization/principal-context.js';
export type { TenantLocation } from './authorization/method-rule.js';
export { ServiceIdentities } from './authorization/service-identities.js';
export type {
  ClientCredentialsServiceIdentity,
  LocalServiceIdentity,
  ServiceIdentityOptions,
} from './authorization/service-identities.js';
export { RunAs } from './nest/run-as.decorator.js';
export { tokenFromMessage } from './nest/message-token.js';

// Nest
export { AuthModule } from './nest/auth.module.js';
export { AUTH_OPTIONS } from './nest/auth.module-definition.js';
export { AuthExceptionFilter } from './nest/auth-exception.filter.js';
export { BearerGuard } from './nest/bearer.guard.js';
export { Public } from './nest/public.decorator.js';
export { Scopes, RequiredScopes } from './nest/scopes.decorator.js';
export { Sensitive } from './nest/sensitive.decorator.js';
export { CurrentPrincipal } from './nest/principal.decorators.js';
export { Tenant } from './nest/tenant.decorator.js';
export { principalOf, rejectionOf } from './nest/request-state.js';
export { JwtPassportStrategy } from './nest/passport-jwt.strategy.js';
