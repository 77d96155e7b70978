// The cost of revocation checks and how fast a revocation travels: `npm run bench`.
//
// 1. HTTP: the same guarded route on three apps, measured with autocannon (a child process) on
//    loopback in interleaved rounds: revocation off, the local view (Redis-backed, pub/sub), and a
//    Redis round trip per request (the strong check of sensitive routes).
// 2. The local check alone, in ns, set against the cost of one request.
// 3. Propagation: revocations made on one store instance, timed until another instance sees them.
//
// Needs Redis: REDIS_URL, else 127.0.0.1:6379.

import 'reflect-metadata';
import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { AuthModule, Scopes } from 'nest-tessera';
import { KeyRing, TokenIssuer } from 'nest-tessera/issuer';
import { redis, RedisRevocationStore } from 'nest-tessera/redis';
import { RevocationChecker } from '../lib/revocation/revocation-checker.js';
import { runAutocannon, type AutocannonRun } from './autocannon-run.js';
import { median } from './harness.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `{tessera-bench-${process.pid}}:revocation:`;
const ISSUER = 'https://auth.bench';
const ROUNDS = 3;
const DURATION_S = 3;
const CONNECTIONS = 16;
const PROPAGATIONS = 300;

@Controller('orders')
class OrdersController {
  @Scopes('orders:read')
  @Get()
  list() {
    return [{ id: 'o-1', item: 'lamp', qty: 1 }];
  }
}

type Mode = 'revocation off' | 'local view (Redis pub/sub)' | 'Redis GET per request';

async function appFor(mode: Mode, keyRing: KeyRing): Promise<INestApplication> {
  const revocation =
    mode === 'revocation off'
      ? undefined
      : {
          keyPrefix: PREFIX,
          sensitiveScopes: mode === 'Redis GET per request' ? ['orders:read'] : [],
        };
  @Module({
    imports: [
      AuthModule.forRoot({
        issuers: [{ issuer: ISSUER, keys: keyRing.publicJwks().keys }],
        audience: 'orders-api',
        redis: redis(REDIS_URL),
        revocation,
      }),
    ],
    controllers: [OrdersController],
  })
  class BenchModule {}
  const app = await NestFactory.create(BenchModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

function autocannon(url: string, token: string): Promise<AutocannonRun> {
  return runAutocannon(url, { connections: CONNECTIONS, durationS: DURATION_S, token });
}

async function httpCost(token: string, keyRing: KeyRing): Promise<Map<Mode, number>> {
  const modes: Mode[] = ['revocation off', 'local view (Redis pub/sub)', 'Redis GET per request'];
  const apps = new Map<Mode, INestApplication>();
  for (const mode of modes) apps.set(mode, await appFor(mode, keyRing));
  const rates = new Map<Mode, number[]>(modes.map((m) => [m, []]));
  const p99s = new Map<Mode, number[]>(modes.map((m) => [m, []]));
  for (const mode of modes) await autocannon(`${await apps.get(mode)!.getUrl()}/orders`, token); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) {
      const { rps, p99, non2xx } = await autocannon(
        `${await apps.get(mode)!.getUrl()}/orders`,
        token,
      );
      if (non2xx > 0) throw new Error(`${mode}: ${non2xx} answers were not 2xx`);
      rates.get(mode)!.push(rps);
      p99s.get(mode)!.push(p99);
    }
  }
  for (const app of apps.values()) await app.close();
  const base = median(rates.get('revocation off')!);
  console.log(
    `\n### Revocation check over HTTP (Express, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${DURATION_S} s, medians)\n`,
  );
  console.log('| revocation | req/s | p99 ms | cost per request vs off |');
  console.log('| --- | ---: | ---: | ---: |');
  const medians = new Map<Mode, number>();
  for (const mode of modes) {
    const rps = median(rates.get(mode)!);
    medians.set(mode, rps);
    const cost = ((base / rps - 1) * 100).toFixed(1);
    console.log(
      `| ${mode} | ${rps.toFixed(0)} | ${median(p99s.get(mode)!).toFixed(1)} | ${mode === 'revocation off' ? '—' : `${cost}%`} |`,
    );
  }
  return medians;
}

