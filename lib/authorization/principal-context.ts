import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from '../verify/principal.js';

/** Who the current call runs as, and whether it may cross tenants. */
export interface CallIdentity {
  readonly principal: Principal;
  /** Granted explicitly to a service identity; never to a token's principal. */
  readonly crossTenant: boolean;
}

const storage = new AsyncLocalStorage<CallIdentity>();

/**
 * Runs `fn` as `principal`: every protected method it calls, however deep and across awaits,
 * is checked against this principal.
 * @example await runAs(reportsPrincipal, () => orders.list('seller-a'));
 */
export function runAs<T>(
  principal: Principal,
  fn: () => T,
  options: { crossTenant?: boolean } = {},
): T {
  return storage.run({ principal, crossTenant: options.crossTenant ?? false }, fn);
}

/** The identity of the current call, if any. */
export function currentIdentity(): CallIdentity | undefined {
  return storage.getStore();
}

/** The principal of the current call, if any. */
export function currentPrincipal(): Principal | undefined {
  return storage.getStore()?.principal;
}
