import { CONTROLLER_WATERMARK, GUARDS_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import {
  securedMemberOf,
  securedMembers,
  type SecuredMember,
} from '../authorization/secured-member.js';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import { BearerGuard } from './bearer.guard.js';
import { RequiredScopes } from './scopes.decorator.js';
import { copyMetadata } from './secure.decorator.js';

/** The injection token of the application's `CallContextPlan`. */
export const CALL_CONTEXT_PLAN = Symbol('CallContextPlan');

/**
 * Whether this application runs requests and messages in a call context (which costs an
 * `AsyncLocalStorage` context and an interceptor per request), and, when it does not, the route
 * handlers whose rule the guard checks whole before Nest's router calls them.
 */
export interface CallContextPlan {
  readonly on: boolean;
  /** Handlers Nest's router gets an unchecked entry to (the guard checks them first). */
  readonly guardedRoutes: readonly SecuredMember[];
}

/**
 * The call context is off only while every secured member of the process is an HTTP route
 * handler whose whole rule (scopes, no `@Tenant`, no `@RunAs`) this application's guard checks
 * before the handler runs: then Nest's router is given an unchecked entry to each (see
 * `openGuardedRoutes`), and every other way of calling them, having no context, is refused.
 */
export function planCallContext(options: ResolvedAuthOptions): CallContextPlan {
  if (options.principalContext === true) return { on: true, guardedRoutes: [] };
  const guardedRoutes: SecuredMember[] = [];
  for (const member of securedMembers()) {
    if (!checkedByGuard(member, options)) {
      return { on: options.principalContext !== false, guardedRoutes: [] };
    }
    guardedRoutes.push(member);
  }
  return { on: false, guardedRoutes };
}

/** Whether the guard checks all of `member`'s rule before Nest's router calls it. */
export function checkedByGuard(member: SecuredMember, options: ResolvedAuthOptions): boolean {
  const rule = member.rule;
  const type = (member.owner as { constructor?: unknown }).constructor as object;
  if (
    rule === undefined ||
    rule.tenant !== undefined ||
    member.runAs !== undefined ||
    Reflect.getMetadata(CONTROLLER_WATERMARK, type) !== true ||
    Reflect.getMetadata(PATH_METADATA, member.fn) === undefined ||
    // Ours must be the function Nest routes to, directly over the application's own.
    !isInPlace(member) ||
    securedMemberOf(member.original) !== undefined
  ) {
    return false;
  }
  // What the guard reads: the handler's scopes, else its controller's.
  const guardScopes = (Reflect.getMetadata(RequiredScopes.KEY, member.fn) ??
    Reflect.getMetadata(RequiredScopes.KEY, type) ??
    []) as readonly string[];
  if (!rule.scopes.every((scope) => guardScopes.includes(scope))) return false;
  return options.globalGuard || [member.fn, type].some(hasBearerGuard);
}

/** How many applications are registering their routes with each entry in place. */
const openEntries = new WeakMap<SecuredMember, { entry: unknown; count: number }>();

/**
 * Puts an unchecked entry (the application's own function, with the route's metadata) in place
 * of each guarded route handler while Nest registers its routes: the router keeps it, and the
 * guard checks the route before calling it. `closeGuardedRoutes` puts the checked ones back,
 * which is what any other code then finds.
 */
export function openGuardedRoutes(plan: CallContextPlan): void {
  for (const member of plan.guardedRoutes) {
    const open = openEntries.get(member);
    if (open !== undefined) {
      open.count += 1;
      continue;
    }
    const original = member.original;
    const entry = function (this: unknown, ...args: unknown[]): unknown {
      return Reflect.apply(original, this, args);
    };
    Object.defineProperty(entry, 'name', { value: original.name });
    copyMetadata(member.fn, entry);
    openEntries.set(member, { entry, count: 1 });
    replace(member, entry);
  }
}

/** Puts the checked handlers back once the routes are registered. */
export function closeGuardedRoutes(plan: CallContextPlan): void {
  for (const member of plan.guardedRoutes) {
    const open = openEntries.get(member);
    if (open === undefined) continue;
    open.count -= 1;
    if (open.count > 0) continue;
    openEntries.delete(member);
    replace(member, member.fn);
  }
}

function replace(member: SecuredMember, value: unknown): void {
  const descriptor = Object.getOwnPropertyDescriptor(member.owner, member.key)!;
  Object.defineProperty(member.owner, member.key, { ...descriptor, value });
}

/** Whether `member` is what its owner holds (or the entry another application opened). */
function isInPlace(member: SecuredMember): boolean {
  const value: unknown = Object.getOwnPropertyDescriptor(member.owner, member.key)?.value;
  return value === member.fn || value === openEntries.get(member)?.entry;
}

function hasBearerGuard(target: object): boolean {
  const guards = (Reflect.getMetadata(GUARDS_METADATA, target) ?? []) as unknown[];
  return guards.some(
    (guard) =>
      guard instanceof BearerGuard ||
      (typeof guard === 'function' &&
        (guard === BearerGuard || guard.prototype instanceof BearerGuard)),
  );
}
