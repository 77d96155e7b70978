import { type ChildProcess, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { deleteKeys, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';
import {
  binaryUnder,
  NODE_PACKAGE,
  nodeBinary,
  pinnedNodeVersion,
} from '../setup/node-binaries.js';
import {
  COMMONJS_APP,
  COMMONJS_JEST,
  type ConsumerApp,
  ESM_APP,
  installArguments,
  packageJson,
} from './consumer-apps.js';
import { PackageVersions } from './package-versions.js';

// What a user gets from the registry: `npm pack` (its prepack script builds the library), the
// tarball installed into two fresh apps written by hand, a Nest 11 CommonJS one and a Nest 12
// ES-module one, each compiled with tsc, installed once and run on every supported Node.js major
// (20, 22, 24): the one running the tests, and the others as Node's own binary from its npm
// package (node-<platform>-<arch>, test/setup/node-binaries.js).
//
// The pack runs in a copy of the repository, so the dist/ that the black-box specs run is never
// rebuilt under them, and the build starts from a tree without any dist/, as in a fresh clone.
//
// Which versions the scratch apps get, and what a failure means:
//
// - `npm test` (CI) installs every package the apps name (Nest, reflect-metadata, rxjs,
//   TypeScript, @types/node, prom-client, ioredis, @types/redis-errors, Jest) at the exact version
//   package-lock.json holds, and pins the rest of the tree there through `overrides`: the packed
//   package's own dependencies, every package the lockfile holds at one version only, and, of a
//   package it holds at several, the version each package depending on it gets there (npm's
//   nested overrides: `"minimatch@10.2.6": { "brace-expansion": "5.0.13" }`). What is still open
//   (a package the lockfile does not hold, or whose dependents' copies differ) resolves with
//   npm's `--before` the time package-lock.json was last committed (its modification time, said
//   in one line, when git has no commit of it or it has changes not yet committed), as it did
//   then. A test checks that each app got only versions the lockfile holds. An upstream release
//   cannot turn CI red without a change in this repository; a package the apps need that the
//   lockfile lacks stops the spec with a message saying so. The Node.js binaries are the exact
//   versions test/setup/node-binaries.js pins, kept under node_modules/.cache.
// - The repository itself develops on Nest 12, so the Nest 11 app's packages (Nest 11,
//   @nestjs/testing 11, ts-jest, @types/jest) cannot be devDependencies of the root: npm would
//   refuse two majors of @nestjs/common side by side, even under npm aliases, since Nest 11's
//   @nestjs/core wants @nestjs/common 11 as its peer. They are declared by an npm workspace of
//   their own, test/packaging/commonjs-app/package.json, which npm installs under that folder's
//   node_modules and records in the one package-lock.json (`npm ci` installs them; nothing in
//   the repository imports them). What a workspace declares, the app installs at the version the
//   lockfile holds for it; the rest at the root's.
// - `npm run test:newest` runs this spec alone with the newest versions within the ranges
//   package.json declares (as a peer, else as a devDependency; the workspace's own ranges for
//   what it declares, so the newest Nest 11 for the Nest 11 app), metadata fetched afresh, no
//   overrides and no `--before`: what a user installing today gets, the newest Node.js binary of
//   each major included. A failure there that CI does not show is an upstream release that
//   breaks users: record it in CHANGELOG.md, then adjust the ranges or the declarations, and move
//   the lockfile once the fix is in. It needs the registry, so it stays out of CI.
// - Without the registry: `test:newest` fails, and so does `npm test` when `CI` is set. Only a
//   developer without network gets the installs (and the Node.js binaries) from the npm cache as
//   far as it goes; what it lacks is skipped, said in one line.
//
// What each app covers, both compiled with their declarations checked (skipLibCheck: false), each
// answering 200 with a token, 401 without one, with one of a key it does not trust and after its
// logout, and 403 without the scope:
//
// - The Nest 12 ES-module app (NodeNext) never installs ioredis, an optional peer: a user who
//   does not use Redis needs neither it nor its types. It installs prom-client and counts through
//   nest-tessera/prometheus, and @nestjs/throttler, which throttles through
//   nest-tessera/throttler.
// - The Nest 11 CommonJS app loads the package through Node's require(esm), and the package loads
//   Nest 11's CommonJS. It installs ioredis and @types/redis-errors (which ioredis 6.1.0's
//   declarations need, CHANGELOG.md) and keeps its revocation list in the test run's Redis through
//   nest-tessera/redis, so `test:newest` meets a Redis types release that breaks users. It does
//   not install prom-client: the main entry loads without it, and nest-tessera/prometheus resolves
//   all the same. Its Jest spec (ts-jest, @nestjs/testing, nest-tessera/testing) runs as
//   docs/compatibility.md tells CommonJS apps to: ts-jest compiling the package on every major,
//   and require(esm) on Node 24 with --experimental-vm-modules; and on Node 24 with neither it
//   fails, which is why the docs say it.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MINUTE = 60_000;
const VERSIONS = new PackageVersions(
  ROOT,
  process.env.npm_lifecycle_event === 'test:newest' ? 'newest' : 'lockfile',
);

/** The Node.js majors the package supports (`engines`: ^20.19.0 || >=22.12.0), each run here. */
const MAJORS = [20, 22, 24] as const;
const RUNNING_MAJOR = Number(process.versions.node.split('.')[0]);
/** Where Jest loads an ES module through require(esm) without a transform (24.9 on). */
const REQUIRE_ESM_MAJOR = 24;

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

function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = track(
      spawn(command, args, {
        cwd,
        env,
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
  env: Readonly<Record<string, string>>,
): Promise<{
  stop: () => void;
  line: {
    url: string;
    tokens: { valid: string; unscoped: string; foreign: string };
    prometheusEntry: string;
    node: string;
  };
}> {
  const child = track(
    spawn(node, ['dist/main.js'], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
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

/** Where the CommonJS app keeps its revocation list in the test run's Redis. */
const REVOCATION_PREFIX = `${uniquePrefix('packaging')}revocation:`;

/** The `jti` of a compact JWS. */
function tokenId(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { jti: string })
    .jti;
}

async function redisHas(key: string): Promise<boolean> {
  const redis = new Redis(sharedRedisUrl(), { maxRetriesPerRequest: 1 });
  try {
    return (await redis.exists(key)) === 1;
  } finally {
    redis.disconnect();
  }
}

/** What a Jest run in the CommonJS app reported: its exit code, its counts, and all it printed. */
interface JestRun {
  code: number | null;
  passed: number;
  failed: number;
  output: string;
}

/**
 * Runs the CommonJS app's Jest on `node`, with `args` after Jest's own, and `NODE_OPTIONS` set to
 * `nodeOptions` (unset otherwise): Jest's JSON report counts the tests.
 */
async function runJest(
  node: string,
  dir: string,
  args: readonly string[],
  nodeOptions?: string,
): Promise<JestRun> {
  const env = { ...process.env };
  if (nodeOptions === undefined) delete env.NODE_OPTIONS;
  else env.NODE_OPTIONS = nodeOptions;
  const result = await run(
    node,
    ['node_modules/jest/bin/jest.js', '--ci', '--json', '--cacheDirectory=.jest-cache', ...args],
    dir,
    env,
  );
  const report = /^\{.*\}$/m.exec(result.stdout);
  const counts = report
    ? (JSON.parse(report[0]) as { numPassedTests: number; numFailedTests: number })
    : { numPassedTests: 0, numFailedTests: 0 };
  return {
    code: result.code,
    passed: counts.numPassedTests,
    failed: counts.numFailedTests,
    output: `${result.stdout}${result.stderr}`,
  };
}

/** With the newest versions, which ones the app got: the first thing to read when it fails. */
async function reportVersions(app: ConsumerApp, dir: string): Promise<void> {
  const { stdout } = await run('npm', ['ls', '--depth=0'], dir);
  console.info(`${app.name} installed:\n${stdout}`);
}

/** Every file under `dir`, relative to it, with forward slashes. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

describe('the npm package (npm pack, installed into a fresh Nest 11 CommonJS app and a fresh Nest 12 ES-module app)', () => {
  let work: string;
  let tarball: string;
  let packedFiles: string[];
  let librarySources: string[];
  const installed = new Map<ConsumerApp, string>();
  /** Each Node.js major's binary: the running one, and the others' once they are installed. */
  const nodes = new Map<number, string>([[RUNNING_MAJOR, process.execPath]]);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tessera-npm-pack-'));
    const stage = join(work, 'package');
    const skip = new Set(['dist', '.git', 'coverage']);
    cpSync(ROOT, stage, {
      recursive: true,
      filter: (source) => {
        const path = relative(ROOT, source).split(sep);
        // node_modules anywhere: a workspace's (test/packaging/commonjs-app) too.
        return !skip.has(path[0]) && !path.includes('node_modules') && !source.endsWith('.tgz');
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

    const lockfileTime = VERSIONS.lockfileTime;
    if (lockfileTime?.fallback !== undefined) {
      console.warn(
        `packaging spec: installing what was published before ${lockfileTime.date}, ` +
          `package-lock.json's modification time (${lockfileTime.fallback})`,
      );
    }
    // Only a developer without network is let off, with the npm cache as far as it goes: the
    // newest versions need the registry's current metadata, and CI must not pass on a run that
    // installed nothing.
    const offline = await registryUnreachable(work);
    if (offline !== undefined && (VERSIONS.policy === 'newest' || process.env.CI)) {
      throw new Error(
        `npm cannot reach the registry (${offline}): ` +
          (VERSIONS.policy === 'newest'
            ? 'npm run test:newest needs it to see what a user installs today'
            : 'with CI set, the packaging spec fails rather than skip its installs'),
      );
    }
    const cacheMode =
      VERSIONS.policy === 'newest'
        ? '--prefer-online'
        : offline === undefined
          ? '--prefer-offline'
          : '--offline';
    const flags = ['--no-audit', '--no-fund', cacheMode, ...VERSIONS.installFlags()];
    /** What could not be installed from the npm cache alone, without the registry. */
    const missing: string[] = [];
    const installFailed = (what: string, install: Run) => {
      if (offline === undefined)
        throw new Error(`npm install failed in ${what}:\n${install.stderr}`);
      // Offline, npm answers ENOTCACHED, or ERESOLVE over packages it has no metadata for.
      missing.push(`${what} (${/npm error code (\w+)/.exec(install.stderr)?.[1] ?? 'an error'})`);
    };
    // The apps and the Node.js binaries install at once: the time goes to the network and the
    // cache. Each app installs once and then runs on every major.
    const appInstalls = Promise.all(
      [ESM_APP, COMMONJS_APP].map(async (app) => {
        const dir = join(work, app.directory);
        for (const [file, contents] of Object.entries(app.files)) {
          mkdirSync(dirname(join(dir, file)), { recursive: true });
          writeFileSync(join(dir, file), contents);
        }
        writeFileSync(join(dir, 'package.json'), packageJson(app, VERSIONS));
        const install = await run(
          'npm',
          ['install', ...flags, ...installArguments(tarball, app, VERSIONS)],
          dir,
        );
        if (install.code === 0) {
          installed.set(app, dir);
          if (VERSIONS.policy === 'newest') await reportVersions(app, dir);
        } else {
          installFailed(app.name, install);
        }
      }),
    );
    const nodeInstalls = MAJORS.filter((major) => major !== RUNNING_MAJOR).map(async (major) => {
      if (VERSIONS.policy === 'newest') {
        // The newest binary of the major, as a user installing Node today gets it.
        const dir = join(work, `node-${major}`);
        mkdirSync(dir);
        writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
        const install = await run('npm', ['install', ...flags, `${NODE_PACKAGE}@^${major}`], dir);
        if (install.code === 0) nodes.set(major, binaryUnder(dir));
        else installFailed(`${NODE_PACKAGE}@^${major}`, install);
        return;
      }
      // The pinned binary, kept under node_modules/.cache (npm runs meanwhile for the apps).
      try {
        nodes.set(major, nodeBinary(major, { flags: [cacheMode] }));
      } catch (error) {
        installFailed(`${NODE_PACKAGE}@${pinnedNodeVersion(major)}`, {
          code: 1,
          stdout: '',
          stderr: (error as Error).message,
        });
      }
    });
    await Promise.all([appInstalls, ...nodeInstalls]);
    if (missing.length > 0) {
      console.warn(
        `packaging spec: skipping what needs ${missing.join(', ')}: npm cannot reach the ` +
          `registry (${offline}) and its cache lacks them`,
      );
    }
  }, 8 * MINUTE);

  afterAll(async () => {
    for (const child of children) child.kill();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
    await deleteKeys(REVOCATION_PREFIX);
  }, 2 * MINUTE);

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
      'dist/lib/redis.js',
      'dist/lib/redis.d.ts',
      'dist/lib/prometheus.js',
      'dist/lib/prometheus.d.ts',
      'dist/lib/issuer.js',
      'dist/lib/issuer.d.ts',
      'dist/lib/passport.js',
      'dist/lib/passport.d.ts',
      'dist/lib/terminus.js',
      'dist/lib/terminus.d.ts',
      'dist/lib/throttler.js',
      'dist/lib/throttler.d.ts',
      'dist/lib/cli/main.js',
    ]) {
      expect(packedFiles).toContain(file);
    }
  });

  it(
    'runs its nest-tessera bin from the installed package',
    async () => {
      if (!installed.has(ESM_APP)) return; // offline, said once above
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

    (VERSIONS.policy === 'lockfile' ? it : it.skip)(
      "installs only versions this repository's package-lock.json holds, deep dependencies included",
      () => {
        if (!installed.has(app)) return; // offline, said once above
        expect(VERSIONS.notLockedIn(installed.get(app)!)).toEqual([]);
      },
    );

    it.each(app.absentPeers)(
      'compiles and runs without %s, which npm does not install for an optional peer',
      (peer) => {
        if (!installed.has(app)) return; // offline, said once above
        expect(existsSync(join(installed.get(app)!, 'node_modules', peer))).toBe(false);
      },
    );

    it(`installs Nest ${app.nestMajor}`, () => {
      if (!installed.has(app)) return; // offline, said once above
      for (const name of ['@nestjs/common', '@nestjs/core']) {
        const manifest = join(installed.get(app)!, 'node_modules', name, 'package.json');
        const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
        expect(version).toMatch(new RegExp(`^${app.nestMajor}\\.`));
      }
    });

    it.each(MAJORS)(
      'compiled with tsc, starts on Node %i, answers 200 with a token, 401 without, with a foreign one and after its logout, 403 without the scope',
      async (major) => {
        const node = nodes.get(major);
        if (!installed.has(app) || node === undefined) return; // offline, said once above
        const prefix = `${REVOCATION_PREFIX}node${major}:`;
        const { stop, line } = await start(node, installed.get(app)!, {
          REDIS_URL: sharedRedisUrl(),
          REDIS_KEY_PREFIX: prefix,
        });
        const whoami = (token?: string) =>
          fetch(`${line.url}/whoami`, {
            headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
          });
        try {
          expect(line.node).toMatch(new RegExp(`^v${major}\\.`));
          const authorized = await whoami(line.tokens.valid);
          expect(authorized.status).toBe(200);
          expect(await authorized.json()).toEqual({ subject: 'alice' });
          if (app === ESM_APP) {
            // ConsumerThrottlerGuard counted it, on the @nestjs/throttler the app installed.
            expect(authorized.headers.get('x-ratelimit-limit')).toBe('100');
            expect(authorized.headers.get('x-ratelimit-remaining')).toBe('99');
          }

          const anonymous = await whoami();
          expect(anonymous.status).toBe(401);
          expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer\b/);

          expect(line.prometheusEntry).toMatch(/nest-tessera[/\\]dist[/\\]lib[/\\]prometheus\.js$/);
          if (app === ESM_APP) {
            // prom-client is installed here: the optional entry counts the verification.
            const metrics = await (await fetch(`${line.url}/metrics`)).text();
            expect(metrics).toContain(
              'tessera_token_verifications_total{result="success",reason="none"} 1',
            );
          }

          const foreign = await whoami(line.tokens.foreign);
          expect(foreign.status).toBe(401);
          expect(foreign.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');

          const unscoped = await whoami(line.tokens.unscoped);
          expect(unscoped.status).toBe(403);
          expect(unscoped.headers.get('www-authenticate')).toBe(
            'Bearer error="insufficient_scope", scope="profile:read"',
          );

          const logout = await fetch(`${line.url}/logout`, {
            method: 'POST',
            headers: { authorization: `Bearer ${line.tokens.valid}` },
          });
          expect(logout.status).toBe(204);
          const revoked = await whoami(line.tokens.valid);
          expect(revoked.status).toBe(401);
          expect(revoked.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
          if (app === COMMONJS_APP) {
            // The revocation went through nest-tessera/redis to Redis, not to a store in memory.
            expect(await redisHas(`${prefix}t:${tokenId(line.tokens.valid)}`)).toBe(true);
          }
        } finally {
          stop();
        }
      },
      3 * MINUTE,
    );
  });

  describe(`${COMMONJS_APP.name}: its Jest spec, nest-tessera/testing's TestIssuer and @nestjs/testing`, () => {
    /** The app's Jest on Node `major`; undefined offline (said once above). */
    const jestOn = async (major: number, args: readonly string[], nodeOptions?: string) => {
      const node = nodes.get(major);
      if (!installed.has(COMMONJS_APP) || node === undefined) return undefined;
      return runJest(node, installed.get(COMMONJS_APP)!, args, nodeOptions);
    };
    const untransformed = [
      `--transformIgnorePatterns=${COMMONJS_JEST.defaultTransformIgnorePatterns.join(',')}`,
    ];

    it.each(MAJORS)(
      'passes on Node %i with ts-jest compiling nest-tessera to CommonJS (transformIgnorePatterns)',
      async (major) => {
        const result = await jestOn(major, []);
        if (result === undefined) return;
        expect({ ...result, output: undefined }).toEqual({
          code: 0,
          passed: COMMONJS_JEST.tests,
          failed: 0,
          output: undefined,
        });
      },
      2 * MINUTE,
    );

    it(
      `passes on Node ${REQUIRE_ESM_MAJOR} with --experimental-vm-modules and nest-tessera untransformed (require(esm))`,
      async () => {
        const result = await jestOn(REQUIRE_ESM_MAJOR, untransformed, '--experimental-vm-modules');
        if (result === undefined) return;
        expect(result).toMatchObject({ code: 0, passed: COMMONJS_JEST.tests, failed: 0 });
      },
      2 * MINUTE,
    );

    it(
      `fails on Node ${REQUIRE_ESM_MAJOR} with neither: Jest does not require an ES module by itself`,
      async () => {
        const result = await jestOn(REQUIRE_ESM_MAJOR, untransformed);
        if (result === undefined) return;
        expect(result.code).not.toBe(0);
        expect(result.passed).toBe(0);
        expect(result.output).toContain('Must use import to load ES Module');
        expect(result.output).toContain('nest-tessera');
      },
      2 * MINUTE,
    );
  });
});
