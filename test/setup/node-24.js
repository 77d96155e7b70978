import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, URL } from 'node:url';
import { nodeBinary, pinnedNodeVersion } from './node-binaries.js';

// A Node 24 for the specs that Jest can only load there (test/setup/require-esm.js): the pinned
// binary of test/setup/node-binaries.js, installed once under node_modules/.cache.
//
// Run as a script, it runs Jest on that Node with the arguments given, e.g.
// `npm run test:node24 -- test/e2e/throttling`.

/** One exact version, so that every run tests on the same binary. Jest needs 24.9 or later. */
export const NODE_24_VERSION = pinnedNodeVersion(24);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The environment variable that lets a run go on without Node 24: set to 1, the specs that need it
 * are reported as skipped when it cannot be had (never as passed). Unset, that fails the run.
 */
export const SKIP_NODE_24 = 'TESSERA_SKIP_NODE24';

/**
 * The Node 24 binary's path, installed first if it is not there yet; throws if npm fails or the
 * installed binary does not run.
 */
export function node24Binary(root = ROOT) {
  return nodeBinary(24, { root });
}

/**
 * Node 24 for a run of the specs that need it: `{ binary }`, or, when it cannot be had and
 * `TESSERA_SKIP_NODE24=1` says to go on without it, `{ skipped: why }`. Without that opt-out,
 * throws: a run that cannot run those specs has not passed them (CI needs no opt-out).
 * @param {Record<string, string | undefined>} env
 * @param {() => string} obtain
 * @returns {{ binary: string } | { skipped: string }}
 */
export function node24ForRun(env = process.env, obtain = () => node24Binary()) {
  try {
    return { binary: obtain() };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    if (env[SKIP_NODE_24] === '1') return { skipped: why };
    throw new Error(
      `the specs that load @nestjs/throttler need Node ${NODE_24_VERSION}, which could not be had ` +
        `(${SKIP_NODE_24}=1 reports them as skipped instead): ${why}`,
      { cause: error },
    );
  }
}

/** The arguments that start Jest in ESM mode: those of `npm test` (package.json), after `node`. */
export function jestArguments(root = ROOT) {
  const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const [node, ...args] = scripts.test.split(' ');
  if (node !== 'node') throw new Error(`npm test does not start with node: ${scripts.test}`);
  return args.map((arg) => (arg.startsWith('-') ? arg : join(root, arg)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const run = spawnSync(node24Binary(), [...jestArguments(), ...process.argv.slice(2)], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  process.exit(run.status ?? 1);
}
