import { InsufficientScopeError } from '../errors/auth-errors.js';
import type { CallIdentity } from './principal-context.js';

/** Reads `field` of `value`, or `value` itself when no field is named. */
export function tenantAt(value: unknown, field: string | undefined): unknown {
  if (field === undefined) return value;
  if (value === null || typeof value !== 'object') return undefined;
  return (value as Record<string, unknown>)[field];
}

/**
 * Refuses a call that would act on another tenant's data: the tenant must be a string equal to
 * the caller's, unless the identity was explicitly granted cross-tenant access.
 */
export function assertSameTenant(identity: CallIdentity, tenant: unknown): void {
  if (identity.crossTenant) return;
  const own = identity.principal.tenant;
  if (own === undefined) throw new InsufficientScopeError([], 'missing_tenant');
  if (typeof tenant !== 'string' || tenant !== own) {
    throw new InsufficientScopeError([], 'tenant_mismatch');
  }
}