async function localCheckNs(
  store: RedisRevocationStore,
  token: string,
  keyRing: KeyRing,
): Promise<number> {
  const { createTokenVerifier } = await import('../lib/options/create-token-verifier.js');
  const { resolveAuthOptions } = await import('../lib/options/resolve-auth-options.js');
  const verifier = createTokenVerifier(
    resolveAuthOptions({
      issuers: [{ issuer: ISSUER, keys: keyRing.publicJwks().keys }],
      audience: 'orders-api',
    }),
  );
  const principal = await verifier.verify(token);
  const checker = new RevocationChecker(store, { standard: 'fail-open', sensitive: 'fail-closed' });
  const samples: number[] = [];
  for (let run = 0; run < 7; run++) {
    const n = 200_000;
    const started = performance.now();
    for (let i = 0; i < n; i++) await checker.check(principal, 'standard');
    samples.push(((performance.now() - started) * 1e6) / n);
  }
  return median(samples);
}

async function propagation(): Promise<number[]> {
  const a = new RedisRevocationStore({ connection: REDIS_URL, keyPrefix: PREFIX });
  const b = new RedisRevocationStore({ connection: REDIS_URL, keyPrefix: PREFIX });
  await Promise.all([a.ready(), b.ready()]);
  const times: number[] = [];
  const until = Date.now() / 1000 + 120;
  for (let i = 0; i < PROPAGATIONS; i++) {
    const jti = `bench-${process.pid}-${i}`;
    const started = performance.now();
    await a.revokeToken(jti, until);
    while (!b.isRevoked({ jti })) await new Promise((resolve) => setImmediate(resolve));
    times.push(performance.now() - started);
  }
  await Promise.all([a.close(), b.close()]);
  return times;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function cleanUp(): Promise<void> {
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(
      cursor,
      'MATCH',
      `{tessera-bench-${process.pid}}*`,
      'COUNT',
      1000,
    );
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}

async function main(): Promise<void> {
  const probe = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await probe.connect();
  } catch {
    console.error(`The revocation benchmark needs Redis at ${REDIS_URL} (set REDIS_URL).`);
    process.exit(1);
  } finally {
    probe.disconnect();
  }
  const keyRing = KeyRing.ephemeral('EdDSA');
  const issuer = new TokenIssuer({
    issuer: ISSUER,
    audience: 'orders-api',
    keyRing,
    accessTokenTtlSeconds: 3600,
  });
  const token = issuer.issueAccessToken({
    subject: 'alice',
    tenant: 'seller-a',
    scopes: ['orders:read'],
    clientId: 'sample-app',
    sessionId: 's-1',
  }).token;
  try {
    const store = new RedisRevocationStore({ connection: REDIS_URL, keyPrefix: PREFIX });
    await store.ready();
    // A list of realistic size: a thousand revoked tokens and sessions.
    for (let i = 0; i < 500; i++) {
      await store.revokeToken(`old-${i}`, Date.now() / 1000 + 600);
      await store.revokeSession(`old-session-${i}`, Date.now() / 1000 + 600);
    }
    const medians = await httpCost(token, keyRing);
    const checkNs = await localCheckNs(store, token, keyRing);
    await store.close();
    const requestNs = 1e9 / medians.get('revocation off')!;
    console.log(
      `\nThe local check alone: ${checkNs.toFixed(0)} ns per request, ${((checkNs / requestNs) * 100).toFixed(2)}% of a request's ${(requestNs / 1000).toFixed(0)} µs (1 / req/s without revocation). Target: under 2%.`,
    );
    const times = await propagation();
    console.log(
      `\n### Propagation between two instances (${PROPAGATIONS} revocations, loopback Redis)\n`,
    );
    console.log('| p50 ms | p99 ms | max ms |');
    console.log('| ---: | ---: | ---: |');
    console.log(
      `| ${percentile(times, 50).toFixed(2)} | ${percentile(times, 99).toFixed(2)} | ${Math.max(...times).toFixed(2)} |`,
    );
    console.log(`\nTarget: p99 under 100 ms: ${percentile(times, 99) < 100 ? 'met' : 'MISSED'}.`);
  } finally {
    await cleanUp();
  }
}

await main();
