import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, URL } from 'node:url';

// The Node.js majors the package supports, each as Node's own binary from its npm package
// (node-<platform>-<arch>), at one exact version so that every run tests on the same binaries.
// Each is installed once under node_modules/.cache/tessera-node-<major> and then found there, or in
// npm's cache after `npm ci`. Used by the specs that Jest can only load on Node 24
// (test/setup/node-24.js) and by the packaging spec, which runs the packed package on each.

/** The exact version of each supported major. Jest's require(esm) needs 24.9 or later. */
export const PINNED_NODE_VERSIONS = Object.freeze({ 20: '20.20.2', 22: '22.23.5', 24: '24.22.3' });

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The npm package holding Node's binary for this platform, and the binary's path inside it. */
export const NODE_PACKAGE = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
export const NODE_BINARY = join('bin', process.platform === 'win32' ? 'node.exe' : 'node');

/** The pinned version of `major`; throws for a major the table does not list. */
export function pinnedNodeVersion(major) {
  const version = PINNED_NODE_VERSIONS[major];
  if (version === undefined) throw new Error(`no pinned Node.js version for major ${major}`);
  return version;
}

/** Where `npm install` puts the binary of `node-<platform>-<arch>` under `dir`. */
export function binaryUnder(dir) {
  return join(dir, 'node_modules', NODE_PACKAGE, NODE_BINARY);
}

/** Whether `binary` runs and is `version`. */
function runs(binary, version) {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.trim() === `v${version}`;
}

/**
 * Moves the installed `staging` folder to `dir`. Another process (a second Jest worker) may have
 * put the same version there first: the rename then fails and that one is kept.
 */
function settle(staging, dir, version) {
  if (!runs(binaryUnder(dir), version)) {
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(staging, dir);
      return;
    } catch {
      // Taken by the other process in the meantime.
    }
  }
  rmSync(staging, { recursive: true, force: true });
}

/**
 * The pinned binary of `major`'s path, installed first if it is not there yet (`flags` for npm:
 * `--offline` without the registry, say); throws if npm fails or the installed binary does not run.
 * @param {number} major
 * @param {{ root?: string, flags?: readonly string[] }} [options]
 */
export function nodeBinary(major, { root = ROOT, flags = ['--prefer-offline'] } = {}) {
  const version = pinnedNodeVersion(major);
  const cache = join(root, 'node_modules', '.cache');
  const dir = join(cache, `tessera-node-${major}`);
  if (runs(binaryUnder(dir), version)) return binaryUnder(dir);
  // Installed beside it first, then moved into place: a second Jest worker may be doing the same.
  mkdirSync(cache, { recursive: true });
  const staging = mkdtempSync(join(cache, `tessera-node-${major}-`));
  writeFileSync(join(staging, 'package.json'), '{ "private": true }\n');
  const install = spawnSync(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--no-package-lock',
      ...flags,
      `${NODE_PACKAGE}@${version}`,
    ],
    { cwd: staging, encoding: 'utf8', shell: process.platform === 'win32' },
  );
  if (install.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    const why = install.error?.message ?? install.stderr;
    throw new Error(`npm could not install ${NODE_PACKAGE}@${version}:\n${why}`);
  }
  settle(staging, dir, version);
  if (!runs(binaryUnder(dir), version)) {
    throw new Error(`${NODE_PACKAGE}@${version} was installed but does not run`);
  }
  return binaryUnder(dir);
}
