import { GUARDS_METADATA } from '@nestjs/common/constants.js';
import { securedMembers, type SecuredMember } from '../authorization/secured-member.js';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import { BearerGuard } from './bearer.guard.js';
import { guardEnforcesWholeRule, isController } from './secure.decorator.js';

/**
 * Whether requests and messages must run in a call context (a middleware and an interceptor
 * per request): asked for, or some secured member of a class loaded in this process is not a
 * controller handler whose whole rule this application's guard checks first: a service method,
 * a `@Tenant` or `@RunAs` rule, a helper, a static member, or a handler left unguarded.
 */
export function callContextNeeded(options: ResolvedAuthOptions): boolean {
  if (options.principalContext !== undefined) return options.principalContext;
  for (const member of securedMembers()) {
    if (!checkedByGuard(member, options)) return true;
  }
  return false;
}

/** Whether the guard checks all of `member`'s rule before Nest's router calls it. */
export function checkedByGuard(member: SecuredMember, options: ResolvedAuthOptions): boolean {
  const type = (member.owner as { constructor?: unknown }).constructor;
  if (!isController(type) || !guardEnforcesWholeRule(member)) return false;
  return options.globalGuard || [member.fn, type].some((target) => hasBearerGuard(target));
}

function hasBearerGuard(target: unknown): boolean {
  const guards = (Reflect.getMetadata(GUARDS_METADATA, target as object) ?? []) as unknown[];
  return guards.some(
    (guard) =>
      guard instanceof BearerGuard ||
      (typeof guard === 'function' &&
        (guard === BearerGuard || guard.prototype instanceof BearerGuard)),
  );
}
