import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { guardMethod } from '../authorization/guard-method.js';
import type { MethodRule } from '../authorization/method-rule.js';
import { AuthConfigError } from '../errors/auth-errors.js';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import { AUTH_OPTIONS } from './auth.module-definition.js';
import { RequiredScopes } from './scopes.decorator.js';
import { TenantRule } from './tenant.decorator.js';

type Method = (this: unknown, ...args: unknown[]) => unknown;
/** A provider's class. */
type ProviderClass = abstract new (...args: never[]) => unknown;

/** A member of a provider instance that a rule covers: a method, an accessor or a function field. */
interface ProtectedMember {
  readonly key: string | symbol;
  readonly descriptor: PropertyDescriptor;
  readonly rule: MethodRule;
}

/**
 * Finds providers whose methods (or class) carry `@Scopes()` or `@Tenant(...)` and wraps those
 * members on every instance Nest builds at start-up (class, `useValue`, `useFactory` and
 * transient providers alike), so every caller (controller, scheduled task, message consumer,
 * another service) passes the same check. A class-level rule covers every method, symbol-named
 * ones included, accessors and function-valued fields. Controllers are left to the guard.
 */
@Injectable()
export class MethodSecurityExplorer implements OnModuleInit {
  private readonly logger = new Logger('Tessera');
  /** What `hasProtectedProviders()` answered, if asked: whether the principal context is on. */
  private contextPlanned: boolean | undefined;
  /** Instances already wrapped (an alias, `useExisting`, shows the same instance again). */
  private readonly protectedInstances = new WeakSet<object>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
  ) {}

  /**
   * Whether any provider carries `@Scopes`/`@Tenant` rules, known from the classes (and values)
   * before any other instance exists, so the module can leave the principal context out when
   * nothing needs it. A factory's product is known only later: see `onModuleInit`.
   */
  hasProtectedProviders(): boolean {
    this.contextPlanned = this.discovery.getProviders().some((wrapper) => {
      const type = knownClassOf(wrapper);
      return type !== undefined && this.rulesOf(type).length > 0;
    });
    return this.contextPlanned;
  }

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instances = wrapper.isTransient
        ? wrapper.getStaticTransientInstances().map((context) => context?.instance)
        : [wrapper.instance];
      for (const instance of instances) this.protectInstance(wrapper, instance);
    }
  }

  private protectInstance(wrapper: InstanceWrapper, instance: unknown): void {
    if (instance === null || typeof instance !== 'object') return;
    if (this.protectedInstances.has(instance)) return;
    const type = classOf(instance);
    if (type === undefined) return;
    const members = [...this.rulesOf(type), ...this.fieldRules(type, instance)];
    if (members.length === 0) return;
    if (!wrapper.isDependencyTreeStatic()) {
      // A request-scoped provider is built per request, after this runs: it cannot be wrapped.
      this.logger.warn(
        `${type.name} is request-scoped: its @Scopes/@Tenant rules are NOT enforced; make it a static provider`,
      );
      return;
    }
    if (this.options.principalContext === undefined && this.contextPlanned === false) {
      // Left off because a factory's product was not known in time: every call from a handler
      // would be refused for want of a principal. Say so at start, not per request.
      throw new AuthConfigError(
        `${type.name} carries @Scopes/@Tenant rules, but is built by a factory, after the ` +
          'principal context was left off: set principalContext: true',
      );
    }
    for (const member of members) this.protect(instance, type, member);
    this.protectedInstances.add(instance);
  }

  private protect(instance: object, type: ProviderClass, member: ProtectedMember): void {
    const { key, descriptor, rule } = member;
    const name = `${type.name}.${String(key)}`;
    const guard = (fn: Method) =>
      guardMethod(fn, rule, name, (event) => this.options.events.accessDenied?.(event));
    Object.defineProperty(instance, key, {
      configurable: true,
      enumerable: descriptor.enumerable ?? false,
      ...(typeof descriptor.value === 'function'
        ? { writable: descriptor.writable ?? true, value: guard(descriptor.value as Method) }
        : {
            get: descriptor.get && guard(descriptor.get as Method),
            set: descriptor.set && guard(descriptor.set as Method),
          }),
    });
  }

  /** The class's methods and accessors a rule covers, nearest definition first, symbols too. */
  private rulesOf(type: ProviderClass): ProtectedMember[] {
    const members: ProtectedMember[] = [];
    const seen = new Set<string | symbol>(['constructor', ...LIFECYCLE_HOOKS]);
    for (let proto = type.prototype as object | null; isClassPrototype(proto);) {
      for (const key of Reflect.ownKeys(proto)) {
        if (seen.has(key)) continue;
        seen.add(key);
        const descriptor = Object.getOwnPropertyDescriptor(proto, key)!;
        const target = typeof descriptor.value === 'function' ? descriptor.value : undefined;
        if (target === undefined && descriptor.get === undefined && descriptor.set === undefined) {
          continue;
        }
        const rule = this.ruleFor(type, target);
        if (rule !== undefined) members.push({ key, descriptor, rule });
      }
      proto = Object.getPrototypeOf(proto) as object | null;
    }
    return members;
  }

  /** Function-valued own fields of an instance (arrow functions) under a class-level rule. */
  private fieldRules(type: ProviderClass, instance: object): ProtectedMember[] {
    const rule = this.ruleFor(type, undefined);
    if (rule === undefined) return [];
    return Reflect.ownKeys(instance)
      .map((key) => ({ key, descriptor: Object.getOwnPropertyDescriptor(instance, key)! }))
      .filter(({ descriptor }) => typeof descriptor.value === 'function')
      .map(({ key, descriptor }) => ({ key, descriptor, rule }));
  }

  private ruleFor(type: ProviderClass, method: Method | undefined): MethodRule | undefined {
    const targets = method === undefined ? [type] : [method, type];
    const scopes = this.reflector.getAllAndOverride(RequiredScopes, targets);
    const tenant = this.reflector.getAllAndOverride(TenantRule, targets);
    if (scopes === undefined && tenant === undefined) return undefined;
    return { scopes: scopes ?? [], tenant };
  }
}

// Nest calls these itself, with no caller: a class-level rule does not cover them.
const LIFECYCLE_HOOKS = [
  'onModuleInit',
  'onApplicationBootstrap',
  'onModuleDestroy',
  'beforeApplicationShutdown',
  'onApplicationShutdown',
];

/** The class of a provider, where it is known before the provider is built. */
function knownClassOf(wrapper: InstanceWrapper): ProviderClass | undefined {
  // A `useFactory` provider's metatype is the factory, not its product's class.
  if (typeof wrapper.metatype === 'function' && !wrapper.isFactory) {
    return wrapper.metatype as ProviderClass;
  }
  const value: unknown = wrapper.instance;
  return value !== null && typeof value === 'object' ? classOf(value) : undefined;
}

/** The class an object was built by, unless a plain object. */
function classOf(instance: object): ProviderClass | undefined {
  const type: unknown = (Object.getPrototypeOf(instance) as { constructor?: unknown } | null)
    ?.constructor;
  return typeof type === 'function' && type !== Object ? (type as ProviderClass) : undefined;
}

function isClassPrototype(proto: object | null): proto is object {
  return proto !== null && proto !== Object.prototype;
}
