import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { TenantLocation } from '../authorization/method-rule.js';
import { requireTenant } from '../authorization/scopes.js';
import { requestPrincipal } from './principal.decorators.js';
import { securingDecorator } from './secure.decorator.js';

/** Metadata set by `@Tenant(location)` on a service method or class. */
export const TenantRule = Reflector.createDecorator<TenantLocation>();

const TenantParam = createParamDecorator((_: unknown, context: ExecutionContext) =>
  requireTenant(requestPrincipal(context)),
);

/**
 * Two uses, one idea: the caller's tenant.
 * - On a handler parameter, `@Tenant()` gives the caller's `tid`; a token bound to no tenant is
 *   refused with 403 `insufficient_scope`.
 * - On a service method (or class), `@Tenant({ arg: 0 })`, `@Tenant({ arg: 0, field: 'tenant' })`
 *   or `@Tenant({ result: 'tenant' })` says where the tenant of the data is; a caller of another
 *   tenant is refused, whoever calls.
 * @example list(@Tenant() tenant: string) {}
 * @example @Tenant({ arg: 0 }) findById(tenant: string, id: string) {}
 */
export function Tenant(
  location?: TenantLocation,
): ParameterDecorator & MethodDecorator & ClassDecorator {
  const rule =
    location === undefined
      ? undefined
      : securingDecorator(
          '@Tenant',
          { tenant: location },
          { key: TenantRule.KEY, value: location },
        );
  return ((
    target: object,
    key?: string | symbol,
    indexOrDescriptor?: number | PropertyDescriptor,
  ) => {
    if (typeof indexOrDescriptor === 'number') {
      if (location !== undefined) throw new TypeError('@Tenant() on a parameter takes no location');
      return TenantParam()(target, key, indexOrDescriptor);
    }
    if (rule === undefined) {
      throw new TypeError(
        '@Tenant on a method or class needs a location, e.g. @Tenant({ arg: 0 })',
      );
    }
    return (rule as (t: object, k?: string | symbol, d?: PropertyDescriptor) => unknown)(
      target,
      key,
      indexOrDescriptor,
    );
  }) as ParameterDecorator & MethodDecorator & ClassDecorator;
}
