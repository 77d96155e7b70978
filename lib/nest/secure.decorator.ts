import { secureClass, type AnyClass } from '../authorization/secure-class.js';
import { secure, type RuleChange } from '../authorization/secured-member.js';
import { AuthConfigError } from '../errors/auth-errors.js';
import { PublicRoute } from './public.decorator.js';

type AnyMethod = (...args: never[]) => unknown;

/** A decorator that both records its metadata and secures what it decorates. */
export type SecuringDecorator = ClassDecorator & MethodDecorator;

/**
 * Builds `@Scopes`, `@Tenant` (on methods and classes) and `@RunAs`: each sets its metadata as
 * Nest's own decorators do (guards and tooling read it) and secures the member where it is
 * defined, in any order with other decorators, whose metadata moves to the secured function.
 * A rule that cannot be enforced throws here, naming the class and member.
 */
export function securingDecorator(
  label: string,
  change: RuleChange,
  metadata: { readonly key: string; readonly value: unknown },
  options: { methodsOnly?: boolean } = {},
): SecuringDecorator {
  return ((target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (key === undefined) {
      if (options.methodsOnly) {
        throw new AuthConfigError(`${(target as AnyClass).name}: ${label} goes on a method`);
      }
      Reflect.defineMetadata(metadata.key, metadata.value, target);
      secureClass(target as AnyClass, change, {
        skip: isPublic,
        wrapped: copyMetadata,
      });
      return;
    }
    const isStatic = typeof target === 'function';
    const owner = (isStatic ? target : target.constructor) as AnyClass;
    const name = `${owner.name}.${String(key)}`;
    if (descriptor === undefined) {
      throw new AuthConfigError(
        `${name}: ${label} on a field cannot be enforced (each instance sets its field after ` +
          `decorators ran); declare ${String(key)} as a method`,
      );
    }
    if (isStatic && change.runAs !== undefined) {
      throw new AuthConfigError(
        `${name}: @RunAs on a static method cannot know whose service identities to use; ` +
          'make it an instance method',
      );
    }
    if (options.methodsOnly && typeof descriptor.value !== 'function') {
      throw new AuthConfigError(`${name}: ${label} goes on a method`);
    }
    for (const slot of ['value', 'get', 'set'] as const) {
      const fn: unknown = descriptor[slot];
      if (typeof fn !== 'function') continue;
      const secured = secure(fn as AnyMethod, { owner: target, key, name }, change, {
        level: 'member',
      });
      if (secured.created) copyMetadata(fn, secured.fn);
      Reflect.defineMetadata(metadata.key, metadata.value, secured.fn);
      descriptor[slot] = secured.fn;
    }
    return descriptor;
  }) as SecuringDecorator;
}

/** Moves other decorators' metadata (routes, schedules, patterns, Swagger, …) to the wrapper. */
export function copyMetadata(from: object, to: object): void {
  for (const key of Reflect.getOwnMetadataKeys(from) as unknown[]) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, from), to);
  }
}

/** Whether `@Public()` is on a handler. */
export function isPublic(fn: AnyMethod): boolean {
  return Reflect.getMetadata(PublicRoute.KEY, fn) === true;
}
