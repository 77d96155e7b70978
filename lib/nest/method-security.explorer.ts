import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import type { AnyClass } from '../authorization/secure-class.js';
import { CALL_BINDING, securedMembers, type CallBinding } from '../authorization/secured-member.js';
import { ServiceIdentities } from '../authorization/service-identities.js';
import { AuthConfigError } from '../errors/auth-errors.js';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import { AUTH_OPTIONS } from './auth.module-definition.js';
import {
  CALL_CONTEXT_PLAN,
  checkedByGuard,
  closeGuardedRoutes,
  type CallContextPlan,
} from './call-context-plan.js';
import {
  hasRunAs,
  securedMembersOfClass,
  unenforceableRules,
  unprotectedFields,
} from './secured-class-check.js';

/**
 * `@Scopes`, `@Tenant` and `@RunAs` secure their members where the class is defined (see
 * `securingDecorator`), so every way of reaching a member meets the check. At start-up this
 * explorer only checks what a decorator cannot see (overrides, inherited class rules, fields,
 * scheduled members without an identity, `@Public()` contradictions), refusing to start on any,
 * and binds each instance it built to this application's service identities and events.
 */
@Injectable()
export class MethodSecurityExplorer implements OnModuleInit, OnModuleDestroy {
  private readonly binding: CallBinding;
  private readonly bound = new Set<object>();

  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
    identities: ServiceIdentities,
    @Inject(CALL_CONTEXT_PLAN) private readonly plan: CallContextPlan,
  ) {
    this.binding = {
      resolveIdentity: (name) => identities.resolve(name),
      onDenied: (event) => options.events.accessDenied?.(event),
    };
  }

  onModuleInit(): void {
    // The routes are registered by now: take back any router entry no route read.
    closeGuardedRoutes(this.plan);
    const problems = new Set<string>();
    const add = (found: readonly string[]) => found.forEach((problem) => problems.add(problem));
    for (const { wrapper, isController } of this.wrappers()) {
      const known = knownClassOf(wrapper);
      if (known !== undefined) {
        add(
          unenforceableRules(
            known,
            isController,
            this.options.globalGuard,
            this.options.publicMetadataKey,
          ),
        );
        if (!wrapper.isDependencyTreeStatic() && hasRunAs(known)) {
          problems.add(
            `${known.name} is request-scoped: @RunAs is never lent inside a request; move the ` +
              'method to a static provider',
          );
        }
      }
      const injected = injectedValuesOf(wrapper);
      for (const instance of instancesOf(wrapper)) {
        const type = classOf(instance);
        if (type === undefined) continue;
        if (type !== known) {
          add(
            unenforceableRules(
              type,
              isController,
              this.options.globalGuard,
              this.options.publicMetadataKey,
            ),
          );
        }
        add(unprotectedFields(type, instance, injected));
        if (securedMembersOfClass(type).length > 0) this.bind(instance, type, problems);
      }
    }
    if (this.options.principalContext === false) {
      const controllers = this.discovery.getControllers();
      const needing = [...securedMembers()].find(
        (member) => !checkedByGuard(member, this.options, controllers),
      );
      if (needing !== undefined) {
        problems.add(
          `${needing.name} carries @Scopes/@AnyScope/@Tenant/@RunAs, but principalContext is false: ` +
            'calls would reach it with no caller (and @RunAs could be lent to a request)',
        );
      }
    }
    if (problems.size > 0) {
      this.onModuleDestroy();
      throw new AuthConfigError(`rules that cannot be enforced:\n- ${[...problems].join('\n- ')}`);
    }
  }

  onModuleDestroy(): void {
    for (const instance of this.bound) {
      const own = Object.getOwnPropertyDescriptor(instance, CALL_BINDING);
      if (own?.value === this.binding) delete (instance as Record<symbol, unknown>)[CALL_BINDING];
    }
    this.bound.clear();
  }

  /** Lends this application's service identities and events to an instance it built. */
  private bind(instance: object, type: AnyClass, problems: Set<string>): void {
    const other = Object.getOwnPropertyDescriptor(instance, CALL_BINDING)?.value as unknown;
    if (other !== undefined && other !== this.binding) {
      problems.add(
        `${type.name}: this instance is already in another running application, whose ` +
          'identities and events it would mix with these; give each application its own',
      );
      return;
    }
    try {
      Object.defineProperty(instance, CALL_BINDING, { value: this.binding, configurable: true });
      this.bound.add(instance);
    } catch {
      if (hasRunAs(type)) {
        problems.add(`${type.name} is frozen: its @RunAs members cannot be given an identity`);
      }
    }
  }

  private wrappers(): { wrapper: InstanceWrapper; isController: boolean }[] {
    return [
      ...this.discovery.getControllers().map((wrapper) => ({ wrapper, isController: true })),
      ...this.discovery.getProviders().map((wrapper) => ({ wrapper, isController: false })),
    ];
  }
}

/** The instances Nest built at start for a provider: none for a request-scoped one. */
function instancesOf(wrapper: InstanceWrapper): object[] {
  if (!wrapper.isDependencyTreeStatic()) return [];
  const instances: unknown[] = wrapper.isTransient
    ? wrapper.getStaticTransientInstances().map((context) => context?.instance)
    : [wrapper.instance];
  return instances.filter((value): value is object => value !== null && typeof value === 'object');
}

/** What Nest injected into a provider (constructor and properties): not fields of its own. */
function injectedValuesOf(wrapper: InstanceWrapper): Set<unknown> {
  const dependencies = [
    ...(wrapper.getCtorMetadata() ?? []),
    ...(wrapper.getPropertiesMetadata() ?? []).map((property) => property.wrapper),
  ];
  return new Set(dependencies.map((dependency) => dependency?.instance));
}

/** The class of a provider, where it is known before the provider is built. */
function knownClassOf(wrapper: InstanceWrapper): AnyClass | undefined {
  // A `useFactory` provider's metatype is the factory, not its product's class.
  if (typeof wrapper.metatype === 'function' && !wrapper.isFactory) {
    return wrapper.metatype as AnyClass;
  }
  const value: unknown = wrapper.instance;
  return value !== null && typeof value === 'object' ? classOf(value) : undefined;
}

/** The class an object was built by, unless a plain object. */
function classOf(instance: object): AnyClass | undefined {
  const type: unknown = (Object.getPrototypeOf(instance) as { constructor?: unknown } | null)
    ?.constructor;
  return typeof type === 'function' && type !== Object ? (type as AnyClass) : undefined;
}
