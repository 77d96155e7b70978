// The scratch applications the packaging spec installs the packed tarball into, written by hand as
// a user would: a Nest 12 ES-module project, and a Nest 11 CommonJS project with a Jest test.

import type { PackageVersions } from './package-versions.js';

export interface ConsumerApp {
  readonly name: string;
  /** Its folder in the spec's temporary directory. */
  readonly directory: string;
  /** The major of the Nest it installs. */
  readonly nestMajor: 11 | 12;
  /**
   * The workspace of this repository (package.json `workspaces`) that declares what the app
   * installs beyond the repository's own packages, so that package-lock.json pins it too.
   */
  readonly workspace?: string;
  /** Packages installed beside the tarball (beyond Nest, reflect-metadata, rxjs, TypeScript). */
  readonly extraPackages: readonly string[];
  /** Optional peers of nest-tessera that must not be installed: the app runs without them. */
  readonly absentPeers: readonly string[];
  /** Relative path to contents; package.json gets its `overrides` at install time. */
  readonly files: Readonly<Record<string, string>>;
}

const NEST_AND_TYPESCRIPT = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/platform-express',
  'reflect-metadata',
  'rxjs',
  'typescript',
  '@types/node',
];

/** The packages a consumer installs by name. */
const installedByName = (app: ConsumerApp) => [...NEST_AND_TYPESCRIPT, ...app.extraPackages];

/** What `npm install` gets for a consumer, the tarball first, each package at its chosen version. */
export function installArguments(
  tarball: string,
  app: ConsumerApp,
  versions: PackageVersions,
): string[] {
  return [tarball, ...installedByName(app).map((p) => versions.spec(p, app.workspace))];
}

