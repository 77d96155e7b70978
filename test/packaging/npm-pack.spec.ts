import { type ChildProcess, spawn } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { COMMONJS_APP, type ConsumerApp, ESM_APP, installArguments } from './consumer-apps.js';

// What a user gets from the registry: `npm pack` (its prepack script builds the library), the
// tarball installed into fresh Nest 12 apps written by hand, compiled with tsc and run on each
// supported Node.js major: the one running the tests, and the other one from its npm package
// (node-<platform>-<arch>, Node's own binary).
//
// The pack runs in a copy of the repository, so the dist/ that the black-box specs run is never
// rebuilt under them, and the build starts from a tree without any dist/, as in a fresh clone.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MINUTE = 60_000;

/** The Node.js majors the package supports (`engines`: >= 20.19). */
const RUNNING_MAJOR = Number(process.versions.node.split('.')[0]);
const OTHER_MAJOR = RUNNING_MAJOR === 20 ? 22 : 20;

/** The npm package holding Node's binary for this platform, and the binary's path inside it. */
const NODE_PACKAGE = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
const NODE_BINARY = join('bin', process.platform === 'win32' ? 'node.exe' : 'node');

/** npm's error codes when it cannot reach the registry. */
const UNREACHABLE =
  /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH)\b|npm error network/;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Every process started here, so that none outlives the spec (a hook that times out, say). */
