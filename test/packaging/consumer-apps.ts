// The scratch Nest 12 applications the packaging spec installs the packed tarball into, written
// by hand as a user would: one ES-module project, one CommonJS project.

import type { PackageVersions } from './package-versions.js';

export interface ConsumerApp {
  readonly name: string;
  /** Its folder in the spec's temporary directory. */
  readonly directory: string;
  /** Packages installed beside the tarball (beyond Nest 12, reflect-metadata, rxjs, TypeScript). */
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
  return [tarball, ...installedByName(app).map((p) => versions.spec(p))];
}

/** The app's package.json with the versions' overrides (what it does not install by name). */
export function packageJson(app: ConsumerApp, versions: PackageVersions): string {
  const manifest = JSON.parse(app.files['package.json']) as Record<string, unknown>;
  const overrides = versions.overrides(installedByName(app));
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
 * against the package's own `KeyRing`, which also signs the token the spec sends, and a logout
 * that revokes the caller's token through the module's `RevocationStore`. Once it listens it
 * prints one JSON line: `{ url, token, prometheusEntry, node }`.
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
  const issuer = new TokenIssuer({ issuer: ISSUER, audience: AUDIENCE, keyRing });
  const { token } = issuer.issueAccessToken({
    subject: 'alice',
    scopes: ['profile:read'],
    clientId: 'scratch-app',
  });
  console.log(
    JSON.stringify({ url: await app.getUrl(), token, prometheusEntry, node: process.version }),
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
  name: 'an ES-module app (NodeNext)',
  directory: 'esm-app',
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
 * A CommonJS app: tsc emits `require('nest-tessera')`, which Node loads through require(esm). It
 * installs ioredis and keeps its revocation list in the Redis at `REDIS_URL`, under
 * `REDIS_KEY_PREFIX` (both set by the spec), through `nest-tessera/redis`. Declaration files are
 * checked (no skipLibCheck), ioredis's included: @types/redis-errors is installed beside it, as
 * CHANGELOG.md tells Redis users to (ioredis 6.1.0's declarations import redis-errors).
 */
export const COMMONJS_APP: ConsumerApp = {
  name: 'a CommonJS app (module commonjs)',
  directory: 'commonjs-app',
  extraPackages: ['ioredis', '@types/redis-errors'],
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
    'package.json': json({ name: 'scratch-commonjs-app', private: true }),
    'tsconfig.json': json({
      compilerOptions: { ...compilerOptions, module: 'commonjs', skipLibCheck: false },
      include: ['src'],
    }),
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
