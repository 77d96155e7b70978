import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { guardMethod } from '../authorization/guard-method.js';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import { AUTH_OPTIONS } from './auth.module-definition.js';
import { RequiredScopes } from './scopes.decorator.js';
import { TenantRule } from './tenant.decorator.js';

type Method = (this: unknown, ...args: unknown[]) => unknown;
/** A provider's class, as Nest's discovery reports it. */
type ProviderClass = abstract new (...args: never[]) => unknown;

/**
 * Finds providers whose methods (or class) carry `@Scopes()` or `@Tenant(...)` and wraps those
 * methods on the instance, so every caller (controller, scheduled task, message consumer, another
 * service) passes the same check. Controllers are left to the guard.
 */
@Injectable()
export class MethodSecurityExplorer implements OnModuleInit {
  private readonly logger = new Logger('Tessera');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
  ) {}

  /**
   * Whether any provider carries `@Scopes`/`@Tenant` rules: known from the classes, before any
   * instance exists, so the module can leave the principal context out when nothing needs it.
   */
  hasProtectedProviders(): boolean {
    return this.discovery.getProviders().some(({ metatype }) => {
      if (typeof metatype !== 'function' || !metatype.prototype) return false;
      const prototype = metatype.prototype as object;
      return this.scanner
        .getAllMethodNames(prototype)
        .some((name) => this.ruleFor(metatype as ProviderClass, prototype, name) !== undefined);
    });
  }

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const { instance, metatype } = wrapper;
      if (!instance || typeof instance !== 'object' || typeof metatype !== 'function') continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      const methods = this.scanner
        .getAllMethodNames(prototype)
        .filter((name) => this.ruleFor(metatype as ProviderClass, prototype, name) !== undefined);
      if (methods.length === 0) continue;
      if (!wrapper.isDependencyTreeStatic()) {
        // A request-scoped provider is built per request, after this runs: it cannot be wrapped.
        this.logger.warn(
          `${metatype.name} is request-scoped: its @Scopes/@Tenant rules are NOT enforced; make it a static provider`,
        );
        continue;
      }
      for (const name of methods) {
        this.protect(
          instance as Record<string, Method>,
          metatype as ProviderClass,
          prototype,
          name,
        );
      }
    }
  }

  private protect(
    instance: Record<string, Method>,
    metatype: ProviderClass,
    prototype: object,
    name: string,
  ): void {
    const rule = this.ruleFor(metatype, prototype, name)!;
    const method = (prototype as Record<string, Method>)[name];
    instance[name] = guardMethod(method, rule, `${metatype.name}.${name}`, (event) =>
      this.options.events.accessDenied?.(event),
    );
  }

  private ruleFor(metatype: ProviderClass, prototype: object, name: string) {
    const targets = [(prototype as Record<string, Method>)[name], metatype];
    const scopes = this.reflector.getAllAndOverride(RequiredScopes, targets);
    const tenant = this.reflector.getAllAndOverride(TenantRule, targets);
    if (scopes === undefined && tenant === undefined) return undefined;
    return { scopes: scopes ?? [], tenant };
  }
}
