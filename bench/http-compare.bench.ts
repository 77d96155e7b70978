// The head-to-head over HTTP: `npm run bench`.
//
// One small Nest app, `GET /orders` requiring scope `orders:read`, under five guards: none (the
// baseline), a guard that admits every request (the floor: what Nest itself costs to run any
// guard), nest-tessera with its verified-token cache on and off (revocation on, in memory, with
// a thousand entries), and `@nestjs/passport` + `passport-jwt` + `jwks-rsa` as teams hand-wire it,
// with a scope guard after `AuthGuard('jwt')`. Each runs on Express and on Fastify, in its own
// process (http-compare-server.ts); every guard fetches the issuer's keys from a JWKS endpoint on
// loopback. RS256 for all: jsonwebtoken, hence passport-jwt, cannot verify EdDSA.
//
// The load is autocannon in one child process (load-client.ts), with one token repeated, then
// with 1,000 distinct tokens taken in turn. Every cell is warmed up, then measured in ROUNDS rounds
// of DURATION_S seconds. Within a round the cells of one adapter and token mix run back to back
// (the guards in an order that rotates from round to round), so that the cells a ratio compares
// are measured seconds apart and a busy spell of a shared machine hits them alike. The tables
// give medians of the rounds; each ratio is the median of its per-round ratios. After each cell
// the server just measured runs a full garbage collection before the next cell starts: left to
// itself, a server that has just been loaded (the passport-jwt stack above all) collects when it
// turns idle, on the cores the next cell is measured on.
// Besides req/s and p99, each server reports the CPU time it spent per request: a shared machine
// disturbs that far less than it disturbs req/s, and it stays a server's own cost when the load
// generator, not the server, sets the pace (as it may for the unguarded app). The cache-off server
// also reports how long each verification took inside it (its `tokenVerified` event), to set
// beside the same verifier's time in a loop (verify.bench.ts).
//
// Before timing, each app must answer 200 to a valid token and each guard must refuse what it is
// there to refuse (with revocation: a revoked token); during timing, any answer other than 200
// stops the benchmark. About 4.5 minutes; --quick gives one short round in under a minute.
//
// Optional arguments: --quick, --rounds=N, --duration-s=N, --warmup-s=N, --connections=N,
// --guards=a,b and --adapters=a,b (a subset), --cpu-prof-dir=DIR (CPU profiles of the servers,
// written when they exit).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeyRing } from 'nest-tessera/issuer';
import { argumentValue, listArgument, numberArgument } from './arguments.js';
import { machineLine, median } from './harness.js';
import {
  issueTokens,
  jwksServer,
  serverConfig,
  type Refusal,
  type Tokens,
} from './http-fixtures.js';
import type {
  AdapterId,
  GuardId,
  LoopResult,
  ServerConfig,
  ServerMessage,
  ServerRequest,
  ServerUsage,
} from './http-compare-server.js';
import type { LoadRequest, LoadResult } from './load-client.js';

const QUICK = process.argv.includes('--quick');
const ROUNDS = numberArgument('rounds', QUICK ? 1 : 5);
const DURATION_S = numberArgument('duration-s', QUICK ? 1 : 2);
const WARMUP_S = numberArgument('warmup-s', QUICK ? 1 : 1.5);
const CONNECTIONS = numberArgument('connections', 16);
const CPU_PROF_DIR = argumentValue('cpu-prof-dir');
const LOOP_MS = numberArgument('loop-ms', QUICK ? 100 : 300);
const GUARDS = listArgument<GuardId>('guards', [
  'none',
  'passThrough',
  'signatureOnly',
  'tesseraCached',
  'tesseraContext',
  'tesseraUncached',
  'passportJwt',
]);
const ADAPTERS = listArgument<AdapterId>('adapters', ['express', 'fastify']);
const MIXES = [1, 1000] as const;
type Mix = (typeof MIXES)[number];

const GUARD_LABELS: Record<GuardId, string> = {
  none: 'no guard (baseline)',
  passThrough: 'a Nest guard that admits every request',
  signatureOnly: 'a Nest guard that only checks the signature (one `crypto.verify`)',
  tesseraCached: 'nest-tessera, cache on',
  tesseraContext: 'nest-tessera, cache on, every request in a call context',
  tesseraUncached: 'nest-tessera, cache off',
  passportJwt: '`@nestjs/passport` + `passport-jwt` + `jwks-rsa`',
};
const ADAPTER_LABELS: Record<AdapterId, string> = { express: 'Express', fastify: 'Fastify' };
const MIX_LABELS: Record<Mix, string> = { 1: '1 token', 1000: '1,000 tokens' };

