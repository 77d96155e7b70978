import {
  type DynamicModule,
  type HttpServer,
  Inject,
  Module,
  type NestModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  APP_FILTER,
  APP_GUARD,
  APP_INTERCEPTOR,
  ApplicationConfig,
  DiscoveryModule,
  DiscoveryService,
  HttpAdapterHost,
} from '@nestjs/core';
import { RequestAuthenticator } from '../authentication/request-authenticator.js';
import { ServiceIdentities } from '../authorization/service-identities.js';
import type { AuthModuleOptions } from '../options/auth-options.js';
import { openRedisBackend } from '../options/open-redis-backend.js';
import type { RedisBackendConnection } from '../options/redis-backend.js';
import { resolveAuthOptions, type ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import { createRevocationStore } from '../options/create-revocation-store.js';
import { RevocationChecker } from '../revocation/revocation-checker.js';
import { RevocationStore } from '../revocation/revocation-store.js';
import { createTokenVerifier } from '../options/create-token-verifier.js';
import { createDpopPolicy } from '../options/create-dpop-policy.js';
import { DpopProofVerifier } from '../dpop/dpop-proof-verifier.js';
import type { DpopPolicy } from '../dpop/dpop-request.js';
import { createKeySources, type IssuerKeySources } from '../options/create-key-sources.js';
import { loadTracing } from '../observability/load-tracing.js';
import type { TraceHooks } from '../trace-hooks.js';
import { TokenVerifier } from '../verify/token-verifier.js';
import { AuthExceptionFilter } from './auth-exception.filter.js';
import {
  AUTH_MODULE_OPTIONS,
  AUTH_OPTIONS,
  ConfigurableAuthModule,
  type AuthModuleAsyncOptions,
  type AuthModuleRootOptions,
} from './auth.module-definition.js';
import { BearerGuard, GlobalBearerGuard } from './bearer.guard.js';
import {
  CALL_CONTEXT_PLAN,
  openGuardedRoutes,
  planCallContext,
  type CallContextPlan,
} from './call-context-plan.js';
import { openRequestContexts } from './request-contexts.js';
import { MethodSecurityExplorer } from './method-security.explorer.js';
import { PassportChallengeFilter } from './passport-challenge.filter.js';
import { RevocationOffCheck } from './revocation-off.check.js';
import { PrincipalContextInterceptor } from './principal-context.interceptor.js';
import { RENEWAL_COORDINATOR, RenewalInterceptor } from './renewal.interceptor.js';
import { RenewalCoordinator } from '../renewal/renewal-coordinator.js';

const REDIS_CONNECTION = Symbol('RedisConnection');
const TRACE_HOOKS = Symbol('TraceHooks');
const OWNED_REVOCATION_STORE = Symbol('OwnedRevocationStore');
const DPOP_POLICY = Symbol('DpopPolicy');
const KEY_SOURCES = Symbol('IssuerKeySources');
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
    { provide: TRACE_HOOKS, useFactory: loadTracing },
    {
      provide: KEY_SOURCES,
      useFactory: (options: ResolvedAuthOptions, trace: TraceHooks) =>
        createKeySources(options, trace),
      inject: [AUTH_OPTIONS, TRACE_HOOKS],
    },
    {
      provide: TokenVerifier,
      useFactory: (options: ResolvedAuthOptions, trace: TraceHooks, keys: IssuerKeySources) =>
        createTokenVerifier(options, trace, keys.sources),
      inject: [AUTH_OPTIONS, TRACE_HOOKS, KEY_SOURCES],
    },
    {
      // This module instance's own connection: never shared with another application.
      provide: REDIS_CONNECTION,
      useFactory: (options: ResolvedAuthOptions) => openRedisBackend(options) ?? null,
      inject: [AUTH_OPTIONS],
    },
    {
      provide: OWNED_REVOCATION_STORE,
      useFactory: (options: ResolvedAuthOptions, redis: RedisBackendConnection | null) =>
        createRevocationStore(options, redis ?? undefined) ?? null,
      inject: [AUTH_OPTIONS, REDIS_CONNECTION],
    },
    {
      provide: RevocationStore,
      useFactory: (created: ReturnType<typeof createRevocationStore> | null) =>
        created?.store ?? null,
      inject: [OWNED_REVOCATION_STORE],
    },
    {
      provide: DPOP_POLICY,
      useFactory: (options: ResolvedAuthOptions, redis: RedisBackendConnection | null) =>
        createDpopPolicy(options, redis ?? undefined) ?? null,
      inject: [AUTH_OPTIONS, REDIS_CONNECTION],
    },
    {
      // The proof checks of this module, for an issuer's token endpoints (null when DPoP is off).
      provide: DpopProofVerifier,
      useFactory: (policy: DpopPolicy | null) => policy?.proofs ?? null,
      inject: [DPOP_POLICY],
    },
    {
      provide: RequestAuthenticator,
      useFactory: (
        options: ResolvedAuthOptions,
        verifier: TokenVerifier,
        store: RevocationStore | null,
        trace: TraceHooks,
        dpop: DpopPolicy | null,
      ) =>
        new RequestAuthenticator(
          verifier,
          store && options.revocation
            ? new RevocationChecker(store, options.revocation.onOutage, options.events, trace)
            : undefined,
          options.tokenSources,
          dpop ?? undefined,
        ),
      inject: [AUTH_OPTIONS, TokenVerifier, RevocationStore, TRACE_HOOKS, DPOP_POLICY],
    },
    {
      provide: ServiceIdentities,
      useFactory: (options: ResolvedAuthOptions, authenticator: RequestAuthenticator) =>
        new ServiceIdentities(options.serviceIdentities, authenticator, options.now, options.fetch),
      inject: [AUTH_OPTIONS, RequestAuthenticator],
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
    BearerGuard,
    {
      provide: CALL_CONTEXT_PLAN,
      useFactory: (options: ResolvedAuthOptions, discovery: DiscoveryService) =>
        planCallContext(options, discovery.getControllers()),
      inject: [AUTH_OPTIONS, DiscoveryService],
    },
    MethodSecurityExplorer,
    RevocationOffCheck,
    { provide: APP_GUARD, useClass: GlobalBearerGuard },
    // Interceptors put every request through an rxjs pipeline: each is registered only when it
    // has work to do (a factory that returns null registers nothing).
    {
      provide: APP_INTERCEPTOR,
      useFactory: (options: ResolvedAuthOptions, plan: CallContextPlan) =>
        plan.on ? new PrincipalContextInterceptor(options) : null,
      inject: [AUTH_OPTIONS, CALL_CONTEXT_PLAN],
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
    {
      // AuthGuard()'s own refusal, answered by RFC 6750 too when a strategy of
      // nest-tessera/passport refused the request; anything else goes where it would without it.
      provide: APP_FILTER,
      useFactory: (
        options: ResolvedAuthOptions,
        host: HttpAdapterHost,
        application: ApplicationConfig,
      ) => new PassportChallengeFilter(new AuthExceptionFilter(host, options), host, application),
      inject: [AUTH_OPTIONS, HttpAdapterHost, ApplicationConfig],
    },
  ],
  exports: [
    AUTH_OPTIONS,
    TokenVerifier,
    RevocationStore,
    RequestAuthenticator,
    ServiceIdentities,
    BearerGuard,
    DpopProofVerifier,
  ],
})
export class AuthModule implements NestModule, OnApplicationBootstrap, OnApplicationShutdown {
  /** The module with these options. */
  static forRoot(options: AuthModuleRootOptions): DynamicModule {
    return { ...ConfigurableAuthModule.forRoot(options), module: AuthModule };
  }