/** The app's package.json with the versions' overrides (what it does not install by name). */
export function packageJson(app: ConsumerApp, versions: PackageVersions): string {
  const manifest = JSON.parse(app.files['package.json']) as Record<string, unknown>;
  const overrides = versions.overrides(installedByName(app), app.workspace);
  return json(Object.keys(overrides).length === 0 ? manifest : { ...manifest, overrides });
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

const compilerOptions = {
  target: 'ES2023',
  strict: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  types: ['node'],
  rootDir: 'src',
  outDir: 'dist',
};

/**
 * The application: a route that needs a token with `profile:read`, verified with static keys
 * against the package's own `KeyRing`, which also signs the tokens the spec sends, and a logout
 * that revokes the caller's token through the module's `RevocationStore`. Once it listens it
 * prints one JSON line: `{ url, tokens, prometheusEntry, node }`, the tokens being `valid` (with
 * the scope), `unscoped` (without it) and `foreign` (signed by a key the app does not trust).
 */
function mainSource(variant: {
  header: string;
  events: string;
  options?: string;
  imports?: string;
  providers?: string;
}): string {
  return `import 'reflect-metadata';
import { Controller, Get, HttpCode, Inject, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  AuthModule,
  CurrentPrincipal,
  Public,
  RevocationStore,
  Scopes,
  type Principal,
} from 'nest-tessera';
import { KeyRing, TokenIssuer } from 'nest-tessera/issuer';
${variant.header}

const ISSUER = 'https://issuer.example';
const AUDIENCE = 'scratch-api';
const keyRing = KeyRing.ephemeral('EdDSA');

@Controller()
class AppController {
  constructor(@Inject(RevocationStore) private readonly revocations: RevocationStore) {}

  @Scopes('profile:read')
  @Get('whoami')
  whoami(@CurrentPrincipal() principal: Principal): { subject: string } {
    return { subject: principal.subject };
  }

  @Post('logout')
  @HttpCode(204)
  async logout(@CurrentPrincipal() principal: Principal): Promise<void> {
    await this.revocations.revokeToken(principal.tokenId, principal.expiresAt);
  }

  @Public()
  @Get('metrics')
  metrics(): Promise<string> {
    return metrics();
  }
}

@Module({
  imports: [
    AuthModule.forRoot({
      issuers: [{ issuer: ISSUER, keys: keyRing.publicJwks().keys }],
      audience: AUDIENCE,
      events: ${variant.events},${variant.options ?? ''}
    }),${variant.imports ?? ''}
  ],
  controllers: [AppController],${variant.providers ?? ''}
})
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  const sign = (ring: KeyRing, scopes: string[]): string =>
    new TokenIssuer({ issuer: ISSUER, audience: AUDIENCE, keyRing: ring }).issueAccessToken({
      subject: 'alice',
      scopes,
      clientId: 'scratch-app',
    }).token;
  const tokens = {
    valid: sign(keyRing, ['profile:read']),
    unscoped: sign(keyRing, []),
    foreign: sign(KeyRing.ephemeral('EdDSA'), ['profile:read']),
  };
  console.log(
    JSON.stringify({ url: await app.getUrl(), tokens, prometheusEntry, node: process.version }),
  );
}

void main();
`;
}

/**
 * `"type": "module"`, NodeNext resolution; declaration files checked too (no skipLibCheck). It
 * never touches Redis and installs no optional peer but prom-client (which brings
 * @opentelemetry/api) and @nestjs/throttler: the main entry compiles and runs without ioredis
 * and Passport, and so does nest-tessera/throttler, whose guard throttles every route here (100
 * a minute, in memory).
 */
export const ESM_APP: ConsumerApp = {
  name: 'a Nest 12 ES-module app (NodeNext)',
  directory: 'esm-app',
  nestMajor: 12,
  extraPackages: ['prom-client', '@nestjs/throttler'],
  absentPeers: ['ioredis', 'passport', '@nestjs/passport', '@nestjs/terminus'],
  files: {
    'package.json': json({ name: 'scratch-esm-app', private: true, type: 'module' }),
    'tsconfig.json': json({
      compilerOptions: {
        ...compilerOptions,
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        skipLibCheck: false,
      },
      include: ['src'],
    }),
    'src/main.ts': mainSource({
      header: `import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { prometheusAuthEvents } from 'nest-tessera/prometheus';
import { ConsumerThrottlerGuard, MemoryThrottlerStorage } from 'nest-tessera/throttler';
import { Registry } from 'prom-client';

const registry = new Registry();
const metrics = (): Promise<string> => registry.metrics();
const prometheusEntry = import.meta.resolve('nest-tessera/prometheus');`,
      events: 'prometheusAuthEvents(registry)',
      options: `
      revocation: {},`,
      imports: `
    ThrottlerModule.forRoot({
      throttlers: [{ limit: 100, ttl: 60_000 }],
      storage: new MemoryThrottlerStorage(),
    }),`,
      providers: `
  providers: [{ provide: APP_GUARD, useClass: ConsumerThrottlerGuard }],`,
    }),
  },
};

/**
 * What the CommonJS app's Jest needs to load nest-tessera, an ES module (docs/compatibility.md):
 * ts-jest compiles it to CommonJS like the app's own files (a `transform` that matches `.js`,
 * and `transformIgnorePatterns` that let it through), on any Node; or, on Node 24.9 and later,
 * Jest run with `--experimental-vm-modules` loads it through require(esm) untransformed, once
 * `transformIgnorePatterns` is Jest's default again. `isolatedModules` only makes ts-jest faster.
 */
export const COMMONJS_JEST = {
  transformIgnorePatterns: ['/node_modules/(?!nest-tessera/)'],
  /** Jest's default: nothing under node_modules is transformed. */
  defaultTransformIgnorePatterns: ['/node_modules/'],
  /** Tests of the Jest spec below, as Jest's JSON report counts them. */
  tests: 3,
};

/**
 * A Jest spec as a Nest user writes one: a testing module with `AuthModule` trusting a
 * `TestIssuer` of nest-tessera/testing, and requests with its tokens.
 */
const JEST_SPEC = `import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AuthModule, CurrentPrincipal, Scopes, type Principal } from 'nest-tessera';
import { TestIssuer } from 'nest-tessera/testing';

const AUDIENCE = 'scratch-api';
const issuer = TestIssuer.create({ audience: AUDIENCE });

@Controller()
class WhoamiController {
  @Scopes('profile:read')
  @Get('whoami')
  whoami(@CurrentPrincipal() principal: Principal): { subject: string } {
    return { subject: principal.subject };
  }
}

describe('GET /whoami', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [AuthModule.forRoot({ issuers: [issuer.trusted], audience: AUDIENCE })],
      controllers: [WhoamiController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  afterAll(() => app.close());

  const get = (token: string) =>
    fetch(\`\${url}/whoami\`, { headers: { authorization: \`Bearer \${token}\` } });

  it('answers 200 with the scope', async () => {
    const response = await get(issuer.token({ sub: 'alice', scope: 'profile:read' }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ subject: 'alice' });
  });

  it('answers 401 to a token of a key it does not trust', async () => {
    const other = TestIssuer.create({ audience: AUDIENCE });
    const response = await get(other.token({ sub: 'alice', scope: 'profile:read' }));
    expect(response.status).toBe(401);
  });

  it('answers 403 without the scope', async () => {
    const response = await get(issuer.token({ sub: 'alice', scope: 'profile:write' }));
    expect(response.status).toBe(403);
  });
});
`;

/**
 * A Nest 11 CommonJS app: tsc emits `require('nest-tessera')`, which Node loads through
 * require(esm), and Nest 11's CommonJS, which nest-tessera imports. Its Jest spec loads the
 * package as COMMONJS_JEST says. It installs ioredis and keeps its revocation list in the Redis at `REDIS_URL`, under
 * `REDIS_KEY_PREFIX` (both set by the spec), through `nest-tessera/redis`. Declaration files are
 * checked (no skipLibCheck), ioredis's included: @types/redis-errors is installed beside it, as
 * CHANGELOG.md tells Redis users to (ioredis 6.1.0's declarations import redis-errors).
 */
export const COMMONJS_APP: ConsumerApp = {
  name: 'a Nest 11 CommonJS app (module commonjs)',
  directory: 'commonjs-app',
  nestMajor: 11,
  workspace: 'test/packaging/commonjs-app',
  extraPackages: [
    'ioredis',
    '@types/redis-errors',
    '@nestjs/testing',
    'jest',
    'ts-jest',
    '@types/jest',
  ],
  // Without OpenTelemetry the module traces nothing, and loads nothing to find that out.
  absentPeers: [
    '@opentelemetry/api',
    'prom-client',
    'passport',
    '@nestjs/passport',
    '@nestjs/terminus',
    '@nestjs/throttler',
  ],
  files: {
    'package.json': json({
      name: 'scratch-commonjs-app',
      private: true,
      jest: {
        testEnvironment: 'node',
        roots: ['<rootDir>/test'],
        testRegex: '\\.spec\\.ts$',
        transform: { '^.+\\.(t|j)s$': ['ts-jest', { tsconfig: 'tsconfig.spec.json' }] },
        transformIgnorePatterns: COMMONJS_JEST.transformIgnorePatterns,
      },
    }),
    'tsconfig.json': json({
      compilerOptions: { ...compilerOptions, module: 'commonjs', skipLibCheck: false },
      include: ['src'],
    }),
    'tsconfig.spec.json': json({
      extends: './tsconfig.json',
      compilerOptions: {
        isolatedModules: true,
        types: ['node', 'jest'],
        rootDir: '.',
      },
      include: ['src', 'test'],
    }),
    'test/whoami.spec.ts': JEST_SPEC,
    'src/main.ts': mainSource({
      // prom-client is not installed here: the main entry loads without it, and the subpath
      // still resolves (its types need prom-client's, so they are the ES-module app's to check;
      // nest-tessera/redis checks the typesVersions mapping this resolution needs).
      header: `import { redis } from 'nest-tessera/redis';

const metrics = async (): Promise<string> => '';
const prometheusEntry = require.resolve('nest-tessera/prometheus');`,
      events: '{}',
      options: `
      redis: redis(process.env.REDIS_URL!),
      revocation: { keyPrefix: process.env.REDIS_KEY_PREFIX },`,
    }),
  },
};
