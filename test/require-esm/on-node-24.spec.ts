import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jestArguments, node24ForRun, NODE_24_VERSION, SKIP_NODE_24 } from '../setup/node-24.js';
import { specsSelectedForNode24 } from '../setup/node-24-sequencer.js';

// Jest on this Node cannot load @nestjs/throttler (test/setup/require-esm.js): the specs that do
// run here in a second Jest on Node 24, each reported as one test below with its own failures.
// A run's path filter (`npm test -- <path>`) picks which (test/setup/node-24-sequencer.js).
// Without Node 24 (no registry, and no binary in npm's cache) each of them fails, unless
// TESSERA_SKIP_NODE24=1 is set: then each is reported as skipped, never as passed.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MINUTE = 60_000;
const SPECS = specsSelectedForNode24(ROOT);

/** Node 24, why the specs are skipped, or why they fail; found while the specs are collected. */
const NODE: { binary: string } | { skipped: string } | { error: Error } = (() => {
  try {
    return node24ForRun();
  } catch (error) {
    return { error: error as Error };
  }
})();

/** One spec file's result in Jest's JSON report. */
interface FileResult {
  readonly name: string;
  readonly status: 'passed' | 'failed' | 'pending' | 'focused';
  readonly message: string;
  readonly assertionResults: readonly { readonly status: string }[];
}

function runJest(node: string, outputFile: string): Promise<{ code: number | null; log: string }> {
  const args = [
    ...jestArguments(ROOT),
    '--ci',
    '--json',
    `--outputFile=${outputFile}`,
    // The other worker of this run goes on with the rest of the suite meanwhile. In one process,
    // what a spec leaves open would keep it alive: ended as this run's workers are.
    '--maxWorkers=1',
    '--forceExit',
    '--runTestsByPath',
    ...SPECS,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(node, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, log }));
  });
}

describe(`the specs that load @nestjs/throttler, on Node ${NODE_24_VERSION}`, () => {
  const work = mkdtempSync(join(tmpdir(), 'tessera-node-24-'));
  let results: Map<string, FileResult> | undefined;
  let log = '';

  beforeAll(async () => {
    if (!('binary' in NODE)) return; // each spec below says why
    const outputFile = join(work, 'results.json');
    const run = await runJest(NODE.binary, outputFile);
    log = run.log;
    let report: { testResults: FileResult[] };
    try {
      report = JSON.parse(readFileSync(outputFile, 'utf8')) as typeof report;
    } catch {
      throw new Error(`Jest on Node 24 exited with ${run.code} and no report:\n${log}`);
    }
    results = new Map(report.testResults.map((result) => [result.name, result]));
  }, 20 * MINUTE);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('finds specs to run there', () => {
    expect(SPECS.length).toBeGreaterThan(0);
  });

  if ('skipped' in NODE) {
    console.warn(
      `${SKIP_NODE_24}=1: skipping ${SPECS.length} specs that need Node 24: ${NODE.skipped}`,
    );
  }
  for (const spec of SPECS) {
    const name = relative(ROOT, spec);
    if ('skipped' in NODE) {
      it.skip(name, () => undefined);
      continue;
    }
    it(name, () => {
      if ('error' in NODE) throw NODE.error;
      const result = results?.get(spec);
      if (result === undefined) throw new Error(`Jest on Node 24 did not run it:\n${log}`);
      if (result.status !== 'passed') throw new Error(result.message || log);
      expect(result.assertionResults.length).toBeGreaterThan(0);
    });
  }
});
