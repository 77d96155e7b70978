import { describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyRing } from '../issue/key-ring.js';
import { runKeysCommand } from './keys-command.js';

const T0 = 1_700_000_000;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

async function run(args: string, now = T0) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runKeysCommand(args.split(' ').filter(Boolean), {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    now: () => now,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function tempFile(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'keys-')), 'signing-keys.json');
}

describe('nest-tessera keys', () => {
  it.each(['EdDSA', 'ES256', 'RS256', 'PS256'])(
    'generates a %s key file the issuer reads, owner-only',
    async (alg) => {
      const file = await tempFile();
      const { code, out } = await run(`keys generate --alg ${alg} --out ${file}`);
      expect(code).toBe(0);
      expect(out).toMatch(/^wrote .*: kid \S+/);
      expect(out).not.toMatch(/"d"/);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await KeyRing.fromFile(file)).active.alg).toBe(alg);
    },
  );

  it('never prints private material unless asked', async () => {
    expect((await run('keys generate --alg EdDSA')).code).toBe(2);
    const asked = await run('keys generate --alg EdDSA --print-private');
    expect(asked.code).toBe(0);
    expect(JSON.parse(asked.out).keys[0]).toHaveProperty('d');
  });

  it('refuses to overwrite a key file, and bad arguments, with a usage message', async () => {
    const file = await tempFile();
    await run(`keys generate --alg ES256 --out ${file}`);
    expect((await run(`keys generate --alg ES256 --out ${file}`)).code).toBe(2);
    expect((await run('keys generate --alg HS256 --out x')).err).toMatch(/--alg must be one of/);
    expect((await run('keys rotate')).err).toMatch(/--file is required/);
    expect((await run('keys explode')).code).toBe(2);
    await writeFile(file, '{oops');
    expect((await run(`keys public --file ${file}`)).code).toBe(1);
  });

  it('rotates in phases: published ahead, then signing, the old key kept until its tokens expire', async () => {
    const file = await tempFile();
    await run(`keys generate --alg ES256 --kid first --out ${file}`);
    const rotated = await run(`keys rotate --file ${file} --publish-ahead 900 --retain 3600`);
    expect(rotated.code).toBe(0);
    const jwks = JSON.parse(await readFile(file, 'utf8'));
    const second = jwks.keys[1];
    expect(second).toMatchObject({ alg: 'ES256', activate_at: T0 + 900 });

    const ringAt = (t: number) => KeyRing.fromJwks(jwks, { retainSeconds: 3600, now: () => t });
    const published = (t: number) =>
      ringAt(t)
        .publicJwks()
        .keys.map((k) => k.kid);
    expect(ringAt(T0).active.kid).toBe('first');
    expect(published(T0)).toEqual(['first', second.kid]);
    expect(ringAt(T0 + 900).active.kid).toBe(second.kid);
    expect(published(T0 + 900 + 3599)).toEqual(['first', second.kid]);
    expect(published(T0 + 900 + 3600)).toEqual([second.kid]);

    const listed = await run(`keys list --file ${file} --retain 3600`, T0 + 1000);
    expect(listed.out).toMatch(/first\tES256\tretired/);
    expect(listed.out).toMatch(new RegExp(`${second.kid}\\tES256\\tactive`));

    const later = await run(`keys rotate --file ${file} --retain 3600`, T0 + 900 + 3600);
    expect(later.out).toMatch(/dropped 1 expired key/);
    const kids = JSON.parse(await readFile(file, 'utf8')).keys.map((k: { kid: string }) => k.kid);
    expect(kids).not.toContain('first');
    expect(kids).toHaveLength(2);
  });

  it('prints only public members', async () => {
    const file = await tempFile();
    await run(`keys generate --alg RS256 --out ${file}`);
    const { out } = await run(`keys public --file ${file}`);
    const [key] = JSON.parse(out).keys;
    expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    for (const member of PRIVATE_MEMBERS) expect(key).not.toHaveProperty(member);
  });
});
