import {
  Inject,
  Injectable,
  type LoggerService,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { KeyRing, KeyRotator } from 'nest-tessera/issuer';
import type { AuthServiceConfig } from '../config.js';
import { AUTH_SERVICE_CONFIG, AUTH_SERVICE_LOGGER } from './auth-service.tokens.js';

/** How long a new key is published before it signs: twice the JWKS `max-age` verifiers honour. */
export const PUBLISH_AHEAD_SECONDS = 600;

/**
 * Keeps the signing keys moving without a restart, when they come from `AUTH_SIGNING_KEYS`:
 * reloads the file every `AUTH_KEYS_RELOAD` seconds and on SIGHUP, and with `AUTH_KEY_ROTATION`
 * adds the next key itself, ahead of use, and drops keys whose tokens have all expired.
 */
@Injectable()
export class KeyRotationLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private rotator: KeyRotator | undefined;
  private readonly onHangup = () => void this.rotator?.tick();

  constructor(
    private readonly keyRing: KeyRing,
    @Inject(AUTH_SERVICE_CONFIG) private readonly config: AuthServiceConfig,
    @Inject(AUTH_SERVICE_LOGGER) private readonly logger: LoggerService,
  ) {}

  onApplicationBootstrap(): void {
    const { signingKeysPath, keysReloadSeconds, keyRotationSeconds } = this.config;
    if (signingKeysPath === undefined) return;
    this.rotator = new KeyRotator({
      keyRing: this.keyRing,
      path: signingKeysPath,
      policy:
        keyRotationSeconds === undefined
          ? undefined
          : {
              alg: this.keyRing.active.alg,
              rotateEverySeconds: keyRotationSeconds,
              publishAheadSeconds: PUBLISH_AHEAD_SECONDS,
              // Every access token a retired key signed has expired by then, with leeway.
              retainSeconds: this.config.accessTokenTtlSeconds + 60,
            },
      intervalMs: keysReloadSeconds * 1000,
      onEvent: ({ action, activeKid, error }) => {
        if (action === 'failed')
          this.logger.warn('signing keys not reloaded', { error: error?.message });
        else if (action !== 'reloaded') this.logger.log(`signing keys ${action}`, { activeKid });
      },
    });
    if (keysReloadSeconds > 0) this.rotator.start();
    process.on('SIGHUP', this.onHangup);
  }

  onApplicationShutdown(): void {
    process.off('SIGHUP', this.onHangup);
    this.rotator?.stop();
  }
}
