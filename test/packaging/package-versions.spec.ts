import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { PackageVersions } from './package-versions.js';

// What the packaging spec pins and the date its installs resolve at, on a repository of its own.

const MANIFEST = {
  dependencies: { passport: '^0.7.0' },
  peerDependencies: { '@nestjs/common': '^11.0.0 || ^12.0.0' },
  devDependencies: { jest: '^30.0.0', '@nestjs/common': '^12.5.1' },
  workspaces: ['apps/nest-11'],
};
/** A workspace declaring what one scratch app installs beyond the root's packages. */
const WORKSPACE = { devDependencies: { '@nestjs/common': '^11.2.12', 'ts-jest': '^29.4.15' } };
const LOCKFILE = {
  packages: {
    '': { name: 'nest-tessera', version: '0.1.0' },
    'node_modules/passport': { version: '0.7.0' },
    // Reached only through other packages, as @types/body-parser is through @types/express.
    'node_modules/@types/body-parser': { version: '1.19.6' },
    'node_modules/jest': { version: '30.5.2' },
    // Held at two versions: each package depending on it gets the one it has here.
    'node_modules/debug': { version: '4.4.3' },
    'node_modules/send/node_modules/debug': { version: '2.6.9' },
    'node_modules/send': { version: '0.19.0', dependencies: { debug: '2.6.9' } },
    'node_modules/router': { version: '2.2.0', dependencies: { debug: '^4.4.0' } },
    // An alias (`npm:string-width@^4`): its path does not name the package.
    'node_modules/string-width-cjs': { name: 'string-width', version: '4.2.3' },
    'node_modules/@nestjs/common': { version: '12.6.3' },
    // The workspace: its link, its folder, what differs from the root's under its own
    // node_modules, and the rest hoisted.
    'node_modules/nest-11-app': { resolved: 'apps/nest-11', link: true },
    'apps/nest-11': { name: 'nest-11-app' },
    'apps/nest-11/node_modules/@nestjs/common': { version: '11.2.12' },
    'apps/nest-11/node_modules/@nestjs/core': {
      version: '11.2.12',
      peerDependencies: { '@nestjs/microservices': '^11.0.0' },
    },
    'node_modules/ts-jest': { version: '29.4.15', peerDependencies: { 'babel-jest': '^30.0.0' } },
    // Held for Nest 12 only, at one version each.
    'node_modules/@nestjs/microservices': { version: '12.1.1' },
    'node_modules/babel-jest': { version: '30.5.2' },
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
    mkdirSync(join(root, 'apps', 'nest-11'), { recursive: true });
    writeFileSync(join(root, 'apps', 'nest-11', 'package.json'), JSON.stringify(WORKSPACE));
    writeLockfile(LOCKFILE);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('pins every package the lockfile holds at one version, deep ones included, but not those installed by name', () => {
    const versions = new PackageVersions(root, 'lockfile');
    expect(versions.overrides(['jest', '@nestjs/common'])).toEqual({
      '@nestjs/core': '11.2.12',
      '@nestjs/microservices': '12.1.1',
      '@types/body-parser': '1.19.6',
      'babel-jest': '30.5.2',
      passport: '0.7.0',
      router: { '.': '2.2.0', debug: '4.4.3' },
      send: { '.': '0.19.0', debug: '2.6.9' },
      'ts-jest': '29.4.15',
    });
  });

  it('pins a package held at several versions per dependent, unless two copies of it differ', () => {
    writeLockfile({
      packages: {
        ...LOCKFILE.packages,
        // A second send, whose debug is the root's: send's debug is no longer one version.
        'node_modules/express/node_modules/send': {
          version: '0.19.0',
          dependencies: { debug: '^4' },
        },
        'node_modules/express': { version: '5.1.0' },
      },
    });
    const overrides = new PackageVersions(root, 'lockfile').overrides([]);
    // send itself is still held at one version; its debug is left to --before.
    expect(overrides.send).toBe('0.19.0');
    expect(overrides.router).toEqual({ '.': '2.2.0', debug: '4.4.3' });
  });

  it('pins nothing for a workspace’s app that a peer range of its packages refuses', () => {
    const versions = new PackageVersions(root, 'lockfile');
    // @nestjs/core 11 takes @nestjs/microservices ^11; ts-jest (hoisted) takes babel-jest 30.
    expect(versions.overrides(['jest', '@nestjs/common', '@nestjs/core'], 'apps/nest-11')).toEqual({
      '@types/body-parser': '1.19.6',
      'babel-jest': '30.5.2',
      passport: '0.7.0',
      router: { '.': '2.2.0', debug: '4.4.3' },
      send: { '.': '0.19.0', debug: '2.6.9' },
      'ts-jest': '29.4.15',
    });
  });

  it('installs what a workspace declares at the version locked for it, the rest at the root’s', () => {
    const versions = new PackageVersions(root, 'lockfile');
    expect(versions.spec('@nestjs/common')).toBe('@nestjs/common@12.6.3');
    expect(versions.spec('@nestjs/common', 'apps/nest-11')).toBe('@nestjs/common@11.2.12');
    expect(versions.spec('ts-jest', 'apps/nest-11')).toBe('ts-jest@29.4.15');
    expect(versions.spec('jest', 'apps/nest-11')).toBe('jest@30.5.2');
  });

  it('refuses a workspace that package.json does not list', () => {
    mkdirSync(join(root, 'apps', 'other'));
    writeFileSync(join(root, 'apps', 'other', 'package.json'), JSON.stringify(WORKSPACE));
    expect(() => new PackageVersions(root, 'lockfile').spec('jest', 'apps/other')).toThrow(
      'package.json does not list apps/other under workspaces',
    );
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
            // Held by the workspace only.
            'node_modules/@nestjs/common': { version: '11.2.12' },
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
    // A peer's range is what users install; a workspace's own range wins for its app.
    expect(versions.spec('@nestjs/common')).toBe('@nestjs/common@^11.0.0 || ^12.0.0');
    expect(versions.spec('@nestjs/common', 'apps/nest-11')).toBe('@nestjs/common@^11.2.12');
    expect(versions.spec('jest', 'apps/nest-11')).toBe('jest@^30.0.0');
  });
});
