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
 * The context a call runs in: a request or message (its verified caller, none while anonymous),
 * a service identity (`@RunAs`), or an explicit `runAs`. Outside any context (a timer started at
 * start-up, a scheduler tick) there is none at all, which is not the same as an anonymous
 * request.
 */
export interface CallContext {
  /** Who calls. A request's context receives its caller once the guard has verified it. */
  identity: CallIdentity | undefined;
  /** The module's `accessDenied` hook, for refusals inside this context. */
  readonly onDenied?: DeniedListener;
  /** The request (adapter or Node request object) this context was opened for. */
  readonly request?: object;
  /**
   * Set once the request is answered or the lent call has settled: work it left behind (a timer,
   * a socket's callbacks) runs with no identity from then on.
   */
  closed: boolean;
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
  const identity = { principal, crossTenant: options.crossTenant ?? false };
  return storage.run({ identity, closed: false }, fn);
}

/** Runs `fn` inside `context`. */
export function runInContext<T>(context: CallContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The context of the current call, if it runs in one. */
export function currentContext(): CallContext | undefined {
  return storage.getStore();
}

/** The principal of the current call, if any (none once its context is closed). */
export function currentPrincipal(): Principal | undefined {
  const context = storage.getStore();
  return context === undefined || context.closed ? undefined : context.identity?.principal;
}
