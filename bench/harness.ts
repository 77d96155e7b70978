// Timing loops for the verification benchmark (ops/s of operations called back to back), and
// what every benchmark's report shares.

import { arch, cpus, platform } from 'node:os';

/** One thing to measure: a sync call, or an async one awaited before the next starts. */
export type Operation =
  | { readonly kind: 'sync'; readonly run: () => unknown }
  | { readonly kind: 'async'; readonly run: () => Promise<unknown> };

export interface Schedule {
  /** Rates reported per operation: one per run. */
  readonly runs: number;
  /** Time each operation is timed for in one run, in milliseconds. */
  readonly runMs: number;
  /** Length of one timed slice; a run is made of slices of every operation, interleaved. */
  readonly sliceMs: number;
}

interface Tally {
  calls: number;
  ms: number;
}

// Calls between two clock reads: small enough for a fine stop, large enough that reading the
// clock costs nothing next to a map look-up.
const BATCH = 32;

/**
 * The rate of each operation in each run, in ops/s: `rates[op][run]`. Within a run the operations
 * take turns in short slices (in a rotating order), so that a slow spell of a shared machine
 * slows them all alike instead of whichever happened to be running.
 */
export async function interleavedRates(
  ops: readonly Operation[],
  schedule: Schedule,
): Promise<number[][]> {
  const rates = ops.map((): number[] => []);
  const slices = Math.max(1, Math.round(schedule.runMs / schedule.sliceMs));
  for (let run = 0; run < schedule.runs; run++) {
    const tallies = ops.map((): Tally => ({ calls: 0, ms: 0 }));
    for (let slice = 0; slice < slices; slice++) {
      for (let i = 0; i < ops.length; i++) {
        const index = (slice + i) % ops.length;
        await settle();
        const { calls, ms } = await timeSlice(ops[index], schedule.sliceMs);
        tallies[index].calls += calls;
        tallies[index].ms += ms;
      }
    }
    tallies.forEach((t, index) => rates[index].push((t.calls * 1000) / t.ms));
  }
  return rates;
}

/** Calls `op` back to back for about `durationMs`, to let the JIT settle before timing. */
export async function warmUp(op: Operation, durationMs: number): Promise<void> {
  await timeSlice(op, durationMs);
}

function timeSlice(op: Operation, durationMs: number): Tally | Promise<Tally> {
  return op.kind === 'sync' ? syncSlice(op.run, durationMs) : asyncSlice(op.run, durationMs);
}

function syncSlice(run: () => unknown, durationMs: number): Tally {
  let calls = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  let now: number;
  do {
    for (let i = 0; i < BATCH; i++) run();
    calls += BATCH;
    now = performance.now();
  } while (now < deadline);
  return { calls, ms: now - started };
}

// Each call is awaited before the next starts: what one request pays, with no overlap.
async function asyncSlice(run: () => Promise<unknown>, durationMs: number): Promise<Tally> {
  let calls = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  let now: number;
  do {
    for (let i = 0; i < BATCH; i++) await run();
    calls += BATCH;
    now = performance.now();
  } while (now < deadline);
  return { calls, ms: now - started };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Lets pending timers and I/O run between slices, so none of them lands inside one. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The machine a benchmark ran on, for the first line of its report. */
export function machineLine(): string {
  const cores = cpus();
  const model = cores[0]?.model.trim() ?? 'unknown CPU';
  return (
    `node ${process.version}, ${model} (${cores.length} logical cores), ${platform()} ${arch()}, ` +
    `OpenSSL ${process.versions.openssl}`
  );
}
