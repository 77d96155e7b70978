import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuthError } from '../errors/auth-errors.js';
import type { Principal } from '../verify/principal.js';

/** Who the current call runs as, and whether it may cross tenants. */
export interface CallIdentity {
  readonly principal: Principal;
  /** Granted explicitly to a service identity; never to a token's principal. */
  readonly crossTenant: boolean;
}

/** Told of every refused call into a protected method. */
export type DeniedListener = (event: { method: string; error: AuthError }) => void;

/**
 * The context a call runs in: a request or message (its verified caller, none when anonymous),
 * a service identity (`@RunAs`), or an explicit `runAs`. Outside any context (a timer, start-up)
 * there is none at all, which is not the same as an anonymous request.
 */
export interface CallContext {
  readonly identity: CallIdentity | undefined;
  /** The module's `accessDenied` hook, for refusals inside this context. */
  readonly onDenied?: DeniedListener;
}

const storage = new AsyncLocalStorage<CallContext>();

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
  return storage.run({ identity: { principal, crossTenant: options.crossTenant ?? false } }, fn);
}

/** Runs `fn` inside `context`. */
export function runInContext<T>(context: CallContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The context of the current call, if it runs in one. */
export function currentContext(): CallContext | undefined {
  return storage.getStore();
}

/** The identity of the current call, if any. */
export function currentIdentity(): CallIdentity | undefined {
  return storage.getStore()?.identity;
}

/** The principal of the current call, if any. */
export function currentPrincipal(): Principal | undefined {
  return storage.getStore()?.identity?.principal;
}
