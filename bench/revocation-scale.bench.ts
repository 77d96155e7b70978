// A local revocation view of a million live entries: `npm run bench` (run with --expose-gc).
//
// 1. Load: a Redis index of `--entries` live entries (default 1,000,000: 80% tokens, 20% sessions,
//    UUID ids, expiries spread over an hour) loaded by a RedisRevocationStore's own start-up path (`ready()`), timed, with the
//    longest event-loop stall during the load (a 5 ms interval probe) and the heap the view keeps
//    per entry (after a forced GC, before and after).
// 2. The per-request check (`isRevoked` of a token that is not revoked, as the guard asks) on the
//    loaded view against an empty view and a view of 1,000, interleaved in the same run.
// 3. Propagation at a steady rate (`--rate`, default 1,000 revocations per second for `--seconds`,
//    default 10) from one instance to two others, each subscribed: revoke call to view holding it.
//
// Needs Redis: REDIS_URL, else 127.0.0.1:6379. Keys under a prefix of this process, deleted at the
// end.

import { randomUUID } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import { Redis } from 'ioredis';
import { RedisRevocationStore } from 'nest-tessera/redis';
import { encodeEntry, type RevocationQuery } from '../lib/revocation/revocation-entry.js';
import { numberArgument } from './arguments.js';
import { interleavedRates, machineLine, median, warmUp, type Operation } from './harness.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TAG = `{tessera-scale-${process.pid}}`;
const ISSUER = 'https://auth.bench';
const ENTRIES = numberArgument('entries', 1_000_000);
const RATE = numberArgument('rate', 1000);
const SECONDS = numberArgument('seconds', 10);
const STALL_PROBE_MS = 5;
const STALL_LIMIT_MS = 50;

const gc = (globalThis as { gc?: () => void }).gc;

/** Heap in use after a full collection (twice: weak references and finalizers settle). */
function heapUsed(): number {
  gc?.();
  gc?.();
  return getHeapStatistics().used_heap_size;
}

function prefix(name: string): string {
  return `${TAG}:${name}:revocation:`;
}

/** Writes `count` live entries straight into the store's index, as revocations leave it. */
async function seed(keyPrefix: string, count: number): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const from = Math.ceil(Date.now() / 1000) + 600;
  // Expiries spread over an hour, as tokens revoked through a day leave it; `--same-expiry` puts
  // them all on one second, the worst case for reading the index a page at a time.
  const spread = process.argv.includes('--same-expiry') ? 1 : 3600;
  const batch = 10_000;
  for (let start = 0; start < count; start += batch) {
    const args: (string | number)[] = [];
    for (let i = start; i < Math.min(count, start + batch); i++) {
      const kind = i % 5 === 4 ? 'session' : 'token';
      const expiresAt = from + (i % spread);
      args.push(expiresAt, encodeEntry({ kind, id: randomUUID(), expiresAt }));
    }
    await redis.zadd(`${keyPrefix}index`, ...args);
  }
  redis.disconnect();
}

interface Load {
  store: RedisRevocationStore;
  ms: number;
  longestStallMs: number;
  stallsOverLimit: number;
  bytesPerEntry: number;
}

/** Starts a store on a seeded prefix and times its first load, probing the event loop meanwhile. */
async function load(keyPrefix: string, count: number): Promise<Load> {
  const before = heapUsed();
  let longestStallMs = 0;
  let stallsOverLimit = 0;
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    const stall = now - last - STALL_PROBE_MS;
    last = now;
    longestStallMs = Math.max(longestStallMs, stall);
    if (stall > STALL_LIMIT_MS) stallsOverLimit++;
  }, STALL_PROBE_MS);
  const started = performance.now();
  const store = new RedisRevocationStore({ connection: REDIS_URL, keyPrefix });
  await store.ready();
  const ms = performance.now() - started;
  clearInterval(probe);
  const bytesPerEntry = (heapUsed() - before) / count;
  return { store, ms, longestStallMs, stallsOverLimit, bytesPerEntry };
}

function queryOf(jti: string): RevocationQuery {
  return { jti, sid: `s-${jti}`, iss: ISSUER, sub: 'alice', iat: Math.floor(Date.now() / 1000) };
}

