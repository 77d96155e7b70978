import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The black-box specs run what `npm run build` produces, as a user would.
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** `npm start`: both services in one process. */
export const MAIN = join(ROOT, 'dist', 'sample-app', 'main.js');
/** `npm run start:auth` and `npm run start:orders`. */
export const AUTH_MAIN = join(ROOT, 'dist', 'sample-app', 'auth', 'main.js');
export const ORDERS_MAIN = join(ROOT, 'dist', 'sample-app', 'orders', 'main.js');
/** examples/minimal, built as a user would build it. */
export const MINIMAL_EXAMPLE_MAIN = join(ROOT, 'dist', 'examples', 'minimal', 'main.js');
/** examples/migration: before.ts or after.ts, served. */
export const MIGRATION_EXAMPLE_MAIN = join(ROOT, 'dist', 'examples', 'migration', 'main.js');

const LOCK = join(ROOT, 'dist', '.black-box-build.lock');
/** A lock older than this is left over from a run that died while building. */
const STALE_LOCK_MS = 180_000;

/**
 * Builds dist/ unless it is newer than every source file it is compiled from. Specs run in
 * parallel workers: one builds while the others wait for its lock, then find the build fresh.
 */
export function ensureBuild(): void {
  const sources = ['lib', 'sample-app', 'examples'].flatMap((dir) =>
    readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'))
      .map((file) => statSync(join(ROOT, dir, file)).mtimeMs),
  );
  const builtAt = () =>
    Math.min(
      ...[MAIN, AUTH_MAIN, ORDERS_MAIN, MINIMAL_EXAMPLE_MAIN, MIGRATION_EXAMPLE_MAIN].map(
        (file) => statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0,
      ),
    );
  if (builtAt() >= Math.max(...sources)) return;
  withLock(() => {
    if (builtAt() >= Math.max(...sources)) return;
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    // tsc emits even with type errors elsewhere; what matters here is a fresh sample app.
    if (builtAt() < Math.max(...sources)) {
      throw new Error(`the build failed:\n${build.stdout}${build.stderr}`);
    }
  });
}

function withLock(build: () => void): void {
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      else sleepSync(200);
    }
  }
  try {
    build();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
