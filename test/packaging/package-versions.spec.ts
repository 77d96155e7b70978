import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { PackageVersions } from './package-versions.js';

// What the packaging spec pins and the date its installs resolve at, on a repository of its own.

const MANIFEST = { dependencies: { passport: '^0.7.0' }, devDependencies: { jest: '^30.0.0' } };
const LOCKFILE = {
  packages: {
    '': { name: 'nest-tessera', version: '0.1.0' },
    'node_modules/passport': { version: '0.7.0' },
    // Reached only through other packages, as @types/body-parser is through @types/express.
    'node_modules/@types/body-parser': { version: '1.19.6' },
    'node_modules/jest': { version: '30.5.2' },
    // Held at two versions: left to --before.
    'node_modules/debug': { version: '4.4.3' },
    'node_modules/send/node_modules/debug': { version: '2.6.9' },
    // An alias (`npm:string-width@^4`): its path does not name the package.
    'node_modules/string-width-cjs': { name: 'string-width', version: '4.2.3' },
  },
};
const COMMITTED = '2026-11-25T12:06:44.000Z';
const MODIFIED = new Date('2026-11-30T09:00:00.000Z');

describe('the packaging spec’s versions', () => {
  let root: string;
  const git = (...args: string[]) => {
    const result = spawnSync(
      'git',
      ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args],
      { cwd: root, encoding: 'utf8', env: { ...process.env, GIT_COMMITTER_DATE: COMMITTED } },
    );
    if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  };
  const writeLockfile = (lockfile: unknown) => {
    writeFileSync(join(root, 'package-lock.json'), JSON.stringify(lockfile));
    utimesSync(join(root, 'package-lock.json'), MODIFIED, MODIFIED);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'tessera-package-versions-'));
    writeFileSync(join(root, 'package.json'), JSON.stringify(MANIFEST));
    writeLockfile(LOCKFILE);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('pins every package the lockfile holds at one version, deep ones included, but not those installed by name', () => {
    const versions = new PackageVersions(root, 'lockfile');
    expect(versions.overrides(['jest'])).toEqual({
      '@types/body-parser': '1.19.6',
      passport: '0.7.0',
    });
  });

  it('names what an app installed at a version the lockfile does not hold', () => {
    const app = mkdtempSync(join(tmpdir(), 'tessera-package-versions-app-'));
    try {
      writeFileSync(
        join(app, 'package-lock.json'),
        JSON.stringify({
          packages: {
            '': { name: 'scratch' },
            'node_modules/nest-tessera': { version: '0.1.0' },
            'node_modules/passport': { version: '0.7.0' },
            'node_modules/@types/body-parser': { version: '2.2.0' },
            'node_modules/send/node_modules/debug': { version: '4.4.3' },
          },
        }),
      );
      expect(new PackageVersions(root, 'lockfile').notLockedIn(app)).toEqual([
        'node_modules/@types/body-parser@2.2.0',
      ]);
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('installs what was published before package-lock.json was last committed', () => {
    git('init', '-q');
    git('add', 'package.json', 'package-lock.json');
    git('commit', '-q', '-m', 'lockfile');
    const versions = new PackageVersions(root, 'lockfile');
    expect(versions.lockfileTime).toEqual({ date: COMMITTED });
    expect(versions.installFlags()).toEqual([`--before=${COMMITTED}`]);
  });

  it('falls back to the file’s modification time, saying why, with changes not yet committed', () => {
    git('init', '-q');
    git('add', 'package.json', 'package-lock.json');
    git('commit', '-q', '-m', 'lockfile');
    writeLockfile({ ...LOCKFILE, lockfileVersion: 3 });
    expect(new PackageVersions(root, 'lockfile').lockfileTime).toEqual({
      date: MODIFIED.toISOString(),
      fallback: 'package-lock.json has changes not yet committed',
    });
  });

  it('falls back to the file’s modification time, saying why, without git history', () => {
    expect(new PackageVersions(root, 'lockfile').lockfileTime).toEqual({
      date: MODIFIED.toISOString(),
      fallback: 'git has no commit of package-lock.json here',
    });
  });

  it('takes the newest within the declared ranges: no overrides, no --before', () => {
    const versions = new PackageVersions(root, 'newest');
    expect(versions.overrides([])).toEqual({});
    expect(versions.installFlags()).toEqual([]);
    expect(versions.spec('jest')).toBe('jest@^30.0.0');
  });
});
