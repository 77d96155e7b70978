import {
  Inject,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  APP_FILTER,
  APP_GUARD,
  APP_INTERCEPTOR,
  DiscoveryModule,
  HttpAdapterHost,
} from '@nestjs/core';
import { RequestAuthenticator } from '../authentication/request-authenticator.js';
import { ServiceIdentities } from '../authorization/service-identities.js';
import type { AuthModuleOptions } from '../options/auth-options.js';
import { resolveAuthOptions, type ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import { createRevocationStore } from '../revocation/create-revocation-store.js';
import { RevocationChecker } from '../revocation/revocation-checker.js';
import { RevocationStore } from '../revocation/revocation-store.js';
import { createTokenVerifier } from '../verify/create-token-verifier.js';
import { TokenVerifier } from '../verify/token-verifier.js';
import { AuthExceptionFilter } from './auth-exception.filter.js';
import {
  AUTH_MODULE_OPTIONS,
  AUTH_OPTIONS,
  ConfigurableAuthModule,
} from './auth.module-definition.js';
import { BearerGuard, GlobalBearerGuard } from './bearer.guard.js';
import { CONSUMER_THROTTLE, RequestThrottler } from './request-throttler.js';
import { ThrottleExceptionFilter } from './throttle-exception.filter.js';
import { ConsumerThrottle } from '../throttling/consumer-throttle.js';
import { MemoryThrottleStorage } from '../throttling/memory-throttle-storage.js';
import { RedisThrottleStorage } from '../throttling/redis-throttle-storage.js';
import type { ThrottleStorage } from '../throttling/throttle-storage.js';
import { MethodSecurityExplorer } from './method-security.explorer.js';
import { PrincipalContextInterceptor } from './principal-context.interceptor.js';
import { RENEWAL_COORDINATOR, RenewalInterceptor } from './renewal.interceptor.js';
import { RenewalCoordinator } from '../renewal/renewal-coordinator.js';

const OWNED_REVOCATION_STORE = Symbol('OwnedRevocationStore');
const OWNED_THROTTLE_STORAGE = Symbol('OwnedThrottleStorage');
/** How long start-up waits for a shared revocation list to load before serving anyway. */
const REVOCATION_LOAD_WAIT_MS = 2000;

/**
 * Local verification of access tokens, revocation checks, the bearer guard, `@Scopes()` and
 * RFC 6750 answers. Global by default.
 * @example AuthModule.forRoot({ issuers: [...], audience: 'orders-api' })
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: AUTH_OPTIONS,
      useFactory: (options: AuthModuleOptions) => resolveAuthOptions(options),
      inject: [AUTH_MODULE_OPTIONS],
    },
    {
      provide: TokenVerifier,
      useFactory: (options: ResolvedAuthOptions) => createTokenVerifier(options),
      inject: [AUTH_OPTIONS],
    },
    {
      provide: OWNED_REVOCATION_STORE,
      useFactory: (options: ResolvedAuthOptions) => createRevocationStore(options) ?? null,
      inject: [AUTH_OPTIONS],
    },
    {
      provide: RevocationStore,
      useFactory: (created: ReturnType<typeof createRevocationStore> | null) =>
        created?.store ?? null,
      inject: [OWNED_REVOCATION_STORE],
    },
    {
      provide: RequestAuthenticator,
      useFactory: (
        options: ResolvedAuthOptions,
        verifier: TokenVerifier,
        store: RevocationStore | null,
      ) =>
        new RequestAuthenticator(
          verifier,
          store && options.revocation
            ? new RevocationChecker(store, options.revocation.onOutage, options.events)
            : undefined,
          options.tokenSources,
        ),
      inject: [AUTH_OPTIONS, TokenVerifier, RevocationStore],
    },
    {
      provide: ServiceIdentities,
      useFactory: (options: ResolvedAuthOptions, authenticator: RequestAuthenticator) =>
        new ServiceIdentities(options.serviceIdentities, authenticator, options.now, options.fetch),
      inject: [AUTH_OPTIONS, RequestAuthenticator],
    },
    {
      provide: OWNED_THROTTLE_STORAGE,
      useFactory: (options: ResolvedAuthOptions): ThrottleStorage | null => {
        const throttle = options.throttle;
        if (!throttle || throttle.storage) return null;
        return throttle.redis
          ? new RedisThrottleStorage({ connection: throttle.redis, keyPrefix: throttle.keyPrefix })
          : new MemoryThrottleStorage();
      },
      inject: [AUTH_OPTIONS],
    },
    {
      provide: CONSUMER_THROTTLE,
      useFactory: (options: ResolvedAuthOptions, owned: ThrottleStorage | null) => {
        const throttle = options.throttle;
        if (!throttle) return null;
        return new ConsumerThrottle(throttle.storage ?? owned!, throttle, throttle.perConsumer);
      },
      inject: [AUTH_OPTIONS, OWNED_THROTTLE_STORAGE],
    },
    {
      provide: RENEWAL_COORDINATOR,
      useFactory: (options: ResolvedAuthOptions) => {
        const renewal = options.renewal;
        if (!renewal) return null;
        return new RenewalCoordinator(
          renewal.renewer,
          renewal.windowSeconds,
          // Session tokens of the renewing issuer only: client tokens get a new one by asking.
          (p) => p.sessionId !== undefined && renewal.issuers.has(p.issuer),
          options.now,
          options.events,
        );
      },
      inject: [AUTH_OPTIONS],
    },
    RequestThrottler,
    BearerGuard,
    MethodSecurityExplorer,
    { provide: APP_GUARD, useClass: GlobalBearerGuard },
    // Interceptors put every request through an rxjs pipeline: each is registered only when it
    // has work to do (a factory that returns null registers nothing).
    {
      provide: APP_INTERCEPTOR,
      useFactory: (options: ResolvedAuthOptions, explorer: MethodSecurityExplorer) =>
        (options.principalContext ?? explorer.needsCallContext())
          ? new PrincipalContextInterceptor(options)
          : null,
      inject: [AUTH_OPTIONS, MethodSecurityExplorer],
    },
    {
      provide: APP_INTERCEPTOR,
      useFactory: (
        options: ResolvedAuthOptions,
        host: HttpAdapterHost,
        coordinator: RenewalCoordinator | null,
      ) => (options.renewal ? new RenewalInterceptor(options, host, coordinator) : null),
      inject: [AUTH_OPTIONS, HttpAdapterHost, RENEWAL_COORDINATOR],
    },
    { provide: APP_FILTER, useClass: AuthExceptionFilter },
    { provide: APP_FILTER, useClass: ThrottleExceptionFilter },
  ],
  exports: [
    AUTH_OPTIONS,
    TokenVerifier,
    RevocationStore,
    RequestAuthenticator,
    ServiceIdentities,
    RequestThrottler,
    BearerGuard,
  ],
})
export class AuthModule
  extends ConfigurableAuthModule
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  constructor(
    @Inject(OWNED_REVOCATION_STORE)
    private readonly revocation: ReturnType<typeof createRevocationStore> | null,
    @Inject(OWNED_THROTTLE_STORAGE) private readonly throttleStorage: ThrottleStorage | null,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    const ready = this.revocation?.store.ready?.();
    if (ready === undefined) return;
    await Promise.race([
      ready,
      new Promise((resolve) => setTimeout(resolve, REVOCATION_LOAD_WAIT_MS).unref()),
    ]);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.revocation?.owned) await this.revocation.store.close();
    await this.throttleStorage?.close?.();
  }
}
