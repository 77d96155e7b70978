import type { INestApplication } from '@nestjs/common';
import { AuthConfigError, MemoryRevocationStore, type RevocationStore } from 'nest-tessera';
import { createAuthApp } from './auth/auth-app.js';
import { ConfigError, readConfig, type SampleConfig } from './config.js';
import type { HttpAppOptions } from './http/create-app.js';
import { JsonLogger } from './http/json-logger.js';
import { createOrdersApp } from './orders/orders-app.js';

/** A service of the sample app. */
export type ServiceName = 'auth' | 'orders';

/** How `launch` builds a service: its logger, and the stores the services of the process share. */
interface ServiceOptions extends HttpAppOptions {
  readonly revocations?: RevocationStore;
}

interface ServiceDefinition {
  readonly create: (config: SampleConfig, options: ServiceOptions) => Promise<INestApplication>;
  readonly port: (config: SampleConfig) => number;
}

const SERVICES: Record<ServiceName, ServiceDefinition> = {
  auth: { create: createAuthApp, port: (config) => config.auth.port },
  orders: { create: createOrdersApp, port: (config) => config.orders.port },
};

/** How long a shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Starts the services in order (auth before orders, whose JWKS comes from auth), each listening
 * once the previous one is, and closes them in reverse order on SIGINT or SIGTERM. A start-up
 * failure is one JSON log line and exit code 1. Without `REDIS_URL` the services of this process
 * share one in-memory revocation list, so a logout or a detected reuse at the auth service is
 * honoured by the orders service at once; with it, each service opens its own Redis connections.
 */
export async function launch(services: readonly ServiceName[]): Promise<void> {
  const logger = new JsonLogger('sample-app');
  const running: INestApplication[] = [];
  let revocations: RevocationStore | undefined;
  let stopping = false;
  const stop = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(exitCode), SHUTDOWN_GRACE_MS).unref();
    for (const app of running.reverse()) await app.close().catch(() => undefined);
    await revocations?.close();
    process.exitCode = exitCode;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      logger.log('shutting down', { signal });
      void stop(0);
    });
  }
  try {
    const config = await readConfig();
    if (config.redis === undefined) revocations = new MemoryRevocationStore();
    for (const name of services) {
      const service = SERVICES[name];
      const app = await service.create(config, {
        adapter: config.httpAdapter,
        logger: new JsonLogger(name),
        revocations,
      });
      running.push(app);
      await app.listen(service.port(config), config.host);
      logger.log(`${name} service listening`, { url: await app.getUrl() });
    }
  } catch (error) {
    logger.error(startupFailure(error));
    await stop(1);
  }
}

function startupFailure(error: unknown): string {
  const known = error instanceof ConfigError || error instanceof AuthConfigError;
  if (known) return `cannot start: ${error.message}`;
  const cause = error as NodeJS.ErrnoException;
  if (cause?.code === 'EADDRINUSE') return `cannot start: ${cause.message} (the port is taken)`;
  return `cannot start: ${cause?.stack ?? String(error)}`;
}
