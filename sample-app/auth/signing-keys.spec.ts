import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuthConfigError } from 'nest-tessera';
import { generateSigningJwk } from 'nest-tessera/issuer';
import { ConfigError, loadConfig } from '../config.js';
import { loadKeyRing } from './signing-keys.js';

class RecordingLogger implements LoggerService {
  readonly warnings: unknown[][] = [];
  log(): void {}
  error(): void {}
  warn(...args: unknown[]): void {
    this.warnings.push(args);
  }
}

describe('the auth service signing keys', () => {
  let dir: string;
  let keysFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-keys-'));
    keysFile = join(dir, 'keys.json');
    const keys = [generateSigningJwk('ES256', 'old'), generateSigningJwk('EdDSA', 'new')];
    await writeFile(keysFile, JSON.stringify({ keys }));
  });
  afterAll(() => rm(dir, { recursive: true }));

  const authConfig = (env: Record<string, string>) => loadConfig(env).auth;

  it('loads AUTH_SIGNING_KEYS, signing with AUTH_ACTIVE_KID and publishing every key', async () => {
    const logger = new RecordingLogger();
    const ring = await loadKeyRing(
      authConfig({ AUTH_SIGNING_KEYS: keysFile, AUTH_ACTIVE_KID: 'new' }),
      true,
      logger,
    );
    expect(ring.active).toEqual({ kid: 'new', alg: 'EdDSA' });
    expect(ring.publicJwks().keys.map((k) => k.kid)).toEqual(['old', 'new']);
    expect(logger.warnings).toEqual([]);
  });

  it('signs with the first key when AUTH_ACTIVE_KID is unset', async () => {
    const ring = await loadKeyRing(
      authConfig({ AUTH_SIGNING_KEYS: keysFile }),
      false,
      new RecordingLogger(),
    );
    expect(ring.active).toEqual({ kid: 'old', alg: 'ES256' });
  });

  it('makes an ephemeral key with a warning when no keys are configured', async () => {
    const logger = new RecordingLogger();
    const ring = await loadKeyRing(authConfig({}), false, logger);
    expect(ring.publicJwks().keys).toHaveLength(1);
    expect(logger.warnings).toHaveLength(1);
    expect(String(logger.warnings[0][0])).toContain('AUTH_SIGNING_KEYS is not set');
  });

  it('refuses to start in production without keys', async () => {
    await expect(loadKeyRing(authConfig({}), true, new RecordingLogger())).rejects.toThrow(
      ConfigError,
    );
    await expect(loadKeyRing(authConfig({}), true, new RecordingLogger())).rejects.toThrow(
      /AUTH_SIGNING_KEYS is not set: with NODE_ENV=production/,
    );
  });

  it('refuses an unknown active kid and a missing file', async () => {
    await expect(
      loadKeyRing(
        authConfig({ AUTH_SIGNING_KEYS: keysFile, AUTH_ACTIVE_KID: 'nope' }),
        false,
        new RecordingLogger(),
      ),
    ).rejects.toThrow(AuthConfigError);
    await expect(
      loadKeyRing(
        authConfig({ AUTH_SIGNING_KEYS: join(dir, 'missing.json') }),
        false,
        new RecordingLogger(),
      ),
    ).rejects.toThrow(/cannot read/);
    await expect(
      loadKeyRing(authConfig({ AUTH_ACTIVE_KID: 'new' }), false, new RecordingLogger()),
    ).rejects.toThrow('AUTH_ACTIVE_KID is set but AUTH_SIGNING_KEYS is not');
  });
});