interface Cell {
  readonly guard: GuardId;
  readonly adapter: AdapterId;
  readonly mix: Mix;
}

interface Measured {
  readonly rps: number[];
  readonly p99: number[];
  /** The server's CPU time per answered request, in µs. */
  readonly cpuMicros: number[];
  /** nest-tessera with caching off: the time one verification took inside the server, in µs. */
  readonly verificationMicros: number[];
  /**
   * Cache off and signature only: the CPU time of the server's own verification called in a loop
   * right after the cell, in µs per token (the server idle otherwise).
   */
  readonly loopMicros: number[];
}

/** The guards whose servers time their verification in a loop after each cell. */
const LOOPED: ReadonlySet<GuardId> = new Set(['signatureOnly', 'tesseraUncached']);

interface RunningServer {
  readonly child: ChildProcess;
  readonly url: string;
}

function startServer(config: ServerConfig): Promise<RunningServer> {
  const script = fileURLToPath(new URL('./http-compare-server.js', import.meta.url));
  const profile =
    CPU_PROF_DIR === undefined
      ? []
      : [
          '--cpu-prof',
          `--cpu-prof-dir=${CPU_PROF_DIR}`,
          `--cpu-prof-name=${config.guard}-${config.adapter}.cpuprofile`,
        ];
  const child = spawn(
    process.execPath,
    ['--expose-gc', ...profile, script, JSON.stringify(config)],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const where = `${GUARD_LABELS[config.guard]} on ${ADAPTER_LABELS[config.adapter]}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${where}: not serving after 30 s`));
    }, 30_000);
    child.on('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${where} exited with ${code} before serving`));
    });
    child.once('message', (message: ServerMessage) => {
      clearTimeout(timer);
      child.removeAllListeners('exit');
      if ('url' in message) resolve({ child, url: `${message.url}/orders` });
      else reject(new Error(`${where}: unexpected message ${JSON.stringify(message)}`));
    });
  });
}

/**
 * The server's totals so far; with `settle`, the server first collects its garbage, so that its
 * clean-up after a cell does not fall into the next cell's measurement.
 */
function serverUsage(server: RunningServer, settle = false): Promise<ServerUsage> {
  return ask(server, settle ? 'settle' : 'usage', (m): m is ServerUsage => 'cpuMicros' in m);
}

/** The server's verification timed in a loop over the tokens of `tokensFile`. */
function serverLoop(server: RunningServer, tokensFile: string): Promise<LoopResult> {
  const request = { loop: { tokensFile, durationMs: LOOP_MS } };
  return ask(server, request, (m): m is LoopResult => 'loopMicros' in m);
}

function ask<T extends ServerMessage>(
  { child }: RunningServer,
  request: ServerRequest,
  expected: (message: ServerMessage) => message is T,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = () => reject(new Error('a server exited during the benchmark'));
    child.once('exit', onExit);
    child.once('message', (message: ServerMessage) => {
      child.off('exit', onExit);
      if (expected(message)) resolve(message);
      else reject(new Error(`unexpected message ${JSON.stringify(message)}`));
    });
    child.send(request);
  });
}

