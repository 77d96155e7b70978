import { secure, securedMemberOf, type RuleChange } from './secured-member.js';

// Nest calls these itself, with no caller: a class-level rule does not cover them.
export const LIFECYCLE_HOOKS: ReadonlySet<string | symbol> = new Set([
  'constructor',
  'onModuleInit',
  'onApplicationBootstrap',
  'onModuleDestroy',
  'beforeApplicationShutdown',
  'onApplicationShutdown',
]);

type AnyMethod = (...args: never[]) => unknown;

/** A class with its prototype. */
export type AnyClass = abstract new (...args: never[]) => unknown;

/**
 * A class-level rule: secures every method and accessor of the class's instances (symbol-named
 * ones and inherited ones too, lifecycle hooks excepted) where they are defined. A member with
 * its own rule keeps it; an inherited member is wrapped again on this class's prototype, so the
 * base class is unchanged and a call checks both rules (and is still lent the base member's
 * `@RunAs` identity). Static members are not covered.
 */
export function secureClass(
  type: AnyClass,
  change: RuleChange,
  options: {
    skip: (fn: AnyMethod) => boolean;
    /** Told of each wrapper made, to carry the original's metadata over. */
    wrapped?: (original: AnyMethod, wrapper: AnyMethod) => void;
  },
): void {
  const own = type.prototype as object;
  const seen = new Set<string | symbol>(LIFECYCLE_HOOKS);
  for (let proto: object | null = own; isClassPrototype(proto);) {
    for (const key of Reflect.ownKeys(proto)) {
      if (seen.has(key)) continue;
      seen.add(key);
      const descriptor = Object.getOwnPropertyDescriptor(proto, key)!;
      const inherited = proto !== own;
      const cover = (fn: unknown): AnyMethod | undefined => {
        if (typeof fn !== 'function' || options.skip(fn as AnyMethod)) return undefined;
        const runAs = inherited ? securedMemberOf(fn)?.runAs : undefined;
        const secured = secure(
          fn as AnyMethod,
          { owner: own, key, name: `${type.name}.${String(key)}` },
          runAs === undefined ? change : { ...change, runAs },
          {
            level: inherited ? 'member' : 'class',
            fresh: inherited,
          },
        );
        if (secured.created) options.wrapped?.(fn as AnyMethod, secured.fn);
        return secured.fn;
      };
      const value = cover(descriptor.value);
      const get = cover(descriptor.get);
      const set = cover(descriptor.set);
      if (value === undefined && get === undefined && set === undefined) continue;
      Object.defineProperty(own, key, {
        ...descriptor,
        ...(value !== undefined && { value }),
        ...(get !== undefined && { get }),
        ...(set !== undefined && { set }),
      });
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
}

function isClassPrototype(proto: object | null): proto is object {
  return proto !== null && proto !== Object.prototype;
}
