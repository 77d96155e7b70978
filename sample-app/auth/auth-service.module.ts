import { type DynamicModule, Module } from '@nestjs/common';
import { KeyRing, TokenIssuer } from '../../lib/index.js';
import type { AuthServiceConfig } from '../config.js';
import { HealthController } from '../http/health.controller.js';
import { ClientDirectory, UserDirectory } from './accounts.js';
import { AuthController } from './auth.controller.js';
import { AUTH_SERVICE_CONFIG } from './auth-service.tokens.js';
import { SessionService } from './session.service.js';
import { TokenController } from './token.controller.js';
import { TokenService } from './token.service.js';
import { WellKnownController } from './well-known.controller.js';

/** What the auth service runs on, loaded before the module is built. */
export interface AuthServiceDependencies {
  readonly config: AuthServiceConfig;
  readonly keyRing: KeyRing;
  readonly users: UserDirectory;
  readonly clients: ClientDirectory;
}

/** The auth service: discovery documents, login and the client-credentials token endpoint. */
@Module({})
export class AuthServiceModule {
  static forRoot({ config, keyRing, users, clients }: AuthServiceDependencies): DynamicModule {
    return {
      module: AuthServiceModule,
      controllers: [HealthController, WellKnownController, AuthController, TokenController],
      providers: [
        { provide: AUTH_SERVICE_CONFIG, useValue: config },
        { provide: KeyRing, useValue: keyRing },
        { provide: UserDirectory, useValue: users },
        { provide: ClientDirectory, useValue: clients },
        {
          provide: TokenIssuer,
          useFactory: () =>
            new TokenIssuer({
              issuer: config.issuer,
              audience: config.audience,
              keyRing,
              accessTokenTtlSeconds: config.accessTokenTtlSeconds,
            }),
        },
        SessionService,
        TokenService,
      ],
    };
  }
}
