import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readKeyFile, writeKeyFile } from './key-file.js';

const JWKS = { keys: [{ kty: 'OKP', crv: 'Ed25519', kid: 'k1', x: 'x', d: 'private' }] };

describe('writeKeyFile', () => {
  let dir: string;
  let path: string;
  let victim: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'key-file-'));
    path = join(dir, 'keys.json');
    victim = join(dir, 'victim.txt');
    await writeFile(victim, 'untouched');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes the keys readable by the owner only, leaving no temporary file', async () => {
    await writeKeyFile(path, JWKS as never);
    expect(await readKeyFile(path)).toEqual(JWKS);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).sort()).toEqual(['keys.json', 'victim.txt']);
  });

  it('never writes through a symlink planted at a name it could be expected to use', async () => {
    // The names a writer might pick: the process id (what it used to be), a fixed suffix, the
    // file itself.
    const planted = [
      `${path}.${process.pid}.tmp`,
      `${path}.tmp`,
      `${path}~`,
      `${path}.new`,
      join(dir, '.keys.json.tmp'),
    ];
    for (const name of planted) await symlink(victim, name);
    await symlink(victim, path);
    await writeKeyFile(path, JWKS as never);
    expect(await readFile(victim, 'utf8')).toBe('untouched');
    // The link at the path itself is replaced by the file, not written through.
    expect((await lstat(path)).isFile()).toBe(true);
    expect(await readKeyFile(path)).toEqual(JWKS);
    for (const name of planted) expect((await lstat(name)).isSymbolicLink()).toBe(true);
  });

  it('leaves no temporary file behind when the rename fails', async () => {
    // A directory with something in it cannot be replaced by a file.
    const target = join(dir, 'a-directory');
    await mkdir(join(target, 'not-empty'), { recursive: true });
    await expect(writeKeyFile(target, JWKS as never)).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['a-directory', 'victim.txt']);
  });
});
