import type { INestApplication } from '@nestjs/common';
import type { KeyRing } from 'nest-tessera/issuer';
import type { RevocationStore } from 'nest-tessera';
import type { SampleConfig } from '../config.js';
import { createHttpApp, type HttpAppOptions } from '../http/create-app.js';
import { serviceTelemetry } from '../http/telemetry.js';
import { loadClients, loadUsers } from './accounts.js';
import { AuthServiceModule } from './auth-service.module.js';
import { openAuthStores } from './auth-stores.js';
import { loadKeyRing } from './signing-keys.js';

/** Options of `createAuthApp`. */
export interface AuthAppOptions extends HttpAppOptions {
  /** Signing keys to use instead of those `config` names (tests). */
  readonly keyRing?: KeyRing;
  /**
   * The revocation list shared with the orders service of the same process (`npm start`); unset:
   * one of the service's own, in Redis when a Redis is configured. The caller closes it.
   */
  readonly revocations?: RevocationStore;
}

/** The auth service as a Nest application, not yet listening. */
export async function createAuthApp(
  config: SampleConfig,
  options: AuthAppOptions,
): Promise<INestApplication> {
  const [keyRing, users, clients] = await Promise.all([
    options.keyRing ?? loadKeyRing(config.auth, config.production, options.logger),
    loadUsers(config.auth.usersFile),
    loadClients(),
  ]);
  const { events, registry } = serviceTelemetry(options.logger);
  const stores = openAuthStores(config, { shared: options.revocations, events });
  try {
    return await createHttpApp(
      AuthServiceModule.forRoot({
        config: config.auth,
        keyRing,
        users,
        clients,
        stores,
        events,
        registry,
        redis: config.redis !== undefined,
        logger: options.logger,
      }),
      options,
    );
  } catch (error) {
    await stores.close();
    throw error;
  }
}
