import { PATH_METADATA } from '@nestjs/common/constants.js';
import { LIFECYCLE_HOOKS, type AnyClass } from '../authorization/secure-class.js';
import { securedMemberOf, type SecuredMember } from '../authorization/secured-member.js';
import { PublicRoute } from './public.decorator.js';
import { RequiredScopes } from './scopes.decorator.js';
import { TenantRule } from './tenant.decorator.js';

// @nestjs/schedule's and @nestjs/microservices' metadata keys (both optional peers).
const SCHEDULER_TYPE = 'SCHEDULER_TYPE';
const MESSAGE_PATTERN = 'microservices:pattern';

type AnyFunction = (...args: never[]) => unknown;

/** A member of a class as its instances see it: the nearest definition along the chain. */
interface Member {
  readonly key: string | symbol;
  /** The class whose prototype defines it. */
  readonly definedBy: AnyClass;
  readonly functions: readonly AnyFunction[];
  /** The secured member a class further up defines under the same key, if any. */
  readonly overridden: { readonly by: AnyClass; readonly member: SecuredMember } | undefined;
}

/** Every method and accessor of `type`'s instances, lifecycle hooks left out. */
function membersOf(type: AnyClass): Member[] {
  const chain: object[] = [];
  for (let proto = type.prototype as object | null; proto && proto !== Object.prototype;) {
    chain.push(proto);
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  const keys = new Set(chain.flatMap((proto) => Reflect.ownKeys(proto)));
  const members: Member[] = [];
  for (const key of keys) {
    if (LIFECYCLE_HOOKS.has(key)) continue;
    const at = chain.findIndex((proto) => Object.prototype.hasOwnProperty.call(proto, key));
    const functions = functionsOf(Object.getOwnPropertyDescriptor(chain[at], key)!);
    if (functions.length === 0) continue;
    let overridden: Member['overridden'];
    for (const proto of chain.slice(at + 1)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, key);
      const member = descriptor && functionsOf(descriptor).map(securedMemberOf).find(Boolean);
      if (member?.rule !== undefined) {
        overridden = { by: classOfPrototype(proto), member };
        break;
      }
    }
    members.push({ key, definedBy: classOfPrototype(chain[at]), functions, overridden });
  }
  return members;
}

/** The class-level `@Scopes`/`@Tenant` that applies to `type`, its own or inherited. */
function classRuleOf(type: AnyClass): boolean {
  return (
    Reflect.getMetadata(RequiredScopes.KEY, type) !== undefined ||
    Reflect.getMetadata(TenantRule.KEY, type) !== undefined
  );
}

/** Whether `type` has members a call context is needed for: rules, or `@RunAs`. */
export function needsCallContext(type: AnyClass, isController: boolean): boolean {
  return membersOf(type).some(({ functions }) =>
    functions.some((fn) => {
      const secured = securedMemberOf(fn);
      return secured?.runAs !== undefined || (!isController && secured?.rule !== undefined);
    }),
  );
}

/** Whether `type` has a `@RunAs` member. */
export function hasRunAs(type: AnyClass): boolean {
  return membersOf(type).some(({ functions }) =>
    functions.some((fn) => securedMemberOf(fn)?.runAs !== undefined),
  );
}

/** Whether `type` has any secured member. */
export function hasSecuredMembers(type: AnyClass): boolean {
  return membersOf(type).some(({ functions }) => functions.some((fn) => securedMemberOf(fn)));
}

/**
 * The rules on `type` that cannot be enforced, or contradict one another, each naming the class
 * and member; none when every rule holds however its member is reached.
 */
export function unenforceableRules(type: AnyClass, isController: boolean): string[] {
  const problems: string[] = [];
  const underClassRule = classRuleOf(type);
  for (const { key, definedBy, functions, overridden } of membersOf(type)) {
    const name = `${definedBy.name}.${String(key)}`;
    const secured = functions.map(securedMemberOf);
    const covered = secured.every((member) => member !== undefined);
    if (overridden !== undefined && !secured.some((member) => member?.rule !== undefined)) {
      problems.push(
        `${name} overrides ${overridden.by.name}.${String(key)}, which is protected: give the ` +
          'override its own @Scopes/@Tenant (it may repeat the base rule)',
      );
    } else if (underClassRule && !covered && !isController && !functions.some(isPublic)) {
      // (A controller's inherited class rule is enforced by the guard, which reads it.)
      problems.push(
        `${name} is under ${type.name}'s inherited class-level rule, which reaches only the ` +
          `members of the class it is written on: put @Scopes/@Tenant on ${definedBy.name} ` +
          'or on the member',
      );
    }
    for (const fn of functions) {
      const member = securedMemberOf(fn);
      if (member === undefined) continue;
      const scheduled = Reflect.getMetadata(SCHEDULER_TYPE, fn) !== undefined;
      if (scheduled && member.rule !== undefined && member.runAs === undefined) {
        problems.push(
          `${name} is scheduled and protected, but a scheduler has no caller: give it ` +
            "@RunAs('<service identity>')",
        );
      }
      const handler =
        Reflect.getMetadata(PATH_METADATA, fn) !== undefined ||
        Reflect.getMetadata(MESSAGE_PATTERN, fn) !== undefined;
      if (isController && handler && member.runAs !== undefined) {
        problems.push(
          `${name} is a route or message handler: @RunAs would lend its identity to callers; ` +
            'call a @RunAs method of a provider from a scheduled task instead',
        );
      }
    }
  }
  if (isController) problems.push(...publicContradictions(type));
  return problems;
}

/** `@Scopes`/`@Tenant` under `@Public()`: the route would answer anyone. */
function publicContradictions(type: AnyClass): string[] {
  const classPublic = Reflect.getMetadata(PublicRoute.KEY, type) === true;
  const classRule = Reflect.getOwnMetadata(RequiredScopes.KEY, type) !== undefined;
  const problems: string[] = [];
  for (const { key, functions } of membersOf(type)) {
    for (const fn of functions) {
      const methodPublic = isPublic(fn);
      const methodRule =
        Reflect.getOwnMetadata(RequiredScopes.KEY, fn) !== undefined ||
        Reflect.getOwnMetadata(TenantRule.KEY, fn) !== undefined;
      if ((methodPublic || classPublic) && methodRule) {
        problems.push(`${type.name}.${String(key)} has @Scopes/@Tenant under @Public()`);
      }
    }
  }
  if (classPublic && classRule) problems.push(`${type.name} has @Scopes under @Public()`);
  return problems;
}

/** Function-valued own fields of an instance whose class-level rule cannot reach them. */
export function unprotectedFields(type: AnyClass, instance: object): string[] {
  if (!classRuleOf(type)) return [];
  return Reflect.ownKeys(instance)
    .filter((key) => typeof Object.getOwnPropertyDescriptor(instance, key)?.value === 'function')
    .map(
      (key) =>
        `${type.name}.${String(key)} is a function field under a class-level rule, which ` +
        'cannot reach what each instance sets: declare it as a method',
    );
}

function isPublic(fn: AnyFunction): boolean {
  return Reflect.getMetadata(PublicRoute.KEY, fn) === true;
}

function functionsOf(descriptor: PropertyDescriptor): AnyFunction[] {
  return [descriptor.value, descriptor.get, descriptor.set].filter(
    (fn): fn is AnyFunction => typeof fn === 'function',
  );
}

function classOfPrototype(proto: object): AnyClass {
  return (proto as { constructor: AnyClass }).constructor;
}
