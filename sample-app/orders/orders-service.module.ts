import { type DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import {
  AuthModule,
  type AuthModuleOptions,
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

/** Maps the orders configuration to the library's options (the library never reads env). */
export function authOptionsFor(config: OrdersServiceConfig): AuthModuleOptions {
  return {
    issuers: config.trustedIssuers.map(({ issuer, jwksUri }) => ({ issuer, jwksUri })),
    audience: config.audience,
    clockToleranceSeconds: config.clockToleranceSeconds,
    jwks: { cooldownSeconds: config.jwksCooldownSeconds },
    // Besides Authorization: Bearer; a token in the query string is refused by the guard.
    tokenSources: { headers: ['x-access-token'], bodyField: 'access_token' },
    serviceIdentities: { 'reports-job': reportsIdentity(config) },
    // Revocation, renewal, throttling and /metrics (AuthEvents) plug in here as they come.
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
  static forRoot(config: OrdersServiceConfig): DynamicModule {
    const configModule = OrdersConfigModule.forRoot(config);
    return {
      module: OrdersServiceModule,
      imports: [
        configModule,
        ScheduleModule.forRoot(),
        AuthModule.forRootAsync({
          imports: [configModule],
          inject: [ORDERS_SERVICE_CONFIG],
          useFactory: authOptionsFor,
        }),
      ],
      controllers: [HealthController, OrdersController],
      providers: [OrdersService, ReportsJob],
    };
  }
}
