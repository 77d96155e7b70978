// nest-tessera/issuer: what the service that signs tokens calls: its keys and their rotation,
// access tokens, sessions with rotating refresh tokens, and renewal where the key is at hand.

// Signing keys
export { KeyRing, generateSigningJwk } from './issue/key-ring.js';
export type { KeyRingOptions } from './issue/key-ring.js';
export { KeyRotator } from './issue/key-rotator.js';
export type { KeyRotationEvent, KeyRotatorOptions } from './issue/key-rotator.js';
export type { RotationPolicy } from './issue/key-rotation.js';
export type { KeyPhase } from './issue/key-schedule.js';

// Access tokens
export { TokenIssuer } from './issue/token-issuer.js';
export type {
  AccessTokenRequest,
  IssuedAccessToken,
  TokenIssuerOptions,
} from './issue/token-issuer.js';
export { LocalTokenRenewer } from './renewal/local-token-renewer.js';

// Sessions and refresh tokens
export { RefreshRefusedError, SessionManager } from './session/session-manager.js';
export type {
  LoginRequest,
  RefreshFailureReason,
  SessionEvents,
  SessionManagerOptions,
  TokenPair,
} from './session/session-manager.js';
export { SessionStore } from './session/session-store.js';
export type {
  FirstRefreshToken,
  RotationRequest,
  RotationResult,
  SessionRecord,
} from './session/session-store.js';
export { MemorySessionStore } from './session/memory-session-store.js';
