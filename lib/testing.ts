// nest-tessera/testing: tokens for a user's tests, from a local issuer the module can trust.

export { TestIssuer } from './testing/test-issuer.js';
export type {
  ServedTestIssuerOptions,
  TestClaims,
  TestIssuerOptions,
  TestTokenOptions,
} from './testing/test-issuer.js';
export type { TestIssuerProfile } from './testing/provider-shapes.js';
export type { ProviderOverridable } from './testing/trust-only.js';
