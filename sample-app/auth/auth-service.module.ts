import {
  type DynamicModule,
  Inject,
  type LoggerService,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Registry } from 'prom-client';
import { AuthModule, type AuthEvents } from 'nest-tessera';
import { KeyRing, SessionManager, TokenIssuer, type SessionEvents } from 'nest-tessera/issuer';
import type { AuthServiceConfig } from '../config.js';
import type { AuthHealthIndicator } from 'nest-tessera/terminus';
import { redisPart, type HealthPart } from '../http/health.js';
import { HealthModule } from '../http/health.module.js';
import { MetricsController } from '../http/metrics.controller.js';
import { METRICS_REGISTRY } from '../http/telemetry.js';
import { ClientDirectory, UserDirectory } from './accounts.js';
import type { AuthStores } from './auth-stores.js';
import { AuthController } from './auth.controller.js';
import { KeyRotationLifecycle } from './key-rotation.lifecycle.js';
import { LoginLimiter } from './login-limiter.js';
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
  /** Where the library's and the sessions' events go: `/metrics` and the log. */
  readonly events: AuthEvents & SessionEvents;
  /** The service's own metrics registry, served at `/metrics`. */
  readonly registry: Registry;
  /** Whether a Redis is configured (then `/health` reports Redis). */
  readonly redis: boolean;
  readonly logger: LoggerService;
}

/**
 * Redis down: no session can be opened, refreshed, renewed or ended (those routes answer 503 with
 * Retry-After themselves), but the JWKS, the discovery document and client tokens are still
 * served; and every instance shares that Redis, so taking this one out of rotation would help
 * nobody. Degraded, not out.
 */
const REDIS_DOWN = 'unreachable: login, refresh, renew and logout answer 503';

/**
 * The auth service's health: Redis when it holds the sessions (seen through the revocation list,
 * on the same Redis), and the keys it publishes, which its own verifier uses too.
 */
function healthParts(auth: AuthHealthIndicator, redis: boolean): HealthPart[] {
  const keys: HealthPart = {
    part: 'jwks',
    check: () => auth.checkKeys('jwks'),
    whenDown: () => ({ impact: 'unavailable', detail: 'no signing key' }),
  };
  return redis ? [redisPart(auth, 'degraded', REDIS_DOWN), keys] : [keys];
}

/**
 * The auth service: discovery documents, login, refresh, renew and logout, the client-credentials
 * token endpoint, `/health` and `/metrics`. It verifies the access tokens presented to logout and
 * renew with the library, against its own public keys and the revocation list its sessions
 * publish to.
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
    registry,
    redis,
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
          // Every route needs a bearer token unless it is @Public(): here logout and renew.
          revocation: { store: stores.revocations },
          // Token requests with a proof get bound tokens; logout and renew of those need one.
          dpop: { replayCache: stores.dpopReplays },
          events,
        }),
        HealthModule.forRoot((auth) => healthParts(auth, redis)),
      ],
      controllers: [MetricsController, WellKnownController, AuthController, TokenController],
      providers: [
        { provide: AUTH_SERVICE_CONFIG, useValue: config },
        { provide: AUTH_SERVICE_LOGGER, useValue: logger },
        { provide: AUTH_STORES, useValue: stores },
        { provide: METRICS_REGISTRY, useValue: registry },
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
            events,
          }),
        },
        {
          provide: LoginLimiter,
          useValue: new LoginLimiter(stores.attempts, config.login, config.issuer),
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
