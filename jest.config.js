import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, URL } from 'node:url';
import {
  jestLoadsRequireEsm,
  NODE_24_RUNNER,
  specsNeedingRequireEsm,
} from './test/setup/require-esm.js';

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

const root = fileURLToPath(new URL('.', import.meta.url));
/** The subpath entry points of package.json (`./issuer` → `issuer`). */
const subpaths = Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).exports)
  .filter((path) => path !== '.' && path !== './package.json')
  .map((path) => path.slice(2));
const escape = (path) => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// Specs that load @nestjs/throttler run where Jest can load it: here on Node 24.9 or later, else
// through NODE_24_RUNNER (test/setup/require-esm.js says why).
const runElsewhere = jestLoadsRequireEsm()
  ? [join(root, NODE_24_RUNNER)]
  : specsNeedingRequireEsm(root);

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  // The package's own entry points, as the sample app imports them (package self-reference).
  moduleNameMapper: {
    '^nest-tessera$': '<rootDir>/lib/index.ts',
    // Only the entry points package.json exports: another subpath fails here as it would in Node.
    [`^nest-tessera/(${subpaths.join('|')})$`]: '<rootDir>/lib/$1.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  roots: ['<rootDir>/lib', '<rootDir>/sample-app', '<rootDir>/test', '<rootDir>/examples'],
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...runElsewhere.map((path) => `^${escape(path)}$`)],
  setupFiles: jestLoadsRequireEsm() ? ['<rootDir>/test/setup/preload-nest.js'] : [],
  // Adds NODE_24_RUNNER to a run whose path filter selects specs it runs on Node 24.
  ...(jestLoadsRequireEsm() ? {} : { testSequencer: '<rootDir>/test/setup/node-24-sequencer.js' }),
  globalSetup: '<rootDir>/test/setup/global-setup.js',
  globalTeardown: '<rootDir>/test/setup/global-teardown.js',
  maxWorkers: 2,
  testTimeout: 20000,
};
