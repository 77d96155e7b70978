import { join, resolve } from 'node:path';
import Sequencer from '@jest/test-sequencer';
import { NODE_24_RUNNER, specsNeedingRequireEsm } from './require-esm.js';

// Where Jest cannot load @nestjs/throttler, the specs that do are left out of the run and
// NODE_24_RUNNER runs them on Node 24 (test/setup/require-esm.js). A path filter
// (`npm test -- test/e2e/consumer-throttler`) would then select none of them, nor the runner,
// whose own path it does not match: "No tests found". This sequencer, used on such a Node only,
// adds the runner to a run whose filter selects specs it runs, and tells it which.

/** Where the sequencer tells the runner which specs the path filter selected (JSON paths). */
export const SELECTED_SPECS = 'TESSERA_NODE24_SPECS';

/**
 * Which of `specs` (absolute paths) a run's path filter selects; `undefined` without a filter.
 * @param {{ runTestsByPath: boolean, nonFlagArgs: string[], testPathPatterns: { isSet(): boolean, toExecutor(o: { rootDir: string }): { isMatch(path: string): boolean } } }} globalConfig
 * @param {string} rootDir
 * @param {string[]} specs
 */
export function selectedByFilter(globalConfig, rootDir, specs) {
  if (globalConfig.runTestsByPath) {
    const paths = new Set(globalConfig.nonFlagArgs.map((path) => resolve(path)));
    return specs.filter((spec) => paths.has(spec));
  }
  if (!globalConfig.testPathPatterns.isSet()) return undefined;
  const filter = globalConfig.testPathPatterns.toExecutor({ rootDir });
  return specs.filter((spec) => filter.isMatch(spec));
}

/**
 * The specs the runner runs: those the sequencer says the path filter selected, else all that
 * need Node 24.
 * @param {string} root
 */
export function specsSelectedForNode24(root, env = process.env) {
  const all = specsNeedingRequireEsm(root);
  const selected = env[SELECTED_SPECS];
  if (selected === undefined) return all;
  const wanted = new Set(JSON.parse(selected));
  return all.filter((spec) => wanted.has(spec));
}

export default class Node24Sequencer extends Sequencer {
  /** @param {{ contexts: readonly { config: { rootDir: string } }[], globalConfig: any }} options */
  constructor(options) {
    super(options);
    this.contexts = options.contexts;
    this.globalConfig = options.globalConfig;
  }

  /** @param {any[]} tests */
  sort(tests) {
    return this.withRunner(super.sort(tests));
  }

  /** @param {any[]} tests */
  withRunner(tests) {
    const [context] = this.contexts;
    if (context === undefined) return tests;
    const root = context.config.rootDir;
    const selected = selectedByFilter(this.globalConfig, root, specsNeedingRequireEsm(root));
    if (selected === undefined) return tests; // no filter: the runner is in the run, for all
    const runner = join(root, NODE_24_RUNNER);
    if (tests.some((test) => test.path === runner)) {
      // The filter named the runner itself: the specs it also selects, or else every one.
      if (selected.length > 0) process.env[SELECTED_SPECS] = JSON.stringify(selected);
      return tests;
    }
    if (selected.length === 0) return tests;
    // With --shard, the first shard runs them.
    const shard = this.globalConfig.shard;
    if (shard !== undefined && shard !== null && shard.shardIndex !== 1) return tests;
    // Read by the runner, in a worker started after this or in this process.
    process.env[SELECTED_SPECS] = JSON.stringify(selected);
    return [...tests, { context, path: runner, duration: undefined }];
  }
}
