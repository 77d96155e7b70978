import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, URL } from 'node:url';

// A Node 24 for the specs that Jest can only load there (test/setup/require-esm.js): Node's own
// binary from its npm package (node-<platform>-<arch>), installed once under node_modules/.cache
// and then found there, or in npm's cache after `npm ci`.
//
// Run as a script, it runs Jest on that Node with the arguments given, e.g.
// `npm run test:node24 -- test/e2e/throttling`.

/** One exact version, so that every run tests on the same binary. Jest needs 24.9 or later. */
export const NODE_24_VERSION = '24.22.3';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGE = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
const BINARY = join('bin', process.platform === 'win32' ? 'node.exe' : 'node');

/** The Node 24 binary's path, installed first if it is not there yet; throws if npm fails. */
export function node24Binary(root = ROOT) {
  const dir = join(root, 'node_modules', '.cache', 'tessera-node-24');
  const binary = join(dir, 'node_modules', PACKAGE, BINARY);
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (version.status === 0 && version.stdout.trim() === `v${NODE_24_VERSION}`) return binary;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
  const install = spawnSync(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--no-package-lock',
      `${PACKAGE}@${NODE_24_VERSION}`,
    ],
    { cwd: dir, encoding: 'utf8', shell: process.platform === 'win32' },
  );
  if (install.status !== 0) {
    throw new Error(`npm could not install ${PACKAGE}@${NODE_24_VERSION}:\n${install.stderr}`);
  }
  return binary;
}

/** The arguments that start Jest in ESM mode, as `npm test` does. */
export function jestArguments(root = ROOT) {
  return [
    '--experimental-vm-modules',
    '--no-warnings=ExperimentalWarning',
    join(root, 'node_modules', 'jest', 'bin', 'jest.js'),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const run = spawnSync(node24Binary(), [...jestArguments(), ...process.argv.slice(2)], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  process.exit(run.status ?? 1);
}
