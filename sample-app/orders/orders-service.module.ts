import { type DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import {
  AuthModule,
  type AuthEvents,
  type AuthModuleOptions,
  type RevocationOptions,
  type ServiceIdentityOptions,
} from '../../lib/index.js';
import type { OrdersServiceConfig } from '../config.js';
import { HealthController } from '../http/health.controller.js';
import { ORDERS_SERVICE_CONFIG } from './orders-config.js';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';
import { ReportsJob } from './reports.job.js';

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

/** What the orders service shares with others: the revocation list, and where events go. */
export interface OrdersServiceLinks {
  readonly revocation: RevocationOptions;
  readonly events: AuthEvents;
}

/** Maps the orders configuration to the library's options (the library never reads env). */
export function authOptionsFor(
  config: OrdersServiceConfig,
  { revocation, events }: OrdersServiceLinks,
): AuthModuleOptions {
  return {
    issuers: config.trustedIssuers.map(({ issuer, jwksUri }) => ({ issuer, jwksUri })),
    audience: config.audience,
    clockToleranceSeconds: config.clockToleranceSeconds,
    jwks: { cooldownSeconds: config.jwksCooldownSeconds },
    // Besides Authorization: Bearer; a token in the query string is refused by the guard.
    tokenSources: { headers: ['x-access-token'], bodyField: 'access_token' },
    serviceIdentities: { 'reports-job': reportsIdentity(config) },
    // Standard routes check the local view and fail open (logged, counted) while Redis is down;
    // the sensitive scopes ask Redis itself and fail closed.
    revocation,
    events,
    // Renewal, throttling and /metrics (AuthEvents) plug in here as they come.
  };
}

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

/** The orders service: every route behind the bearer guard but `/health`. */
@Module({})
export class OrdersServiceModule {
  static forRoot(config: OrdersServiceConfig, links: OrdersServiceLinks): DynamicModule {
    const configModule = OrdersConfigModule.forRoot(config);
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
      ],
      controllers: [HealthController, OrdersController],
      providers: [OrdersService, ReportsJob],
    };
  }
}
