// Which version of each package the packaging spec installs into its scratch apps (the policy is
// stated at the top of npm-pack.spec.ts).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** `lockfile`: the versions this repository is tested with; `newest`: what a user gets today. */
export type VersionPolicy = 'lockfile' | 'newest';

interface Manifest {
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

interface Lockfile {
  readonly packages: Record<string, { readonly version?: string }>;
}

/** Chooses and names versions from the repository's package.json and package-lock.json. */
export class PackageVersions {
  private readonly manifest: Manifest;
  private readonly lockfile: Lockfile;

  constructor(
    root: string,
    readonly policy: VersionPolicy,
  ) {
    this.manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
    this.lockfile = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lockfile;
  }

  /** `name@version` for `npm install`: the locked version, or the package's declared range. */
  spec(name: string): string {
    return `${name}@${this.policy === 'lockfile' ? this.locked(name) : this.declaredRange(name)}`;
  }

  /**
   * What the scratch app's package.json pins beyond what it installs by name: with the lockfile
   * policy, the packed package's own dependencies at their locked versions; else nothing.
   */
  overrides(): Record<string, string> {
    if (this.policy === 'newest') return {};
    const names = Object.keys(this.manifest.dependencies ?? {});
    return Object.fromEntries(names.map((name) => [name, this.locked(name)]));
  }

  /** The version package-lock.json installs at the top of node_modules. */
  private locked(name: string): string {
    const version = this.lockfile.packages[`node_modules/${name}`]?.version;
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
}
