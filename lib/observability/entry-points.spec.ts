import { describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function libSources(): Promise<Map<string, string>> {
  const files = await readdir(join(root, 'lib'), { recursive: true });
  const sources = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
  return new Map(
    await Promise.all(
      sources.map(
        async (f) => [join('lib', f), await readFile(join(root, 'lib', f), 'utf8')] as const,
      ),
    ),
  );
}

/**
 * Every module specifier a source names: `import`/`export … from`, a side-effect `import '…'`,
 * `import('…')` (a type query or a dynamic import), `require('…')` (`import x = require`) and a
 * `/// <reference types|path>`. A specifier computed at run time is not seen; none is used here.
 */
const MODULE_REFERENCES = [
  /^\s*(?:import|export)\b[^;]*?\bfrom\s*(['"])([^'"]+)\1/gm,
  /^\s*import\s*(['"])([^'"]+)\1/gm,
  /\b(?:import|require)\s*\(\s*(['"`])([^'"`]+)\1/g,
  /^\s*\/\/\/\s*<reference\s+(?:types|path)\s*=\s*(['"])([^'"]+)\1/gm,
];

const importsOf = (source: string) =>
  MODULE_REFERENCES.flatMap((pattern) => [...source.matchAll(pattern)].map((m) => m[2]));

/**
 * Every library file `entry` reaches through its imports, type-only ones included: the emitted
 * declarations import no more than the sources do.
 */
function reachableFrom(entry: string, sources: Map<string, string>): Set<string> {
  const imports = new Map(
    [...sources].map(([file, source]) => [file, importsOf(source).join('\n')]),
  );
  return reachableFromImports(entry, imports);
}

/** As `reachableFrom`, over each file's list of specifiers (one per line). */
function reachableFromImports(entry: string, imports: Map<string, string>): Set<string> {
  const reached = new Set<string>();
  const visit = (file: string) => {
    if (reached.has(file)) return;
    reached.add(file);
    for (const specifier of (imports.get(file) ?? '').split('\n')) {
      if (specifier.startsWith('.')) visit(join(dirname(file), specifier.replace(/\.js$/, '.ts')));
    }
  };
  visit(entry);
  return reached;
}

describe('entry points', () => {
  it('sees every way a source names a module, dynamic imports and type queries included', () => {
    const planted = [
      "import { Injectable } from '@nestjs/common';",
      'import type {',
      '  Redis,',
      "} from 'ioredis-static';",
      "export { redis } from './redis/ioredis-backend.js';",
      "import 'reflect-metadata';",
      "type Client = InstanceType<typeof import('ioredis-type-query').Redis>;",
      'const loaded = await import("ioredis-dynamic");',
      "const required = require('ioredis-require');",
      "import Legacy = require('ioredis-import-equals');",
      '/// <reference types="ioredis-reference" />',
    ].join('\n');
    expect(importsOf(planted).sort()).toEqual(
      [
        '@nestjs/common',
        'ioredis-static',
        './redis/ioredis-backend.js',
        'reflect-metadata',
        'ioredis-type-query',
        'ioredis-dynamic',
        'ioredis-require',
        'ioredis-import-equals',
        'ioredis-reference',
      ].sort(),
    );
  });

  // Each optional peer and the one entry point that may load it; the main entry loads none.
  const OPTIONAL_PEERS = [
    { peer: 'ioredis', entry: 'redis.ts' },
    { peer: 'prom-client', entry: 'prometheus.ts' },
    { peer: 'passport', entry: 'passport.ts' },
    { peer: '@nestjs/passport', entry: 'passport.ts' },
    { peer: '@nestjs/terminus', entry: 'terminus.ts' },
    { peer: '@nestjs/throttler', entry: 'throttler.ts' },
  ];

  it.each(OPTIONAL_PEERS)(
    'keeps $peer, an optional peer, out of the main entry, its declarations included',
    async ({ peer, entry }) => {
      const sources = await libSources();
      const importers = [...sources]
        .filter(([, source]) => importsOf(source).includes(peer))
        .map(([file]) => file);
      expect(importers.length).toBeGreaterThan(0);
      const main = reachableFrom(join('lib', 'index.ts'), sources);
      expect(importers.filter((file) => main.has(file))).toEqual([]);
      // What needs the peer is reachable from its own entry.
      const own = reachableFrom(join('lib', entry), sources);
      expect(importers.filter((file) => !own.has(file))).toEqual([]);
    },
  );

  it('loads @opentelemetry/api, an optional peer, only by a dynamic import that may fail', async () => {
    const sources = await libSources();
    const importers = [...sources]
      .filter(([, source]) => importsOf(source).includes('@opentelemetry/api'))
      .map(([file]) => file);
    expect(importers).toEqual([join('lib', 'observability', 'tracing.ts')]);
    const statically = (source: string) =>
      importsOf(source.replace(/\bimport\s*\(\s*'\.\/tracing\.js'\s*\)/g, ''));
    const staticSources = new Map([...sources].map(([f, s]) => [f, statically(s).join('\n')]));
    const reached = reachableFromImports(join('lib', 'index.ts'), staticSources);
    expect(reached.has(join('lib', 'observability', 'tracing.ts'))).toBe(false);
    expect(sources.get(join('lib', 'observability', 'load-tracing.ts'))).toMatch(
      /await import\('\.\/tracing\.js'\)/,
    );
  });

  it('loads @nestjs/terminus from nest-tessera/terminus alone, and no other optional peer there', async () => {
    const sources = await libSources();
    const importers = [...sources]
      .filter(([, source]) => importsOf(source).includes('@nestjs/terminus'))
      .map(([file]) => file);
    expect(importers).toEqual([join('lib', 'nest', 'auth-health.indicator.ts')]);
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { default: string }>;
    };
    for (const [name, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string' || name === './terminus') continue;
      const reached = reachableFrom(
        relative('dist', target.default).replace(/\.js$/, '.ts'),
        sources,
      );
      expect([name, importers.filter((file) => reached.has(file))]).toEqual([name, []]);
    }
    // A user of the health checks needs none of the other optional peers installed.
    const others = OPTIONAL_PEERS.map(({ peer }) => peer).filter((p) => p !== '@nestjs/terminus');
    const terminus = reachableFrom(join('lib', 'terminus.ts'), sources);
    const loading = [...terminus].filter((file) =>
      importsOf(sources.get(file) ?? '').some((i) => others.includes(i)),
    );
    expect(loading).toEqual([]);
  });

  it('keeps nest-tessera/redis and nest-tessera/throttler apart: neither needs the peer of the other', async () => {
    const sources = await libSources();
    const importersOf = (peer: string) =>
      [...sources].filter(([, source]) => importsOf(source).includes(peer)).map(([file]) => file);
    const redis = reachableFrom(join('lib', 'redis.ts'), sources);
    expect(importersOf('@nestjs/throttler').filter((file) => redis.has(file))).toEqual([]);
    // The Redis throttler storage takes its connection from redis(): no ioredis of its own.
    const throttler = reachableFrom(join('lib', 'throttler.ts'), sources);
    expect(importersOf('ioredis').filter((file) => throttler.has(file))).toEqual([]);
  });

  it('maps each export of package.json to the build of a library file', async () => {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { types: string; default: string }>;
      typesVersions: Record<string, Record<string, string[]>>;
    };
    const sources = await libSources();
    for (const [name, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue;
      const source = relative('dist', target.default).replace(/\.js$/, '.ts');
      expect([name, sources.has(source)]).toEqual([name, true]);
      expect(target.types).toBe(target.default.replace(/\.js$/, '.d.ts'));
    }
    expect(pkg.exports['./prometheus']).toMatchObject({
      default: './dist/lib/prometheus.js',
    });
    expect(pkg.exports['./redis']).toMatchObject({ default: './dist/lib/redis.js' });
    expect(pkg.exports['./terminus']).toMatchObject({ default: './dist/lib/terminus.js' });
    expect(pkg.exports['./throttler']).toMatchObject({ default: './dist/lib/throttler.js' });
  });

  it('declares @nestjs/terminus an optional peer, and maps nest-tessera/terminus for old resolution', async () => {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
      typesVersions: Record<string, Record<string, string[]>>;
    };
    expect(pkg.peerDependencies['@nestjs/terminus']).toBeDefined();
    expect(pkg.peerDependenciesMeta['@nestjs/terminus']).toEqual({ optional: true });
    expect(pkg.typesVersions['*'].terminus).toEqual(['./dist/lib/terminus.d.ts']);
  });

  it('declares the Nest peers for Nest 11 and 12, and Node.js where CommonJS apps can require it', async () => {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      engines: { node: string };
      peerDependencies: Record<string, string>;
    };
    // The packaging spec installs the package into a Nest 11 app and a Nest 12 app.
    for (const name of ['common', 'core', 'microservices', 'passport']) {
      expect([name, pkg.peerDependencies[`@nestjs/${name}`]]).toEqual([name, '^11.0.0 || ^12.0.0']);
    }
    // @nestjs/schedule jumped from 6 (Nest 10 and 11) to 12 (Nest 11 and 12).
    expect(pkg.peerDependencies['@nestjs/schedule']).toBe('^6.0.0 || ^12.0.0');
    // require(esm) without a flag: Node 20.19 on, and 22.12 on Node 22.
    expect(pkg.engines.node).toBe('^20.19.0 || >=22.12.0');
  });

  it('declares @nestjs/throttler an optional peer for the Nest 11 and 12 versions, and maps every entry for old resolution', async () => {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { types: string }>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
      typesVersions: Record<string, Record<string, string[]>>;
    };
    // 6.6.0 is the first @nestjs/throttler for Nest 12 (6.4 and 6.5 stop at Nest 11), and 6.7.1
    // the first with the setResponseHeader() that ConsumerThrottlerGuard calls for Retry-After.
    expect(pkg.peerDependencies['@nestjs/throttler']).toBe('^6.7.1');
    expect(pkg.peerDependenciesMeta['@nestjs/throttler']).toEqual({ optional: true });
    // TypeScript without `exports` support (moduleResolution node10) finds each entry's types.
    for (const [name, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string' || name === '.') continue;
      expect([name, pkg.typesVersions['*'][name.slice(2)]]).toEqual([name, [target.types]]);
    }
  });
});
