// Which version of each package the packaging spec installs into its scratch apps (the policy is
// stated at the top of npm-pack.spec.ts).

import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';

/** `lockfile`: the versions this repository is tested with; `newest`: what a user gets today. */
export type VersionPolicy = 'lockfile' | 'newest';

interface Manifest {
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly workspaces?: readonly string[];
}

interface LockfileEntry {
  readonly version?: string;
  readonly name?: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

interface Lockfile {
  readonly packages: Record<string, LockfileEntry>;
}

/** The date npm's `--before` takes, and where it came from (said when it is not the commit). */
export interface LockfileTime {
  readonly date: string;
  /** Set when the date is the file's modification time, with the reason. */
  readonly fallback?: string;
}

/** Chooses and names versions from the repository's package.json and package-lock.json. */
export class PackageVersions {
  private readonly manifest: Manifest;
  private readonly lockfile: Lockfile;
  /** With the lockfile policy: when package-lock.json last changed. */
  readonly lockfileTime: LockfileTime | undefined;

  constructor(
    private readonly root: string,
    readonly policy: VersionPolicy,
  ) {
    this.manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
    this.lockfile = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lockfile;
    this.lockfileTime = policy === 'lockfile' ? lockfileTime(root) : undefined;
  }

  /**
   * `name@version` for `npm install`: the locked version, or the package's declared range. With
   * `workspace` (a folder of this repository that package.json lists under `workspaces`), a
   * package that workspace declares comes from it: the version package-lock.json installs for it,
   * or its range. Others come from the root.
   */
  spec(name: string, workspace?: string): string {
    const own = workspace === undefined ? undefined : this.workspaceManifest(workspace);
    const ownRange = own?.devDependencies?.[name] ?? own?.dependencies?.[name];
    const version =
      this.policy === 'newest'
        ? (ownRange ?? this.declaredRange(name))
        : this.locked(name, ownRange === undefined ? undefined : workspace);
    return `${name}@${version}`;
  }