/** Closes the IPC channel, on which the server closes the app and exits. */
async function stopServer({ child }: RunningServer): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Throws unless the app serves a valid token and its guard refuses what it must. */
async function check(
  guard: GuardId,
  adapter: AdapterId,
  url: string,
  tokens: Tokens,
  expectedBody: string,
): Promise<void> {
  const ask = async (token: string | undefined) => {
    const response = await fetch(url, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
    return { status: response.status, body: await response.text() };
  };
  const where = `${GUARD_LABELS[guard]} on ${ADAPTER_LABELS[adapter]}`;
  const served = await ask(tokens.valid[0]);
  if (served.status !== 200 || served.body !== expectedBody) {
    throw new Error(`${where}: a valid token got ${served.status} ${served.body}`);
  }
  if (guard === 'none' || guard === 'passThrough' || guard === 'signatureOnly') return;
  const refused: Refusal[] = [...tokens.refused];
  if (guard !== 'passportJwt') {
    refused.push({ what: 'a revoked token', token: tokens.revokedToken, status: 401 });
  }
  for (const { what, token, status } of refused) {
    const answer = await ask(token);
    if (answer.status !== status) {
      throw new Error(`${where}: ${what} got ${answer.status}, not ${status}`);
    }
  }
}

/** The load client, started once: each run is a message to it, its result the answer. */
class LoadClient {
  private readonly child = spawn(
    process.execPath,
    [fileURLToPath(new URL('./load-client.js', import.meta.url))],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );

  run(url: string, tokensFile: string, durationS: number): Promise<LoadResult> {
    const request: LoadRequest = { url, tokensFile, connections: CONNECTIONS, durationS };
    return new Promise((resolve, reject) => {
      const fail = (error: Error) => {
        clearTimeout(timer);
        this.child.off('message', onResult);
        reject(error);
      };
      const onExit = (code: number | null) => fail(new Error(`the load client exited (${code})`));
      const onResult = (result: LoadResult) => {
        clearTimeout(timer);
        this.child.off('exit', onExit);
        resolve(result);
      };
      const timer = setTimeout(
        () => {
          this.child.kill('SIGKILL');
          fail(new Error(`the load client did not answer within ${durationS + 30} s`));
        },
        (durationS + 30) * 1000,
      );
      this.child.once('exit', onExit);
      this.child.once('message', onResult);
      this.child.send(request);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect();
    await exited;
  }
}

function cellName({ guard, adapter, mix }: Cell): string {
  return `${GUARD_LABELS[guard]} on ${ADAPTER_LABELS[adapter]}, ${MIX_LABELS[mix]}`;
}

/** Every answer must have been a 200: a guard that refuses is not being measured. */
function assertAllServed(cell: Cell, result: LoadResult): void {
  const others = Object.entries(result.statusCodes).filter(([code]) => code !== '200');
  if (result.total === 0 || others.length > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(
      `${cellName(cell)}: ${result.total} answers, status codes ${JSON.stringify(result.statusCodes)}, ` +
        `${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
}

async function measure(
  cells: readonly Cell[],
  servers: ReadonlyMap<string, RunningServer>,
  tokenFiles: ReadonlyMap<Mix, string>,
  client: LoadClient,
): Promise<Map<Cell, Measured>> {
  const server = (cell: Cell) => servers.get(`${cell.guard}/${cell.adapter}`)!;
  for (const cell of cells) {
    assertAllServed(cell, await client.run(server(cell).url, tokenFiles.get(cell.mix)!, WARMUP_S));
  }
  const results = new Map<Cell, Measured>(
    cells.map((cell) => [
      cell,
      { rps: [], p99: [], cpuMicros: [], verificationMicros: [], loopMicros: [] },
    ]),
  );
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    for (const cell of roundOrder(cells, round)) {
      const before = await serverUsage(server(cell));
      const result = await client.run(server(cell).url, tokenFiles.get(cell.mix)!, DURATION_S);
      const after = await serverUsage(server(cell), true);
      assertAllServed(cell, result);
      const measured = results.get(cell)!;
      measured.rps.push(result.rps);
      measured.p99.push(result.p99);
      measured.cpuMicros.push((after.cpuMicros - before.cpuMicros) / result.total);
      const verified = after.verifications - before.verifications;
      if (verified > 0) {
        measured.verificationMicros.push(
          ((after.verificationMs - before.verificationMs) * 1000) / verified,
        );
      }
      if (LOOPED.has(cell.guard)) {
        const tokensFile = tokenFiles.get(cell.mix)!;
        measured.loopMicros.push((await serverLoop(server(cell), tokensFile)).loopMicros);
      }
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    console.error(`round ${round + 1} of ${ROUNDS} measured in ${seconds} s`);
  }
  return results;
}

/**
 * The cells in the order round `round` runs them: grouped by adapter and token mix (the groups
 * taking turns), the guards of a group back to back, in an order that starts one guard further
 * on each round and runs backwards in odd rounds, so that no guard always follows the same one.
 */
function roundOrder(cells: readonly Cell[], round: number): Cell[] {
  const groups = new Map<string, Cell[]>();
  for (const cell of cells) {
    const key = `${cell.adapter}/${cell.mix}`;
    groups.set(key, [...(groups.get(key) ?? []), cell]);
  }
  const rotate = <T>(items: readonly T[]) => {
    const rotated = items.map((_, i) => items[(i + round) % items.length]);
    return round % 2 === 0 ? rotated : rotated.reverse();
  };
  return rotate([...groups.values()]).flatMap((group) => rotate(group));
}

type Metric = 'rps' | 'cpuMicros';

class Report {
  constructor(
    private readonly cells: readonly Cell[],
    private readonly results: ReadonlyMap<Cell, Measured>,
  ) {}

  private find(guard: GuardId, adapter: AdapterId, mix: Mix): Measured | undefined {
    const cell = this.cells.find(
      (c) => c.guard === guard && c.adapter === adapter && c.mix === mix,
    );
    return cell === undefined ? undefined : this.results.get(cell);
  }

  /**
   * How many times `base`'s throughput `guard` has in each round: by req/s measured, or by the
   * server CPU time each request took (base's time ÷ guard's). Paired by round: the two cells of
   * a round ran back to back.
   */
  roundRatios(
    metric: Metric,
    guard: GuardId,
    base: GuardId,
    adapter: AdapterId,
    mix: Mix,
  ): number[] | undefined {
    const a = this.find(guard, adapter, mix);
    const b = this.find(base, adapter, mix);
    if (a === undefined || b === undefined) return undefined;
    return metric === 'rps'
      ? a.rps.map((rps, round) => rps / b.rps[round])
      : a.cpuMicros.map((micros, round) => b.cpuMicros[round] / micros);
  }

  /** The median of the rounds' ratios (see `roundRatios`). */
  ratio(
    metric: Metric,
    guard: GuardId,
    base: GuardId,
    adapter: AdapterId,
    mix: Mix,
  ): number | undefined {
    const ratios = this.roundRatios(metric, guard, base, adapter, mix);
    return ratios === undefined ? undefined : median(ratios);
  }

  /**
   * Per round: the server CPU a request of `guard` costs beyond the unguarded app's, and that
   * divided by the time one verification took in the same server's loop right after.
   */
  beyondUnguarded(
    guard: GuardId,
    adapter: AdapterId,
    mix: Mix,
  ): { micros: number[]; loopMicros: number[]; ratios: number[] } | undefined {
    const a = this.find(guard, adapter, mix);
    const none = this.find('none', adapter, mix);
    if (a === undefined || none === undefined || a.loopMicros.length === 0) return undefined;
    const micros = a.cpuMicros.map((cpu, round) => cpu - none.cpuMicros[round]);
    const ratios = micros.map((beyond, round) => beyond / a.loopMicros[round]);
    return { micros, loopMicros: a.loopMicros, ratios };
  }

  /** The cost beyond the unguarded app against the same verification in a loop. */
  loopTable(): string {
    const columns = this.columns();
    const head = ['', ...columns.map((c) => `${ADAPTER_LABELS[c.adapter]}, ${MIX_LABELS[c.mix]}`)];
    const rows: string[][] = [];
    for (const guard of GUARDS.filter((g) => LOOPED.has(g))) {
      const cells = columns.map(({ adapter, mix }) => this.beyondUnguarded(guard, adapter, mix));
      const value = (f: (b: NonNullable<(typeof cells)[number]>) => string) =>
        cells.map((b) => (b === undefined ? 'n/a' : f(b)));
      rows.push(
        [
          `${GUARD_LABELS[guard]}: server CPU µs per request beyond no guard`,
          ...value((b) => median(b.micros).toFixed(1)),
        ],
        [
          `the same verification in a loop, CPU µs per token`,
          ...value((b) => median(b.loopMicros).toFixed(1)),
        ],
        [
          `beyond no guard ÷ loop (min – max of the rounds)`,
          ...value((b) => `${ratioCell(median(b.ratios))} (${spreadCell(b.ratios)})`),
        ],
      );
    }
    return markdownTable(head, rows);
  }

  private columns(): { adapter: AdapterId; mix: Mix }[] {
    return ADAPTERS.flatMap((adapter) => MIXES.map((mix) => ({ adapter, mix })));
  }

  ratesTable(adapter: AdapterId): string {
    const head = [
      ADAPTER_LABELS[adapter],
      ...MIXES.flatMap((mix) => [`${MIX_LABELS[mix]}: req/s`, 'p99 ms', 'server CPU µs/req']),
    ];
    const rows = GUARDS.map((guard) => [
      GUARD_LABELS[guard],
      ...MIXES.flatMap((mix) => {
        const m = this.find(guard, adapter, mix);
        if (m === undefined) return ['n/a', 'n/a', 'n/a'];
        return [rpsCell(median(m.rps)), String(median(m.p99)), median(m.cpuMicros).toFixed(0)];
      }),
    ]);
    return markdownTable(head, rows);
  }

  ratioTable(metric: Metric): string {
    const columns = this.columns();
    const head = ['', ...columns.map((c) => `${ADAPTER_LABELS[c.adapter]}, ${MIX_LABELS[c.mix]}`)];
    const row = (label: string, guard: GuardId, base: GuardId) => [
      label,
      ...columns.map(({ adapter, mix }) =>
        ratioCell(this.ratio(metric, guard, base, adapter, mix)),
      ),
    ];
    return markdownTable(head, [
      ...GUARDS.filter((g) => g !== 'none').map((guard) =>
        row(`${GUARD_LABELS[guard]} ÷ no guard`, guard, 'none'),
      ),
      row('nest-tessera, cache off ÷ passport-jwt stack', 'tesseraUncached', 'passportJwt'),
      row('nest-tessera, cache on ÷ passport-jwt stack', 'tesseraCached', 'passportJwt'),
      row('nest-tessera, cache on ÷ the admit-all guard', 'tesseraCached', 'passThrough'),
      row('call context on ÷ off (nest-tessera, cache on)', 'tesseraContext', 'tesseraCached'),
    ]);
  }

  /** nest-tessera with caching off: the median time of one verification inside the server. */
  verificationLine(): string {
    const cells = this.columns().map(({ adapter, mix }) => {
      const m = this.find('tesseraUncached', adapter, mix);
      const micros = m === undefined ? [] : m.verificationMicros;
      const value = micros.length === 0 ? 'n/a' : `${median(micros).toFixed(1)} µs`;
      return `${ADAPTER_LABELS[adapter]}, ${MIX_LABELS[mix]} ${value}`;
    });
    return `- one verification inside the cache-off server: ${cells.join('; ')}`;
  }

  spreadTable(): string {
    const columns = this.columns();
    const head = [
      '',
      ...columns.map((c) => `${ADAPTER_LABELS[c.adapter]}, ${MIX_LABELS[c.mix]}: min – max req/s`),
    ];
    const rows = GUARDS.map((guard) => [
      GUARD_LABELS[guard],
      ...columns.map(({ adapter, mix }) => {
        const m = this.find(guard, adapter, mix);
        if (m === undefined) return 'n/a';
        return `${rpsCell(Math.min(...m.rps))} – ${rpsCell(Math.max(...m.rps))}`;
      }),
    ]);
    return markdownTable(head, rows);
  }

  targetLines(): string[] {
    const verdict = (
      guard: GuardId,
      base: GuardId,
      adapter: AdapterId,
      mix: Mix,
      target: number,
    ) => {
      const measured = this.ratio('rps', guard, base, adapter, mix);
      const byCpu = this.ratio('cpuMicros', guard, base, adapter, mix);
      if (measured === undefined || byCpu === undefined) return 'n/a';
      return (
        `${measured.toFixed(2)}× ${measured >= target ? 'met' : 'MISSED'} ` +
        `(by server CPU: ${byCpu.toFixed(2)}× ${byCpu >= target ? 'met' : 'missed'})`
      );
    };
    return [
      `- cache off ≥ 2.5× the passport-jwt stack's req/s: ${this.columns()
        .map(
          ({ adapter, mix }) =>
            `${ADAPTER_LABELS[adapter]}, ${MIX_LABELS[mix]} ` +
            verdict('tesseraUncached', 'passportJwt', adapter, mix, 2.5),
        )
        .join('; ')}`,
      `- 1,000 distinct tokens, cache on ≥ 0.95× the server CPU throughput of the admit-all ` +
        `guard: ${ADAPTERS.map((adapter) => {
          const ratios = this.roundRatios(
            'cpuMicros',
            'tesseraCached',
            'passThrough',
            adapter,
            1000,
          );
          if (ratios === undefined) return `${ADAPTER_LABELS[adapter]} n/a`;
          const value = median(ratios);
          return (
            `${ADAPTER_LABELS[adapter]} ${ratioCell(value)} ${value >= 0.95 ? 'met' : 'MISSED'} ` +
            `(rounds ${spreadCell(ratios)})`
          );
        }).join('; ')}`,
      `- cache off, server CPU per request beyond no guard ≤ 1.5× the same verifier's CPU per ` +
        `token in a loop: ${this.columns()
          .map(({ adapter, mix }) => {
            const where = `${ADAPTER_LABELS[adapter]}, ${MIX_LABELS[mix]}`;
            const b = this.beyondUnguarded('tesseraUncached', adapter, mix);
            if (b === undefined) return `${where} n/a`;
            const value = median(b.ratios);
            return (
              `${where} ${ratioCell(value)} ${value <= 1.5 ? 'met' : 'MISSED'} ` +
              `(rounds ${spreadCell(b.ratios)})`
            );
          })
          .join('; ')}`,
      `- 1,000 distinct tokens, cache on ≥ 0.9× no guard: ${ADAPTERS.map(
        (adapter) =>
          `${ADAPTER_LABELS[adapter]} ${verdict('tesseraCached', 'none', adapter, 1000, 0.9)}`,
      ).join('; ')}`,
    ];
  }
}

function markdownTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const rule = line(head.map((_, i) => (i === 0 ? '---' : '---:')));
  return [line(head), rule, ...rows.map(line)].join('\n');
}

function rpsCell(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** The lowest and highest of `values`, as ratios. */
function spreadCell(values: readonly number[]): string {
  return `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
}

function ratioCell(value: number | undefined): string {
  return value === undefined ? 'n/a' : `${value.toFixed(2)}×`;
}

async function main(): Promise<void> {
  const keyRing = KeyRing.ephemeral('RS256');
  const tokens = issueTokens(keyRing);
  const jwks = await jwksServer(keyRing);
  const folder = mkdtempSync(join(tmpdir(), 'tessera-http-bench-'));
  const tokenFiles = new Map<Mix, string>(
    MIXES.map((mix) => {
      const file = join(folder, `tokens-${mix}.json`);
      writeFileSync(file, JSON.stringify(tokens.valid.slice(0, mix)));
      return [mix, file];
    }),
  );
  const servers: RunningServer[] = [];
  const client = new LoadClient();
  try {
    const configs = GUARDS.flatMap((guard) =>
      ADAPTERS.map((adapter) => serverConfig(guard, adapter, jwks.uri, tokens)),
    );
    const started = await Promise.allSettled(configs.map(startServer));
    for (const result of started) if (result.status === 'fulfilled') servers.push(result.value);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const byName = new Map<string, RunningServer>(
      configs.map((config, i) => [`${config.guard}/${config.adapter}`, servers[i]]),
    );
    const expectedBody = await (
      await fetch(servers[0].url, {
        headers: { authorization: `Bearer ${tokens.valid[0]}` },
      })
    ).text();
    for (const { guard, adapter } of configs) {
      await check(guard, adapter, byName.get(`${guard}/${adapter}`)!.url, tokens, expectedBody);
    }
    const cells: Cell[] = configs.flatMap(({ guard, adapter }) =>
      MIXES.map((mix) => ({ guard, adapter, mix })),
    );
    console.log(`Machine: ${machineLine()}`);
    console.log(
      `Method: RS256, keys from a JWKS endpoint on loopback; autocannon with ${CONNECTIONS} ` +
        `connections; ${ROUNDS} rounds of ${DURATION_S} s per cell, after ${WARMUP_S} s of ` +
        'warm-up, the guards of one adapter and token mix back to back; medians of the rounds, ' +
        'each ratio the median of its per-round ratios\n',
    );
    const report = new Report(cells, await measure(cells, byName, tokenFiles, client));
    for (const adapter of ADAPTERS) console.log(`${report.ratesTable(adapter)}\n`);
    console.log('Ratios of req/s:\n');
    console.log(report.ratioTable('rps'));
    console.log('\nRatios of throughput by server CPU time per request (no guard ÷ guard):\n');
    console.log(report.ratioTable('cpuMicros'));
    console.log('\nTargets:');
    for (const line of report.targetLines()) console.log(line);
    console.log(
      '\nTime per token verified with caching off, from its `tokenVerified` event (the same ' +
        'verifier in a loop: verify.bench, "uncached"):\n',
    );
    console.log(report.verificationLine());
    console.log(
      '\nCache off and the signature-only guard against the same verification in a loop (run ' +
        'by the same server right after each cell; per round, medians):\n',
    );
    console.log(report.loopTable());
    console.log('\nSpread of the rounds:\n');
    console.log(report.spreadTable());
  } finally {
    await Promise.all([client.stop(), ...servers.map(stopServer)]);
    jwks.server.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

await main();
