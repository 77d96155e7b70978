// nest-tessera/testing: tokens for a user's tests, from a local issuer the module can trust.

export { TestIssuer } from './testing/test-issuer.js';
export type { TestIssuerOptions, TestTokenOptions } from './testing/test-issuer.js';