  /**
   * What the scratch app's package.json pins beyond what it installs by name (`direct`, which npm
   * refuses to override): with the lockfile policy, the packed package's own dependencies at their
   * locked versions, and every other package that package-lock.json holds at one version only;
   * a package it holds at several, each package that depends on it gets the version the lockfile
   * resolves for it (`"minimatch@10.2.6": { "brace-expansion": "5.0.13" }`), where that is one
   * version, and the rest is left to `--before`; else nothing. With `workspace`, a
   * version that a peer range of the workspace's packages refuses is not pinned either: Nest 11's
   * core takes an optional @nestjs/microservices 11, which the root holds at 12 only, and npm
   * would install the override against the range.
   */
  overrides(
    direct: readonly string[],
    workspace?: string,
  ): Record<string, string | Record<string, string>> {
    if (this.policy === 'newest') return {};
    const pinned = new Map<string, string>();
    for (const [name, held] of heldVersions(this.lockfile)) {
      if (held.size === 1) pinned.set(name, [...held][0]);
    }
    for (const name of Object.keys(this.manifest.dependencies ?? {})) {
      pinned.set(name, this.locked(name));
    }
    for (const name of direct) pinned.delete(name);
    if (workspace !== undefined) {
      for (const [name, range] of this.peerRanges(workspace)) {
        const version = pinned.get(name);
        if (version !== undefined && !semver.satisfies(version, range)) pinned.delete(name);
      }
    }
    const overrides = new Map<string, string | Record<string, string>>(pinned);
    for (const [dependent, pins] of dependentPins(this.lockfile)) {
      const [name, version] = splitSpec(dependent);
      if (direct.includes(name)) continue;
      // npm takes one key per package: a pinned one carries its own version as ".".
      if (pinned.get(name) === version) overrides.set(name, { '.': version, ...pins });
      else if (!pinned.has(name)) overrides.set(dependent, pins);
    }
    return Object.fromEntries([...overrides].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  /**
   * The peer ranges (optional ones included) of `workspace`'s packages: those installed under its
   * node_modules, and those it declares that npm hoisted to the root's.
   */
  private peerRanges(workspace: string): [string, string][] {
    const own = this.workspaceManifest(workspace);
    const declared = Object.keys({ ...own.dependencies, ...own.devDependencies });
    const prefix = `${workspace}/node_modules/`;
    const { packages } = this.lockfile;
    const entries = [
      ...Object.entries(packages)
        .filter(([path]) => path.startsWith(prefix))
        .map(([, entry]) => entry),
      ...declared
        .filter((name) => packages[`${prefix}${name}`] === undefined)
        .map((name) => packages[`node_modules/${name}`])
        .filter((entry) => entry !== undefined),
    ];
    return entries.flatMap((entry) => Object.entries(entry.peerDependencies ?? {}));
  }

  /**
   * Flags for every `npm install` of the spec: with the lockfile policy, `--before` the time
   * package-lock.json last changed, so that what the overrides leave open (and the other Node.js
   * major's binary) resolves as it did then, whatever was published since.
   */
  installFlags(): string[] {
    return this.lockfileTime === undefined ? [] : [`--before=${this.lockfileTime.date}`];
  }

  /**
   * Each package installed in `dir` (by its package-lock.json) at a version that this repository's
   * package-lock.json does not hold anywhere, as `path@version`; the packed package aside.
   */
  notLockedIn(dir: string): string[] {
    const ours = heldVersions(this.lockfile);
    const theirs = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as Lockfile;
    return Object.entries(theirs.packages)
      .filter(([path, entry]) => {
        const name = packageName(path, entry);
        return (
          name !== undefined && name !== 'nest-tessera' && !ours.get(name)?.has(entry.version!)
        );
      })
      .map(([path, entry]) => `${path}@${entry.version}`);
  }

  /**
   * The version package-lock.json installs for `workspace` (under its own node_modules where it
   * differs from the root's, else hoisted), or at the top of node_modules.
   */
  private locked(name: string, workspace?: string): string {
    const { packages } = this.lockfile;
    const version = (
      (workspace === undefined ? undefined : packages[`${workspace}/node_modules/${name}`]) ??
      packages[`node_modules/${name}`]
    )?.version;
    if (version === undefined) {
      throw new Error(
        `The packaging spec installs ${name}, which package-lock.json does not hold: add it to ` +
          `devDependencies (npm install --save-dev ${name}), so that CI installs a version ` +
          'this repository chose rather than whatever was published last.',
      );
    }
    return version;
  }

  /** The range package.json declares: as a peer (what users install), else for development. */
  private declaredRange(name: string): string {
    const { peerDependencies = {}, devDependencies = {} } = this.manifest;
    const range = peerDependencies[name] ?? devDependencies[name];
    if (range === undefined) {
      throw new Error(`The packaging spec installs ${name}, which package.json does not declare.`);
    }
    return range;
  }

  /** The package.json of `workspace`, which the root's must list. */
  private workspaceManifest(workspace: string): Manifest {
    if (!(this.manifest.workspaces ?? []).includes(workspace)) {
      throw new Error(`package.json does not list ${workspace} under workspaces.`);
    }
    return JSON.parse(readFileSync(join(this.root, workspace, 'package.json'), 'utf8')) as Manifest;
  }
}

/**
 * The name a lockfile entry is installed under; none for the root, workspaces (their folder and
 * its link) and aliases (`npm:` specs).
 */
function packageName(path: string, entry: LockfileEntry): string | undefined {
  if (path === '' || entry.name !== undefined || entry.version === undefined) return undefined;
  return path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** `name@version` split at the version's `@` (a scoped name has one of its own). */
function splitSpec(spec: string): [string, string] {
  const at = spec.lastIndexOf('@');
  return [spec.slice(0, at), spec.slice(at + 1)];
}

/** The version of `dep` that Node's resolution finds from the package installed at `path`. */
function resolvedFrom(lockfile: Lockfile, path: string, dep: string): string | undefined {
  for (let dir = path; ;) {
    const entry =
      lockfile.packages[dir === '' ? `node_modules/${dep}` : `${dir}/node_modules/${dep}`];
    if (entry !== undefined) return entry.name === undefined ? entry.version : undefined;
    if (dir === '') return undefined;
    const parent = dir.lastIndexOf('/node_modules/');
    dir = parent === -1 ? '' : dir.slice(0, parent);
  }
}

/**
 * For each package held at several versions, which version each package depending on it
 * (`name@version`) gets in the lockfile: `dependent → { dependency: version }`, leaving out a
 * dependency two copies of the same dependent get at different versions.
 */
function dependentPins(lockfile: Lockfile): Map<string, Record<string, string>> {
  const held = heldVersions(lockfile);
  const found = new Map<string, Map<string, string | null>>();
  for (const [path, entry] of Object.entries(lockfile.packages)) {
    const name = packageName(path, entry);
    if (name === undefined) continue;
    const dependent = `${name}@${entry.version}`;
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      if ((held.get(dep)?.size ?? 0) < 2) continue;
      const version = resolvedFrom(lockfile, path, dep);
      if (version === undefined) continue;
      const pins = found.get(dependent) ?? new Map<string, string | null>();
      found.set(dependent, pins);
      const before = pins.get(dep);
      pins.set(dep, before === undefined || before === version ? version : null);
    }
  }
  const result = new Map<string, Record<string, string>>();
  for (const [dependent, pins] of found) {
    const single = [...pins].filter((pin): pin is [string, string] => pin[1] !== null);
    if (single.length > 0) result.set(dependent, Object.fromEntries(single));
  }
  return result;
}

/** Every version a lockfile holds of each package, wherever in the tree. */
function heldVersions(lockfile: Lockfile): Map<string, Set<string>> {
  const versions = new Map<string, Set<string>>();
  for (const [path, entry] of Object.entries(lockfile.packages)) {
    const name = packageName(path, entry);
    if (name !== undefined)
      versions.set(name, (versions.get(name) ?? new Set()).add(entry.version!));
  }
  return versions;
}

/**
 * When package-lock.json last changed: the time of the last commit that touched it, or, when git
 * has no such commit (no history, git missing) or the file has changes not yet committed, the
 * file's modification time, with the reason.
 */
export function lockfileTime(root: string): LockfileTime {
  const git = (...args: string[]) => {
    const result = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
    return result.status === 0 ? result.stdout.trim() : undefined;
  };
  const modified = () => statSync(join(root, 'package-lock.json')).mtime.toISOString();
  const committed = git('log', '-1', '--format=%cI', '--', 'package-lock.json');
  if (!committed) {
    return { date: modified(), fallback: 'git has no commit of package-lock.json here' };
  }
  if (git('status', '--porcelain', '--', 'package-lock.json') !== '') {
    return { date: modified(), fallback: 'package-lock.json has changes not yet committed' };
  }
  return { date: new Date(committed).toISOString() };
}
