import { type DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import type { Registry } from 'prom-client';
import {
  AuthModule,
  RemoteTokenRenewer,
  type AuthEvents,
  type AuthModuleOptions,
  type BreakerState,
  type RedisBackend,
  type RenewalOptions,
  type RevocationOptions,
  type ServiceIdentityOptions,
} from 'nest-tessera';
import type { OrdersServiceConfig } from '../config.js';
import { redisPart } from '../http/health.js';
import { HealthModule } from '../http/health.module.js';
import { MetricsController } from '../http/metrics.controller.js';
import { METRICS_REGISTRY } from '../http/telemetry.js';
import { trustedIssuerOptions } from './issuer-options.js';
import { jwksPart } from './jwks-health.js';
import { ORDERS_SERVICE_CONFIG } from './orders-config.js';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';
import { ReportsJob } from './reports.job.js';
import { throttling } from './throttling.js';

/**
 * The report job's identity: the `reports-job` client's token from the issuer when its secret is
 * configured, else a locally declared principal with the same tenant and scope.
 */
function reportsIdentity(config: OrdersServiceConfig): ServiceIdentityOptions {
  const { tokenEndpoint, clientId, clientSecret } = config.reports;
  if (clientSecret !== undefined) {
    return { clientCredentials: { tokenEndpoint, clientId, clientSecret } };
  }
  return { principal: { subject: clientId, scopes: ['orders:read'], tenant: 'seller-a' } };
}

/** The header that carries a renewed access token (CONTRACT.md). */
export const RENEWED_TOKEN_HEADER = 'X-Renewed-Token';

/**
 * What the orders service shares with others: the revocation list and the throttle counters,
 * where events go, and the parts `/health` and `/metrics` report on.
 */
export interface OrdersServiceLinks {
  readonly revocation: RevocationOptions;
  /**
   * Redis for the revocation list (unless `revocation.store` is given) and the throttle counters,
   * shared by every instance; `/health` then reports it. Unset: in memory.
   */
  readonly redis?: RedisBackend;
  /** Prefix of the throttle counters in Redis. */
  readonly throttleKeyPrefix?: string;
  /** Prefix of the DPoP proofs accepted, in Redis: every instance refuses the others' replays. */
  readonly dpopKeyPrefix?: string;
  /** Metrics and the JSON event log. */
  readonly events: AuthEvents;
  /** The sample issuer (`AUTH_ISSUER`): only its session tokens are renewed. */
  readonly authIssuer: string;
  /** The renewal endpoint's circuit breaker changed state (for the log). */
  readonly onRenewalBreakerChange?: (state: BreakerState) => void;
  readonly registry: Registry;
}

/** Maps the orders configuration to the library's options (the library never reads env). */
export function authOptionsFor(
  config: OrdersServiceConfig,
  links: OrdersServiceLinks,
): AuthModuleOptions {
  const { revocation, events, redis } = links;
  return {
    issuers: config.trustedIssuers.map((entry) => trustedIssuerOptions(entry)),
    audience: config.audience,
    clockToleranceSeconds: config.clockToleranceSeconds,
    jwks: { cooldownSeconds: config.jwksCooldownSeconds },
    // Besides Authorization: Bearer; a token in the query string is refused by the guard.
    tokenSources: { headers: ['x-access-token'], bodyField: 'access_token' },
    // Bound tokens as `Authorization: DPoP` with a proof; `DPOP_REQUIRED=true` refuses the rest.
    // Proofs name `http://` + Host + path: the sample serves plain HTTP.
    dpop: {
      required: config.dpopRequired,
      ...(links.dpopKeyPrefix !== undefined && { keyPrefix: links.dpopKeyPrefix }),
    },
    serviceIdentities: { 'reports-job': reportsIdentity(config) },
    // Standard routes check the local view and fail open (logged, counted) while Redis is down;
    // the sensitive scopes ask Redis itself and fail closed.
    redis,
    revocation,
    events,
    renewal: renewalOptions(config, links),
    requireHttps: config.requireHttps,
  };
}

/**
 * Sliding renewal through the issuer's `POST /auth/renew` (orders holds no private key), for the
 * sample issuer's session tokens only; off with `RENEW_WINDOW=0`, or when orders does not trust
 * that issuer at all.
 */
function renewalOptions(
  config: OrdersServiceConfig,
  { authIssuer, onRenewalBreakerChange }: OrdersServiceLinks,
): RenewalOptions | undefined {
  const trusted = config.trustedIssuers.some(({ issuer }) => issuer === authIssuer);
  if (config.renewWindowSeconds === 0 || !trusted) return undefined;
  return {
    renewer: new RemoteTokenRenewer({
      url: config.renewUrl,
      onBreakerStateChange: onRenewalBreakerChange,
      requireHttps: config.requireHttps,
    }),
    windowSeconds: config.renewWindowSeconds,
    header: RENEWED_TOKEN_HEADER,
    issuers: [authIssuer],
  };
}

/**
 * Redis down: the standard routes answer from the local revocation view (fail-open, logged), the
 * sensitive ones are refused, throttling lets requests through. Reads go on, and every instance
 * shares that Redis: degraded, not out.
 */
const REDIS_DOWN =
  'unreachable: reads served from the local revocation view, deletes refused, throttling off';

@Module({})
class OrdersConfigModule {
  static forRoot(config: OrdersServiceConfig): DynamicModule {
    return {
      module: OrdersConfigModule,
      providers: [{ provide: ORDERS_SERVICE_CONFIG, useValue: config }],
      exports: [ORDERS_SERVICE_CONFIG],
    };
  }
}

/** The orders service: every route behind the bearer guard but `/health` and `/metrics`. */
@Module({})
export class OrdersServiceModule {
  static forRoot(config: OrdersServiceConfig, links: OrdersServiceLinks): DynamicModule {
    const configModule = OrdersConfigModule.forRoot(config);
    const throttled = throttling(config, {
      redis: links.redis,
      keyPrefix: links.throttleKeyPrefix,
    });
    return {
      module: OrdersServiceModule,
      imports: [
        configModule,
        ScheduleModule.forRoot(),
        AuthModule.forRootAsync({
          imports: [configModule],
          inject: [ORDERS_SERVICE_CONFIG],
          useFactory: (config: OrdersServiceConfig) => authOptionsFor(config, links),
        }),
        HealthModule.forRoot((auth) => [
          ...(links.redis !== undefined ? [redisPart(auth, 'degraded', REDIS_DOWN)] : []),
          jwksPart(auth),
        ]),
        ...throttled.imports,
      ],
      controllers: [MetricsController, OrdersController],
      providers: [
        // Before AuthModule's bearer guard: this module's own guards run first.
        ...throttled.providers,
        OrdersService,
        ReportsJob,
        { provide: METRICS_REGISTRY, useValue: links.registry },
      ],
    };
  }
}
