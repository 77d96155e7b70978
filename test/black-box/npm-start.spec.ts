import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parsePasswordHash, verifyPassword } from '../../sample-app/auth/password-hash.js';
import { ensureBuild, freePort, MAIN, ROOT } from './built-app.js';

// What `npm start` runs, spawned as a user would run it, and driven over real HTTP.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('npm start (the built sample app, both services in one process)', () => {
  let child: ChildProcess;
  let exited: Promise<number | null>;
  let cwd: string;
  let stdout = '';
  let stderr = '';
  let authUrl: string;
  let ordersUrl: string;
  let accessToken: string;
  let orderId: string;

  /** Waits until `predicate` holds over stdout, or fails with what was printed. */
  async function waitForOutput(
    predicate: (lines: string[]) => boolean,
    what: string,
  ): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (predicate(stdout.split('\n').filter((line) => line !== ''))) return;
      await sleep(50);
    }
    throw new Error(`no ${what} in stdout:\n${stdout}`);
  }

  beforeAll(async () => {
    ensureBuild();
    const [authPort, ordersPort] = [await freePort(), await freePort()];
    // The default issuer names localhost while the services listen on 127.0.0.1; orders must
    // still fetch the JWKS from it.
    authUrl = `http://localhost:${authPort}`;
    ordersUrl = `http://localhost:${ordersPort}`;
    // An empty working directory: a developer's .env must not change what is tested here.
    cwd = mkdtempSync(join(tmpdir(), 'tessera-npm-start-'));
    child = spawn(process.execPath, [MAIN], {
      cwd,
      env: {
        PATH: process.env.PATH,
        AUTH_PORT: String(authPort),
        ORDERS_PORT: String(ordersPort),
        AUTH_ISSUER: authUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));

    for (let attempt = 0; ; attempt++) {
      if (child.exitCode !== null) throw new Error(`the app exited:\n${stdout}${stderr}`);
      const ok = await fetch(`${ordersUrl}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (attempt > 150) throw new Error(`no /health after 30 s:\n${stdout}${stderr}`);
      await sleep(200);
    }
  }, 180_000);

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    if (cwd !== undefined) rmSync(cwd, { recursive: true, force: true });
  });

  it('answers /health on the auth service too', async () => {
    const response = await fetch(`${authUrl}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('logs alice in', async () => {
    const response = await fetch(`${authUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'alice-password' }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access_token: string; token_type: string };
    expect(body.token_type).toBe('Bearer');
    accessToken = body.access_token;
  });

  it('creates an order and reads it back over real HTTP', async () => {
    const created = await fetch(`${ordersUrl}/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ item: 'black-box', qty: 4 }),
    });
    expect(created.status).toBe(201);
    const order = (await created.json()) as { id: string };
    expect(order).toEqual({
      id: expect.any(String),
      tenant: 'seller-a',
      item: 'black-box',
      qty: 4,
    });
    orderId = order.id;
    const read = await fetch(`${ordersUrl}/orders/${orderId}`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual(order);
    expect((await fetch(`${ordersUrl}/orders`)).status).toBe(401);
  });

  it('logs JSON lines only, with the request fields, and never a token or a password', async () => {
    // Both lines: the unauthenticated request came last, and may still be on its way.
    await waitForOutput(
      (lines) =>
        lines.some((line) => line.includes(`/orders/${orderId}`)) &&
        lines.some((line) => line.includes('"missing_token"')),
      'access-log lines of the order read and of the request without a token',
    );
    const entries = stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries).toContainEqual(
      expect.objectContaining({
        service: 'orders',
        method: 'GET',
        path: `/orders/${orderId}`,
        status: 200,
        sub: 'alice',
        latencyMs: expect.any(Number),
      }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({
        method: 'GET',
        path: '/orders',
        status: 401,
        reason: 'missing_token',
      }),
    );
    // The dev key warning comes out as a JSON line too.
    expect(entries).toContainEqual(expect.objectContaining({ level: 'warn', service: 'auth' }));
    const output = stdout + stderr;
    expect(output).not.toContain(accessToken.split('.')[2]);
    expect(output).not.toContain(accessToken.split('.')[1]);
    expect(output).not.toContain('alice-password');
  });

  it('logs out: the orders service of the same process refuses the token at once, without Redis', async () => {
    const logout = await fetch(`${authUrl}/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(logout.status).toBe(204);
    const after = await fetch(`${ordersUrl}/orders`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });

  it('stops cleanly on SIGTERM', async () => {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('npm start with a configuration it cannot run with', () => {
  let cwd: string;

  beforeAll(() => {
    ensureBuild();
    cwd = mkdtempSync(join(tmpdir(), 'tessera-npm-start-bad-'));
  }, 180_000);
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  function start(
    env: Record<string, string>,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [MAIN], {
        cwd,
        env: { PATH: process.env.PATH, AUTH_PORT: '0', ORDERS_PORT: '0', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  it.each([
    [
      'NODE_ENV=production without signing keys',
      { NODE_ENV: 'production' },
      'AUTH_SIGNING_KEYS is not set',
    ],
    ['a port that is not a number', { ORDERS_PORT: 'eighty' }, 'ORDERS_PORT must be an integer'],
    [
      'a users file that does not exist',
      { USERS_FILE: 'no-such-users.json' },
      'USERS_FILE no-such-users.json',
    ],
  ])('exits with code 1 and one JSON error line for %s', async (_, env, message) => {
    const { code, stdout, stderr } = await start(env);
    expect(code).toBe(1);
    expect(stderr).toBe('');
    const lines = stdout.split('\n').filter((line) => line !== '');
    const errors = lines.map((line) => JSON.parse(line)).filter((entry) => entry.level === 'error');
    expect(errors).toEqual([
      expect.objectContaining({ service: 'sample-app', message: expect.stringContaining(message) }),
    ]);
    expect(stdout).not.toContain('listening');
  });
});

describe('npm run hash-password (the built tool)', () => {
  const TOOL = join(ROOT, 'dist', 'sample-app', 'auth', 'hash-password.js');
  const run = (args: string[], input?: string) =>
    spawnSync(process.execPath, [TOOL, ...args], { input, encoding: 'utf8' });

  beforeAll(ensureBuild, 180_000);

  it('hashes an argument or stdin alike, in the users-file format', async () => {
    const fromArgument = run(['p4ss word']);
    const fromStdin = run([], 'p4ss word\n');
    for (const { status, stdout } of [fromArgument, fromStdin]) {
      expect(status).toBe(0);
      expect(stdout).toMatch(/^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+\n$/);
      expect(await verifyPassword('p4ss word', parsePasswordHash(stdout.trim()))).toBe(true);
    }
    expect(fromArgument.stdout).not.toBe(fromStdin.stdout);
  });

  it('refuses an empty password', () => {
    const result = run([], '');
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('the password is empty');
  });
});
