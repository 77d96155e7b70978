import type { INestApplication } from '@nestjs/common';
import type { RevocationOptions, RevocationStore } from 'nest-tessera';
import { redis } from 'nest-tessera/redis';
import { redisKeyPrefixes, type SampleConfig } from '../config.js';
import { createHttpApp, type HttpAppOptions } from '../http/create-app.js';
import { serviceTelemetry } from '../http/telemetry.js';
import { OrdersServiceModule } from './orders-service.module.js';

/** Options of `createOrdersApp`. */
export interface OrdersAppOptions extends HttpAppOptions {
  /**
   * The revocation list shared with the auth service of the same process (`npm start`); unset:
   * one of the service's own, in Redis when a Redis is configured. The caller closes it.
   */
  readonly revocations?: RevocationStore;
}

/** Routes that delete are checked against Redis itself and refused while it cannot answer. */
export const SENSITIVE_SCOPES = ['orders:delete'];

/** The orders service as a Nest application, not yet listening. */
export function createOrdersApp(
  config: SampleConfig,
  options: OrdersAppOptions,
): Promise<INestApplication> {
  const { logger } = options;
  const telemetry = serviceTelemetry(logger);
  return createHttpApp(
    OrdersServiceModule.forRoot(config.orders, {
      revocation: revocationOptions(config, options.revocations),
      events: telemetry.events,
      authIssuer: config.auth.issuer,
      redis: config.redis === undefined ? undefined : redis(config.redis),
      throttleKeyPrefix: redisKeyPrefixes(config).throttle,
      dpopKeyPrefix: redisKeyPrefixes(config).dpop,
      onRenewalBreakerChange: (state) =>
        logger.log('renewal circuit breaker', { event: 'renewal_breaker', state }),
      registry: telemetry.registry,
    }),
    options,
  );
}

/**
 * A shared store as it is; else the module's own, in Redis (when one is configured) under the auth
 * service's prefix, or in memory.
 */
function revocationOptions(config: SampleConfig, shared?: RevocationStore): RevocationOptions {
  const sensitiveScopes = SENSITIVE_SCOPES;
  if (shared !== undefined) return { store: shared, sensitiveScopes };
  return { keyPrefix: redisKeyPrefixes(config).revocation, sensitiveScopes };
}
