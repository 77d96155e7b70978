// Instructions per request, counted: `npm run bench:instructions` (needs valgrind).
//
// The servers of the HTTP comparison (http-compare-server.ts), each run under valgrind's callgrind,
// which counts the instructions the server's main thread executes (user space; the kernel's share
// and the processor's cache misses are not counted). The lowest window repeats to about 1%
// whatever else the machine is doing, so it shows a change of a few thousand instructions that
// the req/s of a shared machine cannot: the tool for finding where the guard's cost goes, not a
// measure of speed. Each server is warmed up (its hot code optimized), collects its garbage, is
// warmed up again, then counted over WINDOWS windows of REQUESTS requests from 4 connections;
// the table gives the lowest window (a window that meets a major garbage collection counts more).
// About a minute per cell (guard, adapter): the program runs about 50 times slower under valgrind.
//
// Optional arguments: --guards=a,b, --adapters=a,b, --tokens=N (up to 1,000), --requests=N, --warmup=N.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeyRing } from 'nest-tessera/issuer';
import type { AdapterId, GuardId, ServerConfig, ServerMessage } from './http-compare-server.js';
import { listArgument, numberArgument } from './arguments.js';
import { issueTokens, jwksServer, serverConfig } from './http-fixtures.js';

const GUARDS = listArgument<GuardId>(
  'guards',
  ['none', 'passThrough', 'signatureOnly', 'tesseraCached', 'tesseraUncached', 'passportJwt'],
  ['none', 'passThrough', 'tesseraCached'],
);
const ADAPTERS = listArgument<AdapterId>('adapters', ['express', 'fastify']);
const TOKENS = numberArgument('tokens', 1000);
const REQUESTS = numberArgument('requests', 2000);
const WARMUP = numberArgument('warmup', 4000);
const WINDOWS = 3;
const CONNECTIONS = 4;

/** Sends `count` requests over CONNECTIONS keep-alive connections, tokens taken in turn. */
async function load(url: string, tokens: readonly string[], count: number, offset: number) {
  let next = 0;
  const connection = async () => {
    while (next < count) {
      const i = next++;
      const response = await fetch(url, {
        headers: { authorization: `Bearer ${tokens[(offset + i) % tokens.length]}` },
      });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, connection));
}

function message(child: ChildProcess, send?: string): Promise<ServerMessage> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the server exited (${code})`));
    child.once('exit', onExit);
    child.once('message', (received: ServerMessage) => {
      child.off('exit', onExit);
      resolve(received);
    });
    if (send !== undefined) child.send(send);
  });
}

/** The main thread's instructions per request in each window. */
async function countCell(config: ServerConfig, tokens: readonly string[]): Promise<number[]> {
  const folder = mkdtempSync(join(tmpdir(), 'tessera-callgrind-'));
  const server = fileURLToPath(new URL('./http-compare-server.js', import.meta.url));
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      '--separate-threads=yes',
      // V8 writes and rewrites machine code at run time.
      '--smc-check=all-non-file',
      `--callgrind-out-file=${join(folder, 'callgrind.%p')}`,
      `--log-file=${join(folder, 'valgrind.log')}`,
      process.execPath,
      '--expose-gc',
      server,
      JSON.stringify(config),
    ],
    { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  );
  try {
    const ready = await message(child);
    if (!('url' in ready)) throw new Error('the server sent no URL');
    const url = `${ready.url}/orders`;
    const control = (...args: string[]) =>
      execFileSync('callgrind_control', [...args, String(child.pid)], { stdio: 'ignore' });
    await load(url, tokens, WARMUP, 0);
    await message(child, 'settle');
    await load(url, tokens, WARMUP, 0);
    control('--instr=on');
    for (let window = 0; window < WINDOWS; window++) {
      await load(url, tokens, REQUESTS, window * REQUESTS);
      control('--dump');
    }
    // Dumps are numbered in order; thread 01 is the main thread.
    return readdirSync(folder)
      .filter((file) => /^callgrind\.\d+\.\d+-01$/.test(file))
      .sort((a, b) => dumpNumber(a) - dumpNumber(b))
      .map((file) => {
        const totals = /^totals: (\d+)/m.exec(readFileSync(join(folder, file), 'utf8'));
        if (totals === null) throw new Error(`${file}: no totals`);
        return Math.round(Number(totals[1]) / REQUESTS);
      });
  } finally {
    child.disconnect();
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(folder, { recursive: true, force: true });
  }
}

function dumpNumber(file: string): number {
  return Number(file.split('.')[2].split('-')[0]);
}

function hasValgrind(): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  if (!hasValgrind()) {
    console.error('bench:instructions needs valgrind (with callgrind) on the PATH; none found.');
    process.exitCode = 1;
    return;
  }
  const keyRing = KeyRing.ephemeral('RS256');
  const tokens = issueTokens(keyRing);
  const jwks = await jwksServer(keyRing);
  const valid = tokens.valid.slice(0, TOKENS);
  console.log(
    `Method: callgrind, main thread, ${CONNECTIONS} connections, ${TOKENS} token(s) in turn; ` +
      `${WARMUP} requests of warm-up, a full garbage collection, ${WARMUP} more, then the ` +
      `lowest of ${WINDOWS} windows of ${REQUESTS} requests\n`,
  );
  try {
    for (const adapter of ADAPTERS) {
      const rows: string[] = [];
      let baseline: number | undefined;
      for (const guard of GUARDS) {
        const windows = await countCell(serverConfig(guard, adapter, jwks.uri, tokens), valid);
        const lowest = Math.min(...windows);
        if (guard === 'none') baseline = lowest;
        const added = baseline === undefined || guard === 'none' ? '' : lowest - baseline;
        const ratio = baseline === undefined ? '' : `${(baseline / lowest).toFixed(3)}×`;
        rows.push(`| ${guard} | ${lowest} | ${added} | ${ratio} | ${windows.join(', ')} |`);
      }
      console.log(`| ${adapter} | instructions per request | added | no guard ÷ guard | windows |`);
      console.log('| --- | ---: | ---: | ---: | --- |');
      for (const row of rows) console.log(row);
      console.log();
    }
  } finally {
    jwks.server.close();
  }
}

await main();
