/**
 * Import rules checked by `npm run lint` (dependency-cruiser): no cycles anywhere, and a
 * framework-free core. Type-only imports count: the emitted declarations import what they do.
 */
const CORE =
  '^lib/(verify|keys|revocation|authorization|authentication|resilience|session|issue|renewal|errors|util)/|^lib/(events|trace-hooks)[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'An import cycle makes load order matter and the layers meaningless.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-is-framework-free',
      comment:
        'The core (verification, keys, revocation, authorization decisions, sessions, issuing) ' +
        'imports neither Nest, nor the options layer, nor observability: adapters call it, and ' +
        'observability subscribes to its events and trace hooks.',
      severity: 'error',
      from: { path: CORE, pathNot: '[.]spec[.]ts$' },
      // Through any chain of imports, not only directly.
      to: {
        path: '^lib/(nest|options|observability|redis|throttler|testing|cli)/|^lib/(index|issuer|redis|passport|prometheus|terminus|testing|throttler)[.]ts$|@nestjs|@opentelemetry|prom-client|passport',
        reachable: true,
      },
    },
    {
      name: 'library-stays-in-lib',
      comment: 'The library never imports the sample app, the tests or the benchmarks.',
      severity: 'error',
      from: { path: '^lib/', pathNot: '[.]spec[.]ts$' },
      to: { path: '^(sample-app|test|bench|examples)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
