import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jestArguments, node24Binary, NODE_24_VERSION } from '../setup/node-24.js';
import { specsNeedingRequireEsm } from '../setup/require-esm.js';

// Jest on this Node cannot load @nestjs/throttler (test/setup/require-esm.js): the specs that do
// run here in a second Jest on Node 24, each reported as one test below with its own failures.
// Without the registry and without the binary in npm's cache, a developer's run skips them (said
// in one line); a CI run fails.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MINUTE = 60_000;
const SPECS = specsNeedingRequireEsm(ROOT);

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
    let node: string;
    try {
      node = node24Binary(ROOT);
    } catch (error) {
      if (process.env.CI) throw error;
      console.warn(`skipping ${SPECS.length} specs that need Node 24: ${(error as Error).message}`);
      return;
    }
    const outputFile = join(work, 'results.json');
    const run = await runJest(node, outputFile);
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

  for (const spec of SPECS) {
    it(relative(ROOT, spec), () => {
      if (results === undefined) return; // no Node 24 to be had, said once above
      const result = results.get(spec);
      if (result === undefined) throw new Error(`Jest on Node 24 did not run it:\n${log}`);
      if (result.status !== 'passed') throw new Error(result.message || log);
      expect(result.assertionResults.length).toBeGreaterThan(0);
    });
  }
});
