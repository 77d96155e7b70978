import {
  type DynamicModule,
  Inject,
  type LoggerService,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  AuthModule,
  KeyRing,
  SessionManager,
  TokenIssuer,
  type AuthEvents,
} from '../../lib/index.js';
import type { AuthServiceConfig } from '../config.js';
import { HealthController } from '../http/health.controller.js';
import { sessionEventLog } from '../http/security-events.js';
import { ClientDirectory, UserDirectory } from './accounts.js';
import type { AuthStores } from './auth-stores.js';
import { AuthController } from './auth.controller.js';
import { KeyRotationLifecycle } from './key-rotation.lifecycle.js';
import { AUTH_SERVICE_CONFIG, AUTH_SERVICE_LOGGER } from './auth-service.tokens.js';
import { TokenController } from './token.controller.js';
import { TokenService } from './token.service.js';
import { WellKnownController } from './well-known.controller.js';

const AUTH_STORES = Symbol('AuthStores');

/** What the auth service runs on, loaded before the module is built. */
export interface AuthServiceDependencies {
  readonly config: AuthServiceConfig;
  readonly keyRing: KeyRing;
  readonly users: UserDirectory;
  readonly clients: ClientDirectory;
  /** Sessions and the revocation list; closed with the application. */
  readonly stores: AuthStores;
  /** Where the revocation checks of logout report (the log). */
  readonly events: AuthEvents;
  readonly logger: LoggerService;
}

/**
 * The auth service: discovery documents, login, refresh and logout, and the client-credentials
 * token endpoint. It verifies the access tokens presented to logout with the library, against
 * its own public keys and the revocation list its sessions publish to.
 */
@Module({})
export class AuthServiceModule implements OnApplicationShutdown {
  constructor(@Inject(AUTH_STORES) private readonly stores: AuthStores) {}

  static forRoot({
    config,
    keyRing,
    users,
    clients,
    stores,
    events,
    logger,
  }: AuthServiceDependencies): DynamicModule {
    const issuer = new TokenIssuer({
      issuer: config.issuer,
      audience: config.audience,
      keyRing,
      accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    });
    return {
      module: AuthServiceModule,
      imports: [
        AuthModule.forRoot({
          // Its own keys, as they rotate: no fetch of its own JWKS.
          issuers: [{ issuer: config.issuer, keySource: keyRing.asKeySource() }],
          audience: config.audience,
          // Every route needs a bearer token unless it is @Public(): here only logout does.
          revocation: { store: stores.revocations },
          events,
        }),
      ],
      controllers: [HealthController, WellKnownController, AuthController, TokenController],
      providers: [
        { provide: AUTH_SERVICE_CONFIG, useValue: config },
        { provide: AUTH_SERVICE_LOGGER, useValue: logger },
        { provide: AUTH_STORES, useValue: stores },
        { provide: KeyRing, useValue: keyRing },
        { provide: UserDirectory, useValue: users },
        { provide: ClientDirectory, useValue: clients },
        { provide: TokenIssuer, useValue: issuer },
        {
          provide: SessionManager,
          useValue: new SessionManager({
            issuer,
            sessions: stores.sessions,
            revocations: stores.revocations,
            refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
            sessionMaxAgeSeconds: config.sessionMaxAgeSeconds,
            events: sessionEventLog(logger),
          }),
        },
        TokenService,
        KeyRotationLifecycle,
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stores.close();
  }
}
