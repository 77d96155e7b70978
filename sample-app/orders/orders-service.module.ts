import { type DynamicModule, Module } from '@nestjs/common';
import { AuthModule, type AuthModuleOptions } from '../../lib/index.js';
import type { OrdersServiceConfig } from '../config.js';
import { HealthController } from '../http/health.controller.js';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';

/** Injection token of the orders service's `OrdersServiceConfig`. */
export const ORDERS_SERVICE_CONFIG = Symbol('OrdersServiceConfig');

/** Maps the orders configuration to the library's options (the library never reads env). */
export function authOptionsFor(config: OrdersServiceConfig): AuthModuleOptions {
  return {
    issuers: config.trustedIssuers.map(({ issuer, jwksUri }) => ({ issuer, jwksUri })),
    audience: config.audience,
    clockToleranceSeconds: config.clockToleranceSeconds,
    jwks: { cooldownSeconds: config.jwksCooldownSeconds },
    // Besides Authorization: Bearer; a token in the query string is refused by the guard.
    tokenSources: { headers: ['x-access-token'], bodyField: 'access_token' },
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
        AuthModule.forRootAsync({
          imports: [configModule],
          inject: [ORDERS_SERVICE_CONFIG],
          useFactory: authOptionsFor,
        }),
      ],
      controllers: [HealthController, OrdersController],
      providers: [OrdersService],
    };
  }
}
