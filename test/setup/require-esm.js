import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

// @nestjs/throttler is CommonJS that requires the ESM-only Nest 12. Node itself does that from
// 20.19 on (require(esm)), but Jest's module loader, which runs these specs as ES modules, only
// from Node 24.9 on. So, on an older Node, every spec that loads @nestjs/throttler (itself, or
// through anything it imports: the sample's orders service, say) is left out of the run, and
// test/require-esm/on-node-24.spec.ts runs those specs in a second Jest on Node 24, taken from its
// npm package (test/setup/node-24.js), and reports each one's result.

/** The spec that runs the others on Node 24 (only needed where Jest cannot load them itself). */
export const NODE_24_RUNNER = join('test', 'require-esm', 'on-node-24.spec.ts');

const ROOTS = ['lib', 'sample-app', 'test'];
const THROTTLER = '@nestjs/throttler';
const SELF = 'nest-tessera';

/** Whether Jest's ESM mode can `require()` an ES module on this Node (24.9 or later). */
export function jestLoadsRequireEsm(version = process.versions.node) {
  const [major, minor] = version.split('.').map(Number);
  return major > 24 || (major === 24 && minor >= 9);
}

// Module specifiers a source loads at run time: `import`/`export … from` (not `import type`), a
// side-effect `import '…'`, and `import('…')`.
const STATIC = /^\s*(import|export)\s+(type\s+)?[^;]*?\bfrom\s*(['"])([^'"]+)\3/gm;
const SIDE_EFFECT = /^\s*import\s*(['"])([^'"]+)\1/gm;
const DYNAMIC = /\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g;

// Template literals hold code that other programs run (the packaging spec writes apps with them).
const TEMPLATE_LITERAL = /`(?:\\[\s\S]|[^`\\])*`/g;

function loadedBy(text) {
  const source = text.replace(TEMPLATE_LITERAL, '``');
  const specifiers = [];
  for (const match of source.matchAll(STATIC))
    if (match[2] === undefined) specifiers.push(match[4]);
  for (const match of source.matchAll(SIDE_EFFECT)) specifiers.push(match[2]);
  for (const match of source.matchAll(DYNAMIC)) specifiers.push(match[2]);
  return specifiers;
}

/** The file a relative specifier names: the TypeScript source behind a `.js` import. */
function resolveRelative(from, specifier) {
  const target = join(dirname(from), specifier);
  const source = target.replace(/\.js$/, '.ts');
  return existsSync(source) ? source : target;
}

/** The library source an import of the package by its own name loads (as jest.config.js maps it). */
function resolveSelf(root, specifier) {
  return specifier === SELF
    ? join(root, 'lib', 'index.ts')
    : join(root, 'lib', `${specifier.slice(SELF.length + 1)}.ts`);
}

/**
 * Every spec under lib/, sample-app/ and test/ (absolute paths, sorted) that loads
 * @nestjs/throttler at run time, directly or through the files it imports (the package's own
 * entry points, imported by name, included).
 */
export function specsNeedingRequireEsm(root) {
  const verdicts = new Map();
  const loadsThrottler = (file) => {
    if (verdicts.has(file)) return verdicts.get(file);
    verdicts.set(file, false); // an import cycle adds nothing
    let source;
    try {
      source = readFileSync(file, 'utf8');
    } catch {
      return false;
    }
    const verdict = loadedBy(source).some((specifier) => {
      if (specifier.startsWith('.')) return loadsThrottler(resolveRelative(file, specifier));
      if (specifier === SELF || specifier.startsWith(`${SELF}/`)) {
        return loadsThrottler(resolveSelf(root, specifier));
      }
      return specifier === THROTTLER || specifier.startsWith(`${THROTTLER}/`);
    });
    verdicts.set(file, verdict);
    return verdict;
  };
  return ROOTS.flatMap((dir) =>
    readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.spec.ts'))
      .map((file) => join(root, dir, file)),
  )
    .filter((spec) => relative(root, spec) !== NODE_24_RUNNER && loadsThrottler(spec))
    .sort();
}