  /** The module with options from a factory, class or existing provider (e.g. `ConfigService`). */
  static forRootAsync(options: AuthModuleAsyncOptions): DynamicModule {
    return { ...ConfigurableAuthModule.forRootAsync(options), module: AuthModule };
  }

  /** @internal */
  constructor(
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
    @Inject(OWNED_REVOCATION_STORE)
    private readonly revocation: ReturnType<typeof createRevocationStore> | null,
    @Inject(REDIS_CONNECTION) private readonly redis: RedisBackendConnection | null,
    @Inject(CALL_CONTEXT_PLAN) private readonly plan: CallContextPlan,
    @Inject(KEY_SOURCES) private readonly keySources: IssuerKeySources,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** What puts the HTTP server's own request listeners back, once requests get contexts. */
  private closeRequestContexts: (() => void) | undefined;

  /**
   * Called by Nest before it registers routes: every HTTP request gets its call context from
   * the adapter on, or, with the context off, the router is given the guarded routes' entries
   * (the explorer takes back any it did not read once routes are registered).
   */
  configure(): void {
    if (!this.plan.on) {
      openGuardedRoutes(this.plan);
      return;
    }
    const adapter = this.adapterHost.httpAdapter as HttpServer | undefined;
    if (adapter === undefined || this.closeRequestContexts !== undefined) return;
    this.closeRequestContexts = openRequestContexts(adapter, (event) =>
      this.options.events.accessDenied?.(event),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    // Not before: a provider or an onModuleInit that fails after the backend was built must leave
    // no connection open, since no shutdown hook runs then.
    this.redis?.connect();
    // Issuers configured for discovery are looked up in the background: start-up never waits.
    this.keySources.start();
    const ready = this.revocation?.store.ready?.();
    if (ready === undefined) return;
    await Promise.race([
      ready,
      new Promise((resolve) => setTimeout(resolve, REVOCATION_LOAD_WAIT_MS).unref()),
    ]);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closeRequestContexts?.();
    this.keySources.close();
    if (this.revocation?.owned) await this.revocation.store.close();
    // Last: the stores built on it are closed with it, the connection only if it was opened here.
    await this.redis?.close();
  }
}