async function checkCost(views: { name: string; store: RedisRevocationStore }[]): Promise<void> {
  // Tokens that are not revoked (the common case), a few hundred of them in turn.
  const queries = Array.from({ length: 512 }, () => queryOf(randomUUID()));
  const ops: Operation[] = views.map(({ store }) => {
    let i = 0;
    return { kind: 'sync', run: () => store.isRevoked(queries[i++ & 511]) };
  });
  for (const op of ops) await warmUp(op, 300);
  const rates = await interleavedRates(ops, { runs: 7, runMs: 600, sliceMs: 20 });
  const base = 1e9 / median(rates[0]);
  console.log(
    '\n### The per-request check (`isRevoked`, a token not revoked; 7 runs of interleaved 20 ms slices, medians)\n',
  );
  console.log('| view | ns per check | × empty view |');
  console.log('| --- | ---: | ---: |');
  views.forEach(({ name }, index) => {
    const ns = 1e9 / median(rates[index]);
    console.log(`| ${name} | ${ns.toFixed(1)} | ${(ns / base).toFixed(2)}× |`);
  });
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Revokes at `RATE` per second from one instance for `SECONDS`; times when each other holds it. */
async function propagation(): Promise<void> {
  const keyPrefix = prefix('propagation');
  const [writer, ...readers] = [0, 1, 2].map(
    () => new RedisRevocationStore({ connection: REDIS_URL, keyPrefix }),
  );
  await Promise.all([writer, ...readers].map((s) => s.ready()));
  const total = Math.round(RATE * SECONDS);
  const until = Date.now() / 1000 + 600;
  const pending = new Map<string, { started: number; waiting: Set<RedisRevocationStore> }>();
  const times: number[] = [];
  let sent = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000 + 10_000; // whatever is not seen 10 s after the last
  while ((sent < total || pending.size > 0) && performance.now() < deadline) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * RATE) / 1000));
    for (; sent < due; sent++) {
      const jti = randomUUID();
      pending.set(jti, { started: performance.now(), waiting: new Set(readers) });
      writer.revokeToken(jti, until).catch(() => failed++);
    }
    const now = performance.now();
    for (const [jti, { started: at, waiting }] of pending) {
      for (const reader of waiting) {
        if (reader.isRevoked({ jti })) {
          times.push(now - at);
          waiting.delete(reader);
        }
      }
      if (waiting.size === 0) pending.delete(jti);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all([writer, ...readers].map((s) => s.close()));
  console.log(
    `\n### Propagation at ${RATE} revocations/s for ${SECONDS} s to two subscribed instances (loopback Redis, one process)\n`,
  );
  console.log('| revocations | sightings | not seen | failed writes | p50 ms | p99 ms | max ms |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  console.log(
    `| ${sent} (${(sent / elapsed).toFixed(0)}/s achieved) | ${times.length} | ${pending.size} | ${failed} | ${percentile(times, 50).toFixed(2)} | ${percentile(times, 99).toFixed(2)} | ${Math.max(...times).toFixed(2)} |`,
  );
}

async function cleanUp(): Promise<void> {
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${TAG}*`, 'COUNT', 1000);
    // UNLINK: a million-member index is freed off Redis's main thread.
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}

/** Runs one step, saying on stderr how long it took (the report stays on stdout). */
async function phase<T>(name: string, step: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await step();
  console.error(`${name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

async function main(): Promise<void> {
  console.log(`## Revocation at scale\n\n${machineLine()}`);
  if (gc === undefined) console.log('(no --expose-gc: heap figures include garbage)');
  try {
    await phase('seeding', () => seed(prefix('large'), ENTRIES));
    await seed(prefix('small'), 1000);
    const empty = await load(prefix('empty'), 1);
    const small = await load(prefix('small'), 1000);
    const large = await phase('loading', () => load(prefix('large'), ENTRIES));
    console.log(`\n### Loading the local view from Redis on start (\`ready()\`)\n`);
    console.log(
      `| entries | load ms | entries/s | longest event-loop stall ms | stalls > ${STALL_LIMIT_MS} ms | heap bytes per entry |`,
    );
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const [count, l] of [
      [1000, small],
      [ENTRIES, large],
    ] as const) {
      console.log(
        `| ${count.toLocaleString('en')} | ${l.ms.toFixed(0)} | ${((count * 1000) / l.ms).toFixed(0)} | ${l.longestStallMs.toFixed(0)} | ${l.stallsOverLimit} | ${l.bytesPerEntry.toFixed(0)} |`,
      );
    }
    await checkCost([
      { name: 'empty', store: empty.store },
      { name: '1,000 entries', store: small.store },
      { name: `${ENTRIES.toLocaleString('en')} entries`, store: large.store },
    ]);
    await Promise.all([empty, small, large].map(({ store }) => store.close()));
    await propagation();
  } finally {
    await cleanUp();
  }
}

await main();
