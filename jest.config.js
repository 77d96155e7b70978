/** Jest runs in its native ESM mode: Nest 12 and jose ship as ES modules only. */
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2023',
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  // The package's own entry points, as the sample app imports them (package self-reference).
  moduleNameMapper: {
    '^nest-tessera$': '<rootDir>/lib/index.ts',
    // Only the entry points package.json exports: another subpath fails here as it would in Node.
    '^nest-tessera/(issuer|redis|passport|prometheus|terminus|testing|throttler)$':
      '<rootDir>/lib/$1.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  roots: ['<rootDir>/lib', '<rootDir>/sample-app', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  globalSetup: '<rootDir>/test/setup/global-setup.js',
  globalTeardown: '<rootDir>/test/setup/global-teardown.js',
  maxWorkers: 2,
  testTimeout: 20000,
};
