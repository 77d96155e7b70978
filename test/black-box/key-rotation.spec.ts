import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AUTH_MAIN, ensureBuild, freePort, ORDERS_MAIN, ROOT } from './built-app.js';
import { Service } from './service-process.js';

// Key rotation of the built services under a continuous client loop: one auth service reading a
// key file, two orders instances, the CLI rotating the file, then the auth service restarting on
// a new active key. Every answer of the orders instances to a valid token must be a 200.

const CLI = join(ROOT, 'dist', 'lib', 'cli', 'main.js');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function cli(args: string[]): string {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`nest-tessera ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

const kidOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { kid: string }).kid;

describe('key rotation under load (the built services)', () => {
  let cwd: string;
  let keyFile: string;
  let authEnv: Record<string, string>;
  let auth: Service;
  const services: Service[] = [];
  let orders: Service[] = [];

  async function start(name: string, script: string, env: Record<string, string>, port?: number) {
    const listen = port ?? (await freePort());
    const variable = script === AUTH_MAIN ? 'AUTH_PORT' : 'ORDERS_PORT';
    const service = new Service(
      name,
      `http://127.0.0.1:${listen}`,
      script,
      { ...env, [variable]: String(listen) },
      cwd,
    );
    services.push(service);
    await service.ready();
    return service;
  }

  async function login(): Promise<string | undefined> {
    const response = await fetch(`${auth.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'alice-password' }),
    }).catch(() => undefined);
    if (response?.status !== 200) return undefined;
    return ((await response.json()) as { access_token: string }).access_token;
  }

  beforeAll(async () => {
    ensureBuild();
    cwd = mkdtempSync(join(tmpdir(), 'tessera-rotation-'));
    keyFile = join(cwd, 'signing-keys.json');
    cli(['keys', 'generate', '--alg', 'ES256', '--out', keyFile]);
    const authPort = await freePort();
    const shared = { AUTH_ISSUER: `http://127.0.0.1:${authPort}`, THROTTLE_LIMIT: '0' };
    authEnv = { ...shared, AUTH_SIGNING_KEYS: keyFile, AUTH_KEYS_RELOAD: '1' };
    auth = await start('auth', AUTH_MAIN, authEnv, authPort);
    orders = [
      await start('orders-1', ORDERS_MAIN, { ...shared, JWKS_COOLDOWN: '1' }),
      await start('orders-2', ORDERS_MAIN, { ...shared, JWKS_COOLDOWN: '1' }),
    ];
  }, 60_000);
  afterAll(async () => {
    await Promise.all(services.map((s) => s.kill()));
  });

  it('keeps every valid token working while the issuer rotates and restarts on a new key', async () => {
    const first = await login();
    expect(first).toBeDefined();
    const tokens = [first!];
    const statuses = new Map<number, number>();
    let stop = false;
    // The client loop: every known token, old and new, against both instances, back to back.
    const loop = (async () => {
      while (!stop) {
        for (const token of [...tokens]) {
          for (const instance of orders) {
            const response = await fetch(`${instance.url}/orders`, {
              headers: { authorization: `Bearer ${token}` },
            });
            await response.arrayBuffer();
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          }
        }
      }
    })();

    // Phase 1: a new key, published at once, signing two seconds later.
    cli(['keys', 'rotate', '--file', keyFile, '--publish-ahead', '2', '--retain', '600']);
    const keys = (JSON.parse(readFileSync(keyFile, 'utf8')) as { keys: { kid: string }[] }).keys;
    const [oldKid, newKid] = keys.map((k) => k.kid);
    await sleep(3500); // reload (1 s) + activation (2 s)
    const rotated = await login();
    expect(kidOf(rotated!)).toBe(newKid);
    tokens.push(rotated!);
    await sleep(1000);

    // Phase 2: the issuer restarts (a deploy) and comes back signing with the new key.
    await auth.kill();
    await sleep(500);
    auth = await start('auth', AUTH_MAIN, authEnv, Number(new URL(auth.url).port));
    const afterRestart = await login();
    expect(kidOf(afterRestart!)).toBe(newKid);
    tokens.push(afterRestart!);
    await sleep(1500);
    stop = true;
    await loop;

    expect(kidOf(first!)).toBe(oldKid);
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    console.log(
      `key rotation under load: ${total} requests to two orders instances, statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    expect([...statuses.keys()]).toEqual([200]);
    expect(total).toBeGreaterThan(50);
  }, 60_000);
});
