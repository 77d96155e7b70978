import { Logger } from '@nestjs/common';
import { GlobalBearerGuard } from '../nest/bearer.guard.js';

/**
 * Whether `throttler` runs after `AuthModule`'s global bearer guard, given the application's
 * global guards in the order Nest runs them: the root module's first, then each imported module's,
 * in the order of the imports (so a guard registered in a feature module imported after `AuthModule`
 * comes after its bearer guard). A throttler guard that is not global (`@UseGuards()`) runs after
 * every global guard.
 */
export function runsAfterGlobalBearerGuard(
  globalGuards: readonly unknown[],
  throttler: object,
): boolean {
  const bearer = globalGuards.findIndex(
    (guard) => guard instanceof GlobalBearerGuard && guard.authenticates,
  );
  if (bearer === -1) return false;
  const own = globalGuards.indexOf(throttler);
  return own === -1 || own > bearer;
}

const logger = new Logger('ConsumerThrottlerGuard');
const warned = new WeakSet<object>();

/**
 * Says once per application that its throttler guard runs after the guard that authenticates
 * requests, and how to fix it: a request that guard refuses never reaches the throttler, so a
 * flood of bad tokens is never throttled.
 */
export function warnThrottledAfterAuthentication(application: object): void {
  if (warned.has(application)) return;
  warned.add(application);
  logger.warn(
    'ConsumerThrottlerGuard runs after the guard that authenticates requests, so the requests ' +
      'that guard refuses (bad tokens included) are never counted nor throttled. Register it as ' +
      '{ provide: APP_GUARD, useClass: ConsumerThrottlerGuard } in the providers of the module that ' +
      'imports AuthModule (the root module), not in a module imported after AuthModule nor with ' +
      '@UseGuards() (docs/throttling.md, "Wiring it").',
  );
}
