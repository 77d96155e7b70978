import type { INestApplication } from '@nestjs/common';
import type { KeyRing } from '../../lib/index.js';
import type { SampleConfig } from '../config.js';
import { createHttpApp, type HttpAppOptions } from '../http/create-app.js';
import { loadClients, loadUsers } from './accounts.js';
import { AuthServiceModule } from './auth-service.module.js';
import { loadKeyRing } from './signing-keys.js';

/** Options of `createAuthApp`. */
export interface AuthAppOptions extends HttpAppOptions {
  /** Signing keys to use instead of those `config` names (tests). */
  readonly keyRing?: KeyRing;
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
  return createHttpApp(
    AuthServiceModule.forRoot({ config: config.auth, keyRing, users, clients }),
    options,
  );
}
