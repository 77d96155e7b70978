// In-process access-token verification throughput: `npm run bench`.
//
// For RS256, ES256 and EdDSA, every contender is warmed up, then timed in RUNS runs of RUN_MS
// each; the rate reported is the median of the runs. Within a run the contenders take turns in
// slices of SLICE_MS, so that a busy spell of a shared machine hits them all alike. Async
// verifiers are awaited one call after the other (what a request pays); sync ones are called back
// to back in their own loop, with no await to slow them down. Every contender but raw crypto gets
// the token as a request delivers it: a new string each call (see `receive` in contenders.ts).
//
// Optional arguments for a quicker look: --runs=N --run-ms=M --slice-ms=M --warmup-ms=M.

import { numberArgument } from './arguments.js';
import { contendersFor, type BenchAlgorithm, type ContenderId } from './contenders.js';
import { interleavedRates, machineLine, median, warmUp } from './harness.js';

const ALGORITHMS: readonly BenchAlgorithm[] = ['RS256', 'ES256', 'EdDSA'];
const RUNS = numberArgument('runs', 5);
const RUN_MS = numberArgument('run-ms', 500);
const SLICE_MS = numberArgument('slice-ms', 50);
const WARMUP_MS = numberArgument('warmup-ms', 250);

const LABELS: Record<ContenderId, string> = {
  raw: 'raw `crypto.verify` (baseline)',
  tessera: 'nest-tessera `TokenVerifier`, uncached',
  tesseraCached: 'nest-tessera `TokenVerifier`, cached (repeated token)',
  tesseraCachedSameString: 'nest-tessera, cached, one string object reused (hash already computed)',
  jose: '`jose.jwtVerify`',
  fastJwt: '`fast-jwt` `createVerifier`, no cache',
  fastJwtCached: '`fast-jwt` `createVerifier`, `cache: true`',
  jsonwebtoken: '`jsonwebtoken.verify` + PEM (passport-jwt + jwks-rsa)',
};

interface AlgorithmResult {
  readonly alg: BenchAlgorithm;
  /** Every run's rate per contender, ops/s. */
  readonly runs: ReadonlyMap<ContenderId, number[]>;
}

async function measure(alg: BenchAlgorithm): Promise<AlgorithmResult> {
  const contenders = await contendersFor(alg);
  for (const c of contenders) await c.check();
  for (const c of contenders) await warmUp(c.op, WARMUP_MS);
  const rates = await interleavedRates(
    contenders.map((c) => c.op),
    { runs: RUNS, runMs: RUN_MS, sliceMs: SLICE_MS },
  );
  return { alg, runs: new Map(contenders.map((c, i) => [c.id, rates[i]])) };
}

function rate(result: AlgorithmResult, id: ContenderId): number | undefined {
  const runs = result.runs.get(id);
  return runs === undefined ? undefined : median(runs);
}

function ratio(result: AlgorithmResult, id: ContenderId, base: ContenderId): number | undefined {
  const a = rate(result, id);
  const b = rate(result, base);
  return a === undefined || b === undefined ? undefined : a / b;
}

function resultsTable(results: readonly AlgorithmResult[]): string {
  const head = ['', ...results.flatMap((r) => [`${r.alg} ops/s`, '× raw'])];
  const rows = (Object.keys(LABELS) as ContenderId[]).map((id) => [
    LABELS[id],
    ...results.flatMap((r) => [opsCell(rate(r, id)), ratioCell(ratio(r, id, 'raw'))]),
  ]);
  rows.push([
    'nest-tessera cached ÷ `fast-jwt` cached',
    ...results.flatMap((r) => ['', ratioCell(ratio(r, 'tesseraCached', 'fastJwtCached'))]),
  ]);
  return markdownTable(head, rows);
}

function spreadTable(results: readonly AlgorithmResult[]): string {
  const head = ['', ...results.map((r) => `${r.alg} min – max ops/s`)];
  const rows = (Object.keys(LABELS) as ContenderId[]).map((id) => [
    LABELS[id],
    ...results.map((r) => {
      const runs = r.runs.get(id);
      if (runs === undefined) return 'n/a';
      return `${opsCell(Math.min(...runs))} – ${opsCell(Math.max(...runs))}`;
    }),
  ]);
  return markdownTable(head, rows);
}

function targetLines(results: readonly AlgorithmResult[]): string[] {
  const verdict = (value: number | undefined, target: number) =>
    value === undefined ? 'n/a' : `${value.toFixed(2)}× (${value >= target ? 'met' : 'MISSED'})`;
  return [
    `- uncached ≥ 0.80× raw crypto.verify: ${results
      .map((r) => `${r.alg} ${verdict(ratio(r, 'tessera', 'raw'), 0.8)}`)
      .join(', ')}`,
    `- cached ≥ 1.5× fast-jwt cached: ${results
      .map((r) => `${r.alg} ${verdict(ratio(r, 'tesseraCached', 'fastJwtCached'), 1.5)}`)
      .join(', ')}`,
  ];
}

function markdownTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const rule = line(head.map((_, i) => (i === 0 ? '---' : '---:')));
  return [line(head), rule, ...rows.map(line)].join('\n');
}

function opsCell(value: number | undefined): string {
  return value === undefined ? 'n/a' : Math.round(value).toLocaleString('en-US');
}

function ratioCell(value: number | undefined): string {
  return value === undefined ? 'n/a' : `${value.toFixed(2)}×`;
}

async function main(): Promise<void> {
  console.log(`Machine: ${machineLine()}`);
  console.log(
    `Method: median of ${RUNS} runs of ${RUN_MS} ms per contender, taken in interleaved ` +
      `${SLICE_MS} ms slices, after ${WARMUP_MS} ms warm-up\n`,
  );
  const results: AlgorithmResult[] = [];
  for (const alg of ALGORITHMS) {
    const started = performance.now();
    results.push(await measure(alg));
    console.error(`${alg} measured in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  console.log(resultsTable(results));
  console.log('\nTargets:');
  for (const line of targetLines(results)) console.log(line);
  console.log('\nSpread of the runs:\n');
  console.log(spreadTable(results));
}

await main();
