import { GUARDS_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import type { MethodRule } from '../authorization/method-rule.js';
import { LIFECYCLE_HOOKS, type AnyClass } from '../authorization/secure-class.js';
import {
  securedMemberAt,
  securedMemberOf,
  type SecuredMember,
} from '../authorization/secured-member.js';
import { BearerGuard } from './bearer.guard.js';
import { markedPublic } from './public.decorator.js';
import { isPublic } from './secure.decorator.js';
import { AnyOfScopes, RequiredScopes } from './scopes.decorator.js';
import { TenantRule } from './tenant.decorator.js';

// @nestjs/schedule's and @nestjs/microservices' metadata keys (both optional peers).
const SCHEDULER_TYPE = 'SCHEDULER_TYPE';
export const MESSAGE_PATTERN = 'microservices:pattern';

type AnyFunction = (...args: never[]) => unknown;

/** A member of a class as its instances see it: the nearest definition along the chain. */
interface Member {
  readonly key: string | symbol;
  /** The class whose prototype defines it. */
  readonly definedBy: AnyClass;
  /** What callers get: the outermost functions (value, or getter and setter). */
  readonly functions: readonly AnyFunction[];
  /** Its secured member, even under another decorator's wrapper. */
  readonly secured: SecuredMember | undefined;
  /** The protected member a class further up declares under the same key, if any. */
  readonly overridden: { readonly by: AnyClass; readonly member: SecuredMember } | undefined;
}

function prototypesOf(type: AnyClass): object[] {
  const chain: object[] = [];
  for (let proto = type.prototype as object | null; proto && proto !== Object.prototype;) {
    chain.push(proto);
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return chain;
}

function securedAt(owner: object, key: string | symbol): SecuredMember | undefined {
  const declared = securedMemberAt(owner, key);
  if (declared !== undefined) return declared;
  const descriptor = Object.getOwnPropertyDescriptor(owner, key);
  return descriptor && functionsOf(descriptor).map(securedMemberOf).find(Boolean);
}

/** Every method and accessor of `type`'s instances, lifecycle hooks left out. */
function membersOf(type: AnyClass): Member[] {
  const chain = prototypesOf(type);
  const keys = new Set(chain.flatMap((proto) => Reflect.ownKeys(proto)));
  const members: Member[] = [];
  for (const key of keys) {
    if (LIFECYCLE_HOOKS.has(key)) continue;
    const at = chain.findIndex((proto) => Object.prototype.hasOwnProperty.call(proto, key));
    const functions = functionsOf(Object.getOwnPropertyDescriptor(chain[at], key)!);
    if (functions.length === 0) continue;
    let overridden: Member['overridden'];
    for (const proto of chain.slice(at + 1)) {
      const member = securedAt(proto, key);
      if (member?.rule !== undefined) {
        overridden = { by: classOfPrototype(proto), member };
        break;
      }
    }
    const definedBy = classOfPrototype(chain[at]);
    members.push({ key, definedBy, functions, secured: securedAt(chain[at], key), overridden });
  }
  return members;
}

/** The secured static members of `type`. */
function staticMembersOf(type: AnyClass): SecuredMember[] {
  return Reflect.ownKeys(type)
    .map((key) => securedAt(type, key))
    .filter((member): member is SecuredMember => member !== undefined);
}

type ReadMetadata = (key: string, target: object) => unknown;

/**
 * The decorators of the rule on `target` (a class or a function), e.g. `@AnyScope` or
 * `@Scopes and @Tenant`; empty when it has none. `read` defaults to inherited metadata too.
 */
function ruleDecoratorsOn(target: object, read: ReadMetadata = Reflect.getMetadata): string {
  const names: string[] = [];
  if (read(RequiredScopes.KEY, target) !== undefined) names.push('@Scopes');
  if (read(AnyOfScopes.KEY, target) !== undefined) names.push('@AnyScope');
  if (read(TenantRule.KEY, target) !== undefined) names.push('@Tenant');
  return names.join(' and ');
}

/** A class-level `@Scopes`/`@AnyScope`/`@Tenant` that applies to `type`, own or inherited. */
function classRuleOf(type: AnyClass): { tenant: boolean; decorators: string } | undefined {
  const decorators = ruleDecoratorsOn(type);
  if (decorators === '') return undefined;
  return { tenant: Reflect.getMetadata(TenantRule.KEY, type) !== undefined, decorators };
}

/** Whether one of `functions` is a route or message handler. */
function isHandler(functions: readonly AnyFunction[]): boolean {
  return functions.some(
    (fn) =>
      Reflect.getMetadata(PATH_METADATA, fn) !== undefined ||
      Reflect.getMetadata(MESSAGE_PATTERN, fn) !== undefined,
  );
}

/** Whether `@UseGuards` on `target` (inherited too) names `BearerGuard`, a subclass, or one. */
function usesBearerGuard(target: object): boolean {
  const guards = (Reflect.getMetadata(GUARDS_METADATA, target) ?? []) as unknown[];
  return guards.some(
    (guard) =>
      guard === BearerGuard ||
      guard instanceof BearerGuard ||
      (typeof guard === 'function' && guard.prototype instanceof BearerGuard),
  );
}

/** The secured members of `type`, instance and static. */
export function securedMembersOfClass(type: AnyClass): SecuredMember[] {
  const members = membersOf(type).flatMap(({ secured }) => (secured ? [secured] : []));
  return [...members, ...staticMembersOf(type)];
}

/** Whether `type` has a `@RunAs` member. */
export function hasRunAs(type: AnyClass): boolean {
  return membersOf(type).some(({ secured }) => secured?.runAs !== undefined);
}

/**
 * The rules on `type` that cannot be enforced, or contradict one another, each naming the class
 * and member; none when every rule holds however its member is reached. `globalGuard`: whether
 * `BearerGuard` runs before every route without `@UseGuards`; `publicMetadataKey`: the app's own
 * key that marks routes public like `@Public()`.
 */
export function unenforceableRules(
  type: AnyClass,
  isController: boolean,
  globalGuard: boolean,
  publicMetadataKey?: string,
): string[] {
  const problems: string[] = [];
  const classRule = classRuleOf(type);
  for (const { key, definedBy, functions, secured, overridden } of membersOf(type)) {
    const name = `${definedBy.name}.${String(key)}`;
    if (overridden !== undefined) {
      const base = `${overridden.by.name}.${String(key)}`;
      if (secured?.rule === undefined) {
        problems.push(
          `${name} overrides ${base}, which is protected: give the override its own rule, at ` +
            `least as strict as ${describe(overridden.member.rule!)} (it may repeat the base rule)`,
        );
      } else if (!covers(secured.rule, overridden.member.rule!)) {
        problems.push(
          `${name} overrides ${base} with a weaker rule: require at least ` +
            `${describe(overridden.member.rule!)}`,
        );
      }
    } else if (classRule && secured === undefined && !functions.some(isPublic)) {
      if (!(isController && !classRule.tenant)) {
        problems.push(
          `${name} is under ${type.name}'s inherited class-level rule, which reaches only the ` +
            `members of the class it is written on: put ${classRule.decorators} on ` +
            `${definedBy.name} or on the member`,
        );
      } else if (
        isHandler(functions) &&
        !globalGuard &&
        !usesBearerGuard(type) &&
        !functions.some(usesBearerGuard)
      ) {
        // A controller's inherited class-level @Scopes/@AnyScope is enforced by BearerGuard
        // alone, which reads it: only where that guard runs.
        problems.push(
          `${type.name}.${String(key)} is a route under ${type.name}'s inherited class-level ` +
            `${classRule.decorators}, which only BearerGuard enforces, but globalGuard is false ` +
            `and no @UseGuards(BearerGuard) covers it: add it to ${type.name} or the route`,
        );
      }
    }
    if (secured === undefined) continue;
    const scheduled = functions.some((fn) => Reflect.getMetadata(SCHEDULER_TYPE, fn) !== undefined);
    if (scheduled && secured.rule !== undefined && secured.runAs === undefined) {
      problems.push(
        `${name} is scheduled and protected, but a scheduler has no caller: give it ` +
          "@RunAs('<service identity>')",
      );
    }
    if (isController && isHandler(functions) && secured.runAs !== undefined) {
      problems.push(
        `${name} is a route or message handler: @RunAs would lend its identity to callers; ` +
          'call a @RunAs method of a provider from a scheduled task instead',
      );
    }
  }
  if (isController) problems.push(...publicContradictions(type, publicMetadataKey));
  return problems;
}

/**
 * `@Scopes`/`@AnyScope`/`@Tenant` under `@Public()` (or `true` under the app's
 * `publicMetadataKey`): the guard lets the route through, so it would answer anyone.
 */
function publicContradictions(type: AnyClass, publicMetadataKey: string | undefined): string[] {
  const classPublic = markedPublic(type, publicMetadataKey);
  const problems: string[] = [];
  for (const { key, definedBy, functions } of membersOf(type)) {
    for (const fn of functions) {
      const decorators = ruleDecoratorsOn(fn, Reflect.getOwnMetadata);
      if ((classPublic || markedPublic(fn, publicMetadataKey)) && decorators !== '') {
        problems.push(`${definedBy.name}.${String(key)} has ${decorators} under @Public()`);
        break;
      }
    }
  }
  const classRule = classRuleOf(type);
  if (classPublic && classRule !== undefined) {
    problems.push(`${type.name} has ${classRule.decorators} under @Public()`);
  }
  return problems;
}

/**
 * Own fields of an instance that no rule can reach: one that shadows a protected member (an
 * arrow function or an assignment in the constructor replacing it), and, under a class-level
 * rule, any function-valued field other than an injected dependency.
 */
export function unprotectedFields(
  type: AnyClass,
  instance: object,
  injected: ReadonlySet<unknown>,
): string[] {
  const chain = prototypesOf(type);
  const classRule = classRuleOf(type) !== undefined;
  const problems: string[] = [];
  for (const key of Reflect.ownKeys(instance)) {
    const value: unknown = Object.getOwnPropertyDescriptor(instance, key)?.value;
    const shadowed = chain.find((proto) => securedAt(proto, key)?.rule !== undefined);
    if (shadowed !== undefined) {
      problems.push(
        `${type.name}.${String(key)} is a field that shadows the protected ` +
          `${classOfPrototype(shadowed).name}.${String(key)}: override it as a method with its rule`,
      );
    } else if (classRule && typeof value === 'function' && !injected.has(value)) {
      problems.push(
        `${type.name}.${String(key)} is a function field under a class-level rule, which ` +
          'cannot reach what each instance sets: declare it as a method',
      );
    }
  }
  return problems;
}

/** Whether `rule` asks at least what `base` does. */
function covers(rule: MethodRule, base: MethodRule): boolean {
  return (
    base.scopes.every((scope) => rule.scopes.includes(scope)) &&
    (base.anyScopes.length === 0 || coversAnyOf(rule, base.anyScopes)) &&
    (base.tenant === undefined || rule.tenant !== undefined)
  );
}

/** Whether whoever passes `rule` holds one of `alternatives`. */
function coversAnyOf(rule: MethodRule, alternatives: readonly string[]): boolean {
  if (rule.scopes.some((scope) => alternatives.includes(scope))) return true;
  return rule.anyScopes.length > 0 && rule.anyScopes.every((s) => alternatives.includes(s));
}

function describe(rule: MethodRule): string {
  const parts = rule.scopes.length > 0 ? [`@Scopes('${rule.scopes.join("', '")}')`] : [];
  if (rule.anyScopes.length > 0) parts.push(`@AnyScope('${rule.anyScopes.join("', '")}')`);
  if (rule.tenant !== undefined) parts.push('a @Tenant rule');
  return parts.join(' and ');
}

function functionsOf(descriptor: PropertyDescriptor): AnyFunction[] {
  return [descriptor.value, descriptor.get, descriptor.set].filter(
    (fn): fn is AnyFunction => typeof fn === 'function',
  );
}

function classOfPrototype(proto: object): AnyClass {
  return (proto as { constructor: AnyClass }).constructor;
}
