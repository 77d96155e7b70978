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

const importsOf = (source: string) =>
  [...source.matchAll(/^(?:import|export)\b[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);

/**
 * Every library file `entry` reaches through its imports, type-only ones included: the emitted
 * declarations import no more than the sources do.
 */
function reachableFrom(entry: string, sources: Map<string, string>): Set<string> {
  const reached = new Set<string>();
  const visit = (file: string) => {
    if (reached.has(file)) return;
    reached.add(file);
    for (const specifier of importsOf(sources.get(file) ?? '')) {
      if (specifier.startsWith('.')) visit(join(dirname(file), specifier.replace(/\.js$/, '.ts')));
    }
  };
  visit(entry);
  return reached;
}

describe('entry points', () => {
  it('keeps prom-client out of everything but the nest-tessera/prometheus entry', async () => {
    const importers: string[] = [];
    for (const [file, source] of await libSources()) {
      const imports = importsOf(source);
      if (imports.includes('prom-client')) importers.push(file);
      // The main entry must never reach the Prometheus module, even indirectly.
      expect([file, imports.some((i) => i.endsWith('/prometheus-metrics.js'))]).toEqual([
        file,
        false,
      ]);
    }
    expect(importers).toEqual([join('lib', 'observability', 'prometheus-metrics.ts')]);
  });

  it('keeps ioredis, an optional peer, out of the main entry, its declarations included', async () => {
    const sources = await libSources();
    const importers = [...sources].filter(([, source]) => importsOf(source).includes('ioredis'));
    expect(importers.length).toBeGreaterThan(0);
    const main = reachableFrom(join('lib', 'index.ts'), sources);
    expect(importers.map(([file]) => file).filter((file) => main.has(file))).toEqual([]);
    // What needs ioredis is reachable from nest-tessera/redis.
    const redis = reachableFrom(join('lib', 'redis.ts'), sources);
    expect(importers.map(([file]) => file).filter((file) => !redis.has(file))).toEqual([]);
  });

  it('maps each export of package.json to the build of a library file', async () => {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { types: string; default: string }>;
    };
    const sources = await libSources();
    for (const [name, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue;
      const source = relative('dist', target.default).replace(/\.js$/, '.ts');
      expect([name, sources.has(source)]).toEqual([name, true]);
      expect(target.types).toBe(target.default.replace(/\.js$/, '.d.ts'));
    }
    expect(pkg.exports['./prometheus']).toMatchObject({
      default: './dist/lib/observability/prometheus-metrics.js',
    });
    expect(pkg.exports['./redis']).toMatchObject({ default: './dist/lib/redis.js' });
  });
});
