import { InsufficientScopeError } from '../errors/auth-errors.js';
import type { Principal } from '../verify/principal.js';

/** Throws `InsufficientScopeError` unless the principal holds every required scope. */
export function assertScopes(principal: Principal, required: readonly string[]): void {
  // Checked without building the list of missing scopes: this runs on every guarded request.
  for (const scope of required) {
    if (!principal.scopes.includes(scope)) throw new InsufficientScopeError(required);
  }
}

/** The principal's tenant; throws `InsufficientScopeError` for a token bound to no tenant. */
export function requireTenant(principal: Principal): string {
  if (principal.tenant === undefined) throw new InsufficientScopeError([], 'missing_tenant');
  return principal.tenant;
}
