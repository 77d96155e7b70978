import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { jestArguments, node24ForRun, SKIP_NODE_24 } from '../setup/node-24.js';
import { SELECTED_SPECS, specsSelectedForNode24 } from '../setup/node-24-sequencer.js';
import { NODE_24_RUNNER, specsNeedingRequireEsm } from '../setup/require-esm.js';

// How a run gets the specs that need Node 24 run (test/require-esm/on-node-24.spec.ts): never
// reported as passed without running, and selected by the run's path filter like any other spec.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const unavailable = () => {
  throw new Error('no registry, and nothing in the cache');
};

describe('Node 24 for the specs that need it', () => {
  it('is the binary when it can be had, opt-out or not', () => {
    expect(node24ForRun({}, () => '/node')).toEqual({ binary: '/node' });
    expect(node24ForRun({ [SKIP_NODE_24]: '1' }, () => '/node')).toEqual({ binary: '/node' });
  });

  it('fails the run when it cannot be had, in CI or not, naming the opt-out', () => {
    for (const env of [{}, { CI: 'true' }, { [SKIP_NODE_24]: 'yes' }]) {
      expect(() => node24ForRun(env, unavailable)).toThrow(
        new RegExp(`${SKIP_NODE_24}=1 .*no registry, and nothing in the cache`),
      );
    }
  });

  it(`has the specs skipped, with why, when it cannot be had and ${SKIP_NODE_24}=1`, () => {
    expect(node24ForRun({ [SKIP_NODE_24]: '1' }, unavailable)).toEqual({
      skipped: 'no registry, and nothing in the cache',
    });
  });
});

describe('the path filter of a run, for the specs that need Node 24', () => {
  const all = specsNeedingRequireEsm(ROOT);
  const work = mkdtempSync(join(tmpdir(), 'tessera-path-filter-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('gives the runner every spec without a selection, else the selected ones only', () => {
    expect(specsSelectedForNode24(ROOT, {})).toEqual(all);
    const one = all.find((spec) => spec.includes('consumer-throttler-order'))!;
    const selected = { [SELECTED_SPECS]: JSON.stringify([one, join(ROOT, 'elsewhere.spec.ts')]) };
    expect(specsSelectedForNode24(ROOT, selected)).toEqual([one]);
  });

  /** `npm test -- <args>` as a user runs it, with its JSON report. */
  function npmTest(args: string[]): Promise<{ code: number | null; report: string }> {
    const outputFile = join(work, `report-${Math.random().toString(36).slice(2)}.json`);
    const env = { ...process.env };
    delete env[SELECTED_SPECS];
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [...jestArguments(ROOT), '--json', `--outputFile=${outputFile}`, ...args],
        { cwd: ROOT, env, stdio: 'ignore' },
      );
      child.on('error', reject);
      child.on('close', (code) => {
        let report = '';
        try {
          report = readFileSync(outputFile, 'utf8');
        } catch {
          // no report: said by the assertions
        }
        resolve({ code, report });
      });
    });
  }

  it('runs exactly the specs the filter selects (`npm test -- <path>`), on Node 24 where they need it', async () => {
    const { code, report } = await npmTest(['test/e2e/consumer-throttler-order']);
    expect(report).not.toBe('');
    const parsed = JSON.parse(report) as {
      success: boolean;
      testResults: { name: string; assertionResults: { title: string; status: string }[] }[];
    };
    // Each spec that ran and passed: itself, or, through the runner, one of its tests.
    const ran = parsed.testResults.flatMap((file) =>
      relative(ROOT, file.name) === NODE_24_RUNNER
        ? file.assertionResults
            .filter((test) => test.title.endsWith('.spec.ts') && test.status === 'passed')
            .map((test) => test.title)
        : [relative(ROOT, file.name)],
    );
    expect(ran).toEqual(['test/e2e/consumer-throttler-order.e2e.spec.ts']);
    expect(parsed.success).toBe(true);
    expect(code).toBe(0);
  }, 180_000);

  it('lists the runner for a filter that selects only such specs (`--listTests`)', async () => {
    const { report } = await npmTest(['--listTests', 'test/e2e/consumer-throttler']);
    const listed = (JSON.parse(report) as string[]).map((path) => relative(ROOT, path)).sort();
    const expected = all
      .map((spec) => relative(ROOT, spec))
      .filter((spec) => spec.startsWith('test/e2e/consumer-throttler'));
    // Where Jest loads them itself, they are listed; elsewhere, the runner that runs them.
    expect([expected, [NODE_24_RUNNER]]).toContainEqual(listed);
  }, 60_000);
});
