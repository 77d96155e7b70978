import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { AuthConfigError } from '../errors/auth-errors.js';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import { RevocationStore } from '../revocation/revocation-store.js';
import { AUTH_OPTIONS } from './auth.module-definition.js';

// Nest's metadata keys of the constructor parameters and properties marked `@Optional()`.
const OPTIONAL_PARAMETERS = 'optional:paramtypes';
const OPTIONAL_PROPERTIES = 'optional:properties_metadata';

/**
 * With revocation left out of the options there is no `RevocationStore`: a provider or
 * controller that injects one (other than as `@Optional()`) stops the application at start,
 * instead of failing on its first logout.
 */
@Injectable()
export class RevocationOffCheck implements OnModuleInit {
  /** @internal */
  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
  ) {}

  onModuleInit(): void {
    if (this.options.revocation) return;
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    // Every AuthModule instance's own providers handle a store that is not there.
    const own = new Set(
      wrappers.filter((wrapper) => wrapper.token === RevocationStore).map((w) => w.host),
    );
    const injecting = wrappers
      .filter((wrapper) => !own.has(wrapper.host) && requires(wrapper, RevocationStore))
      .map((wrapper) => String(wrapper.name));
    if (injecting.length === 0) return;
    throw new AuthConfigError(
      `${injecting.join(', ')} inject${injecting.length > 1 ? '' : 's'} RevocationStore, but ` +
        "revocation is off: add revocation: {} to AuthModule's options (in memory, or in its redis)",
    );
  }
}

/** Whether Nest gave `wrapper` the provider of `token` as a dependency it cannot do without. */
function requires(wrapper: InstanceWrapper, token: unknown): boolean {
  const type =
    typeof wrapper.metatype === 'function' && !wrapper.isFactory ? wrapper.metatype : undefined;
  const declared = (key: string) =>
    new Set<unknown>(
      type === undefined ? [] : ((Reflect.getMetadata(key, type) as unknown[] | undefined) ?? []),
    );
  const optional = declared(OPTIONAL_PARAMETERS);
  const optionalProperties = declared(OPTIONAL_PROPERTIES);
  const factoryOptional = (index: number) => {
    const declared = wrapper.inject?.[index] as { optional?: boolean } | undefined;
    return typeof declared === 'object' && declared?.optional === true;
  };
  const constructorNeeds = (wrapper.getCtorMetadata() ?? []).some(
    (dependency, index) =>
      dependency?.token === token && !optional.has(index) && !factoryOptional(index),
  );
  const propertyNeeds = (wrapper.getPropertiesMetadata() ?? []).some(
    (property) => property.wrapper?.token === token && !optionalProperties.has(property.key),
  );
  return constructorNeeds || propertyNeeds;
}
