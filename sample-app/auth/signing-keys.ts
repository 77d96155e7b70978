import type { LoggerService } from '@nestjs/common';
import { KeyRing } from 'nest-tessera/issuer';
import { ConfigError, type AuthServiceConfig } from '../config.js';

/**
 * The issuer's key ring from `AUTH_SIGNING_KEYS`. Without it, a key made at start and lost at
 * exit: fine on a laptop, refused in production, where every restart would log everyone out and
 * several instances would not trust each other's tokens.
 */
export async function loadKeyRing(
  config: AuthServiceConfig,
  production: boolean,
  logger: LoggerService,
): Promise<KeyRing> {
  if (config.signingKeysPath !== undefined) {
    return KeyRing.fromFile(config.signingKeysPath, {
      activeKid: config.activeKid,
      // A retired key stays published until every access token it signed has expired.
      retainSeconds: config.accessTokenTtlSeconds + 60,
    });
  }
  if (production) {
    throw new ConfigError(
      'AUTH_SIGNING_KEYS is not set: with NODE_ENV=production the auth service needs a JWKS file of private keys',
    );
  }
  if (config.activeKid !== undefined) {
    throw new ConfigError('AUTH_ACTIVE_KID is set but AUTH_SIGNING_KEYS is not');
  }
  const keyRing = KeyRing.ephemeral();
  logger.warn(
    'AUTH_SIGNING_KEYS is not set: signing with an ephemeral key made at start (development only; tokens die with this process)',
    { kid: keyRing.active.kid, alg: keyRing.active.alg },
  );
  return keyRing;
}