const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function run(command: string, args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = track(
      spawn(command, args, {
        cwd,
        shell: process.platform === 'win32',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function succeed(command: string, args: readonly string[], cwd: string): Promise<Run> {
  const result = await run(command, args, cwd);
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited with ${result.code}:\n${result.stdout}${result.stderr}`,
    );
  }
  return result;
}

/** Starts `dist/main.js` with `node` and resolves the JSON line the app prints once it listens. */
function start(
  node: string,
  cwd: string,
): Promise<{
  stop: () => void;
  line: { url: string; token: string; prometheusEntry: string; node: string };
}> {
  const child = track(spawn(node, ['dist/main.js'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] }));
  const stop = () => {
    if (child.exitCode === null) child.kill();
  };
  let stdout = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      stop();
      reject(new Error(`${why}:\n${stdout}${stderr}`));
    };
    const timer = setTimeout(() => fail('the app printed no line within 90 s'), 90_000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const end = stdout.indexOf('\n');
      if (end === -1) return;
      clearTimeout(timer);
      try {
        resolve({ stop, line: JSON.parse(stdout.slice(0, end)) });
      } catch {
        fail('the app printed something else than its JSON line');
      }
    });
    child.on('exit', (code) => fail(`the app exited with ${code}`));
  });
}

/**
 * The network error npm meets on its way to the registry, or undefined once it reaches it. npm
 * retries a failed connection for minutes: one ping without retries answers at once.
 */
async function registryUnreachable(cwd: string): Promise<string | undefined> {
  const ping = await run('npm', ['ping', '--fetch-retries=0', '--fetch-timeout=15000'], cwd);
  // Another failure (a registry without the ping endpoint, say): the installs will tell.
  return ping.code === 0 ? undefined : ping.stderr.match(UNREACHABLE)?.[0];
}

/** Every file under `dir`, relative to it, with forward slashes. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

describe('the npm package (npm pack, installed into fresh Nest 12 apps)', () => {
  let work: string;
  let tarball: string;
  let packedFiles: string[];
  let librarySources: string[];
  /** Set when npm cannot reach the registry: the install-dependent tests then say so and stop. */
  let unreachable: string | undefined;
  const installed = new Map<ConsumerApp, string>();
  /** Each Node.js major's binary; the other major's once it is installed. */
  const nodes = new Map<number, string>([[RUNNING_MAJOR, process.execPath]]);
  /** Set when the other major could not be installed without the registry. */
  let otherNodeMissing: string | undefined;

  const skipped = (app: ConsumerApp): boolean => {
    if (installed.has(app)) return false;
    console.warn(`skipped: npm cannot reach the registry (${unreachable})`);
    return true;
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tessera-npm-pack-'));
    const stage = join(work, 'package');
    const skip = new Set(['node_modules', 'dist', '.git', 'coverage']);
    cpSync(ROOT, stage, {
      recursive: true,
      filter: (source) => {
        const path = relative(ROOT, source);
        return !skip.has(path.split(sep)[0]) && !path.endsWith('.tgz');
      },
    });
    symlinkSync(join(ROOT, 'node_modules'), join(stage, 'node_modules'), 'junction');
    librarySources = filesUnder(join(stage, 'lib')).filter(
      (file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'),
    );

    const packed = await succeed('npm', ['pack', '--json', '--pack-destination', work], stage);
    const [manifest] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as [
      { filename: string; files: { path: string }[] },
    ];
    tarball = join(work, manifest.filename);
    packedFiles = manifest.files.map((file) => file.path).sort();

    // Without the registry the installs may still succeed from the npm cache alone.
    const offline = await registryUnreachable(work);
    const cacheMode = offline === undefined ? '--prefer-offline' : '--offline';
    // Both apps and the other Node.js install at once: the time goes to the network and the cache.
    const otherNode = join(work, 'other-node');
    mkdirSync(otherNode);
    writeFileSync(join(otherNode, 'package.json'), '{ "private": true }\n');
    const nodeInstall = run(
      'npm',
      ['install', '--no-audit', '--no-fund', cacheMode, `${NODE_PACKAGE}@^${OTHER_MAJOR}`],
      otherNode,
    ).then((install) => {
      if (install.code === 0) {
        nodes.set(OTHER_MAJOR, join(otherNode, 'node_modules', NODE_PACKAGE, NODE_BINARY));
      } else if (offline !== undefined) {
        otherNodeMissing = `${offline}; the npm cache alone has no ${NODE_PACKAGE}@^${OTHER_MAJOR}`;
      } else {
        throw new Error(`npm install ${NODE_PACKAGE}@^${OTHER_MAJOR} failed:\n${install.stderr}`);
      }
    });
    await Promise.all([
      nodeInstall,
      ...[ESM_APP, COMMONJS_APP].map(async (app) => {
        const dir = join(work, app.directory);
        for (const [file, contents] of Object.entries(app.files)) {
          mkdirSync(dirname(join(dir, file)), { recursive: true });
          writeFileSync(join(dir, file), contents);
        }
        const install = await run(
          'npm',
          ['install', '--no-audit', '--no-fund', cacheMode, ...installArguments(tarball, app)],
          dir,
        );
        if (install.code === 0) {
          installed.set(app, dir);
        } else if (offline !== undefined) {
          // Offline, npm answers ENOTCACHED, or ERESOLVE over packages it has no metadata for.
          const code = /npm error code (\w+)/.exec(install.stderr)?.[1] ?? 'an error';
          unreachable = `${offline}; installing from the npm cache alone gave ${code}`;
        } else {
          throw new Error(`npm install failed in ${app.name}:\n${install.stderr}`);
        }
      }),
    ]);
  }, 8 * MINUTE);

  afterAll(() => {
    for (const child of children) child.kill();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('holds the compiled library (.js and .d.ts), README, CHANGELOG, LICENSE and package.json, nothing else', () => {
    const compiled = librarySources.flatMap((source) => {
      const stem = `dist/lib/${source.slice(0, -'.ts'.length)}`;
      return [`${stem}.d.ts`, `${stem}.js`];
    });
    expect(packedFiles).toEqual(
      ['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json', ...compiled].sort(),
    );
    // What package.json points at is in it.
    for (const file of [
      'dist/lib/index.js',
      'dist/lib/index.d.ts',
      'dist/lib/observability/prometheus-metrics.js',
      'dist/lib/observability/prometheus-metrics.d.ts',
      'dist/lib/cli/main.js',
    ]) {
      expect(packedFiles).toContain(file);
    }
  });

  it(
    'runs its nest-tessera bin from the installed package',
    async () => {
      if (skipped(ESM_APP)) return;
      const generated = await succeed(
        'npm',
        [
          'exec',
          '--no',
          '--',
          'nest-tessera',
          'keys',
          'generate',
          '--alg',
          'EdDSA',
          '--print-private',
        ],
        installed.get(ESM_APP)!,
      );
      const jwks = JSON.parse(generated.stdout) as { keys: Record<string, string>[] };
      expect(jwks.keys).toHaveLength(1);
      expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
      expect(jwks.keys[0].d).toEqual(expect.any(String));
      expect(jwks.keys[0].kid).toEqual(expect.any(String));
    },
    2 * MINUTE,
  );

  describe.each([ESM_APP, COMMONJS_APP])('in $name', (app) => {
    beforeAll(async () => {
      if (!installed.has(app)) return;
      const dir = installed.get(app)!;
      await succeed(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], dir);
    }, 2 * MINUTE);

    it.each([RUNNING_MAJOR, OTHER_MAJOR])(
      'compiled with tsc, starts on Node %i, answers 200 with a token and 401 with WWW-Authenticate: Bearer without',
      async (major) => {
        if (skipped(app)) return;
        const node = nodes.get(major);
        if (node === undefined) {
          console.warn(`skipped: Node ${major} is not installed (${otherNodeMissing})`);
          return;
        }
        const { stop, line } = await start(node, installed.get(app)!);
        try {
          expect(line.node).toMatch(new RegExp(`^v${major}\\.`));
          const authorized = await fetch(`${line.url}/whoami`, {
            headers: { authorization: `Bearer ${line.token}` },
          });
          expect(authorized.status).toBe(200);
          expect(await authorized.json()).toEqual({ subject: 'alice' });

          const anonymous = await fetch(`${line.url}/whoami`);
          expect(anonymous.status).toBe(401);
          expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer\b/);

          expect(line.prometheusEntry).toMatch(
            /nest-tessera[/\\]dist[/\\]lib[/\\]observability[/\\]prometheus-metrics\.js$/,
          );
          if (app === ESM_APP) {
            // prom-client is installed here: the optional entry counts the verification.
            const metrics = await (await fetch(`${line.url}/metrics`)).text();
            expect(metrics).toContain(
              'tessera_token_verifications_total{result="success",reason="none"} 1',
            );
          }
        } finally {
          stop();
        }
      },
      3 * MINUTE,
    );
  });
});
