import { describe, expect, it } from '@jest/globals';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveAuthOptions } from '../options/resolve-auth-options.js';
import { createTokenVerifier } from '../options/create-token-verifier.js';
import { writeKeyFile } from './key-file.js';
import { generateSigningJwk, KeyRing } from './key-ring.js';
import { KeyRotator, type KeyRotationEvent } from './key-rotator.js';
import { TokenIssuer } from './token-issuer.js';

const T0 = 1_700_000_000;
const POLICY = {
  alg: 'EdDSA' as const,
  publishAheadSeconds: 600,
  retainSeconds: 1200,
  rotateEverySeconds: 3600,
};

/** A ring read from `file` and a rotator on it with POLICY, recording what it does. */
async function rotatingRing(file: string, now: () => number, activeKid?: string) {
  const keyRing = await KeyRing.fromFile(file, {
    activeKid,
    retainSeconds: POLICY.retainSeconds,
    now,
  });
  const events: KeyRotationEvent[] = [];
  const rotator = new KeyRotator({
    keyRing,
    path: file,
    policy: POLICY,
    now,
    onEvent: (e) => events.push(e),
  });
  return { keyRing, events, rotator };
}

describe('KeyRotator', () => {
  it('rotates without a restart: published ahead, then signing; old tokens verify until they expire', async () => {
    let clock = T0;
    const now = () => clock;
    const file = join(await mkdtemp(join(tmpdir(), 'rotator-')), 'keys.json');
    await writeKeyFile(file, { keys: [{ ...generateSigningJwk('ES256', 'k1'), activate_at: T0 }] });
    const { keyRing, events, rotator } = await rotatingRing(file, now);
    const issuer = new TokenIssuer({
      issuer: 'https://auth.test',
      audience: 'api',
      keyRing,
      now,
      accessTokenTtlSeconds: 900,
    });
    // A verifier that knows the JWKS published at a given moment (as after a cache refresh).
    const verifierAt = () =>
      createTokenVerifier(
        resolveAuthOptions({
          issuers: [{ issuer: 'https://auth.test', keys: keyRing.publicJwks().keys }],
          audience: 'api',
          now,
        }),
      );
    const token = () =>
      issuer.issueAccessToken({ subject: 'alice', scopes: [], clientId: 'web' }).token;

    await rotator.tick();
    expect(events.at(-1)).toEqual({ action: 'reloaded', activeKid: 'k1' });

    clock = T0 + 3000; // rotateEvery - publishAhead: the next key is due
    await rotator.tick();
    expect(events.at(-1)).toMatchObject({ action: 'rotated', activeKid: 'k1' });
    const published = keyRing.publicJwks().keys.map((k) => k.kid);
    expect(published).toHaveLength(2);
    const oldToken = token();

    clock = T0 + 3600; // the new key signs now
    await rotator.tick();
    const k2 = keyRing.active.kid;
    expect(k2).not.toBe('k1');
    expect(published).toContain(k2);
    const newToken = token();
    await expect(async () => verifierAt().verify(oldToken)).resolves.toMatchObject({
      subject: 'alice',
    });
    await expect(async () => verifierAt().verify(newToken)).resolves.toMatchObject({
      subject: 'alice',
    });

    clock = T0 + 3600 + 1200; // every token of k1 has expired: k1 is dropped
    await rotator.tick();
    expect(events.at(-1)?.action).toBe('pruned');
    expect(keyRing.publicJwks().keys.map((k) => k.kid)).toEqual([k2]);
  });

  it('keeps the current keys when the file goes bad, and says so', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'rotator-')), 'keys.json');
    await writeKeyFile(file, { keys: [generateSigningJwk('EdDSA', 'only')] });
    const keyRing = await KeyRing.fromFile(file);
    const events: KeyRotationEvent[] = [];
    const rotator = new KeyRotator({ keyRing, path: file, onEvent: (e) => events.push(e) });
    await writeFile(file, '{ broken');
    await rotator.tick();
    expect(events.at(-1)?.action).toBe('failed');
    expect(keyRing.active.kid).toBe('only');
  });
});

describe('KeyRing.asKeySource', () => {
  it("verifies the issuer's own tokens across a rotation, without fetching its JWKS", async () => {
    let clock = T0;
    const now = () => clock;
    const file = join(await mkdtemp(join(tmpdir(), 'rotator-')), 'keys.json');
    await writeKeyFile(file, { keys: [{ ...generateSigningJwk('EdDSA', 'a'), activate_at: T0 }] });
    const keyRing = await KeyRing.fromFile(file, { retainSeconds: 1200, now });
    const verifier = createTokenVerifier(
      resolveAuthOptions({
        issuers: [{ issuer: 'https://auth.test', keySource: keyRing.asKeySource() }],
        audience: 'api',
        now,
        verifiedTokenCacheSize: 0,
      }),
    );
    const issuer = new TokenIssuer({ issuer: 'https://auth.test', audience: 'api', keyRing, now });
    const token = () =>
      issuer.issueAccessToken({ subject: 'alice', scopes: [], clientId: 'web' }).token;
    const before = token();
    await writeKeyFile(file, {
      keys: [
        { ...generateSigningJwk('ES256', 'a'), activate_at: T0 },
        { ...generateSigningJwk('ES256', 'b'), activate_at: T0 + 60 },
      ],
    });
    await keyRing.reload();
    clock = T0 + 60;
    expect(keyRing.active.kid).toBe('b');
    await expect(async () => verifier.verify(token())).resolves.toMatchObject({ subject: 'alice' });
    // Key `a` was replaced in the file by another key with the same kid: its old tokens fail.
    await expect(async () => verifier.verify(before)).rejects.toMatchObject({
      reason: expect.stringMatching(/alg_not_allowed|bad_signature/),
    });
  });

  it('keeps publishing and verifying a pinned key the schedule has retired, and never prunes it', async () => {
    let clock = T0;
    const now = () => clock;
    const file = join(await mkdtemp(join(tmpdir(), 'rotator-')), 'keys.json');
    await writeKeyFile(file, {
      keys: [
        { ...generateSigningJwk('EdDSA', 'old'), activate_at: T0 - 10_000 },
        { ...generateSigningJwk('EdDSA', 'new'), activate_at: T0 },
      ],
    });
    // Rolled back to `old` (AUTH_ACTIVE_KID) after `new` took over.
    const { keyRing, events, rotator } = await rotatingRing(file, now, 'old');
    const issuer = new TokenIssuer({ issuer: 'https://auth.test', audience: 'api', keyRing, now });
    const verifier = createTokenVerifier(
      resolveAuthOptions({
        issuers: [{ issuer: 'https://auth.test', keySource: keyRing.asKeySource() }],
        audience: 'api',
        now,
        verifiedTokenCacheSize: 0,
      }),
    );
    for (const at of [T0 + POLICY.retainSeconds, T0 + POLICY.rotateEverySeconds + 5000]) {
      clock = at;
      await rotator.tick();
      expect(events.at(-1)).toMatchObject({ activeKid: 'old' });
      expect(events.at(-1)?.action).not.toMatch(/failed|rotated/);
      expect(keyRing.publicJwks().keys.map((k) => k.kid)).toContain('old');
      const token = issuer.issueAccessToken({ subject: 'alice', scopes: [], clientId: 'web' });
      await expect(async () => verifier.verify(token.token)).resolves.toMatchObject({
        subject: 'alice',
      });
    }
  });
});
