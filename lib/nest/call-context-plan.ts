import { CONTROLLER_WATERMARK, GUARDS_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import {
  securedMemberOf,
  securedMembers,
  type SecuredMember,
} from '../authorization/secured-member.js';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import { BearerGuard } from './bearer.guard.js';
import { PublicRoute } from './public.decorator.js';
import { AnyOfScopes, RequiredScopes } from './scopes.decorator.js';
import { copyMetadata } from './secure.decorator.js';
import { MESSAGE_PATTERN } from './secured-class-check.js';

/** The injection token of the application's `CallContextPlan`. */
export const CALL_CONTEXT_PLAN = Symbol('CallContextPlan');

/** A route handler the guard checks whole, and the controllers that serve it. */
interface GuardedRoute {
  readonly member: SecuredMember;
  readonly controllers: readonly InstanceWrapper[];
}

/**
 * Whether this application runs requests and messages in a call context (which costs an
 * `AsyncLocalStorage` context and an interceptor per request), and, when it does not, the route
 * handlers whose rule the guard checks whole before Nest's router calls them.
 */
export interface CallContextPlan {
  readonly on: boolean;
  readonly guardedRoutes: readonly GuardedRoute[];
}

/**
 * The call context is off only while every secured member of the process is an HTTP route
 * handler whose whole rule (scopes, no `@Tenant`, no `@RunAs`) this application's guard checks
 * before the handler runs, on every controller that serves it: then Nest's router is given an
 * unchecked entry to each (see `openGuardedRoutes`), and every other way of calling them, having
 * no context, is refused.
 */
export function planCallContext(
  options: ResolvedAuthOptions,
  controllers: readonly InstanceWrapper[],
): CallContextPlan {
  if (options.principalContext === true) return { on: true, guardedRoutes: [] };
  const guardedRoutes: GuardedRoute[] = [];
  for (const member of securedMembers()) {
    const served = controllersServing(member, controllers);
    if (served === undefined || !served.every((wrapper) => guardChecks(member, wrapper, options))) {
      return { on: options.principalContext !== false, guardedRoutes: [] };
    }
    guardedRoutes.push({ member, controllers: served });
  }
  return { on: false, guardedRoutes };
}

/** Whether the guard checks all of `member`'s rule wherever this application routes to it. */
export function checkedByGuard(
  member: SecuredMember,
  options: ResolvedAuthOptions,
  controllers: readonly InstanceWrapper[],
): boolean {
  const served = controllersServing(member, controllers);
  return served !== undefined && served.every((wrapper) => guardChecks(member, wrapper, options));
}

/**
 * The controllers of this application that route to `member`, when it is a route handler a
 * guard could check whole (a scopes-only rule, ours directly over the application's function);
 * `undefined` when it is not.
 */
function controllersServing(
  member: SecuredMember,
  controllers: readonly InstanceWrapper[],
): InstanceWrapper[] | undefined {
  const rule = member.rule;
  const owner = (member.owner as { constructor?: unknown }).constructor as object;
  if (
    rule === undefined ||
    rule.tenant !== undefined ||
    member.runAs !== undefined ||
    Reflect.getMetadata(CONTROLLER_WATERMARK, owner) !== true ||
    Reflect.getMetadata(PATH_METADATA, member.fn) === undefined ||
    // A message handler too: no guard runs before it without the context's interceptor.
    Reflect.getMetadata(MESSAGE_PATTERN, member.fn) !== undefined ||
    Object.getOwnPropertyDescriptor(member.owner, member.key)?.value !== member.fn ||
    securedMemberOf(member.original) !== undefined
  ) {
    return undefined;
  }
  return controllers.filter((wrapper) => {
    const type = wrapper.metatype as { prototype?: Record<string | symbol, unknown> } | null;
    return type?.prototype?.[member.key] === member.fn;
  });
}

/** What the guard reads on this controller's route to `member` covers its whole rule. */
function guardChecks(
  member: SecuredMember,
  wrapper: InstanceWrapper,
  options: ResolvedAuthOptions,
): boolean {
  const type = wrapper.metatype as object;
  // The guard's own reading: the handler's metadata, else its controller's (inherited too).
  const read = <T>(key: string): T | undefined =>
    (Reflect.getMetadata(key, member.fn) ?? Reflect.getMetadata(key, type)) as T | undefined;
  const publicKeys = [PublicRoute.KEY, options.publicMetadataKey];
  if (!wrapper.isDependencyTreeStatic()) return false;
  if (publicKeys.some((key) => key !== undefined && read<unknown>(key) === true)) return false;
  const scopes = read<readonly string[]>(RequiredScopes.KEY) ?? [];
  const rule = member.rule!;
  if (!rule.scopes.every((scope) => scopes.includes(scope))) return false;
  // The guard's one-of implies the rule's when each of its alternatives is one of the rule's.
  const anyOf = read<readonly string[]>(AnyOfScopes.KEY) ?? [];
  if (
    rule.anyScopes.length > 0 &&
    (anyOf.length === 0 || !anyOf.every((scope) => rule.anyScopes.includes(scope)))
  ) {
    return false;
  }
  return options.globalGuard || [member.fn, type].some(hasBearerGuard);
}

/** The entries this module put on its controllers, to take back what the router did not read. */
const ENTRY = Symbol('nest-tessera.routerEntry');

/**
 * While Nest registers this application's routes, each guarded route handler is read from its
 * controller instance (`instance[method]`, which Nest routes to) once through an unchecked entry:
 * the router's read. The entry is an accessor of the instance that removes itself on that read,
 * so anything reading later, or another application sharing the class, gets the checked method.
 */
export function openGuardedRoutes(plan: CallContextPlan): void {
  for (const { member, controllers } of plan.guardedRoutes) {
    const original = member.original;
    const entry = function (this: unknown, ...args: unknown[]): unknown {
      return Reflect.apply(original, this, args);
    };
    Object.defineProperty(entry, 'name', { value: original.name });
    copyMetadata(member.fn, entry);
    // The instances as built by now (planned before they were, the wrappers held placeholders).
    for (const instance of instancesOf(controllers)) {
      const get = Object.assign(
        function (this: object): unknown {
          delete (this as Record<string | symbol, unknown>)[member.key];
          return entry;
        },
        { [ENTRY]: true },
      );
      Object.defineProperty(instance, member.key, { configurable: true, enumerable: false, get });
    }
  }
}

/** Takes back the entries the router did not read (no route registered for them). */
export function closeGuardedRoutes(plan: CallContextPlan): void {
  for (const { member, controllers } of plan.guardedRoutes) {
    for (const instance of instancesOf(controllers)) {
      const own = Object.getOwnPropertyDescriptor(instance, member.key);
      if ((own?.get as { [ENTRY]?: boolean } | undefined)?.[ENTRY] === true) {
        delete (instance as Record<string | symbol, unknown>)[member.key];
      }
    }
  }
}

function instancesOf(controllers: readonly InstanceWrapper[]): object[] {
  return controllers
    .map((wrapper): unknown => wrapper.instance)
    .filter((instance): instance is object => typeof instance === 'object' && instance !== null);
}

/** `@UseGuards(BearerGuard)` itself: a subclass may check other scopes than the rule's. */
function hasBearerGuard(target: object): boolean {
  const guards = (Reflect.getMetadata(GUARDS_METADATA, target) ?? []) as unknown[];
  return guards.some(
    (guard) =>
      guard === BearerGuard ||
      (guard instanceof BearerGuard && Object.getPrototypeOf(guard) === BearerGuard.prototype),
  );
}
