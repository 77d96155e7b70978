import { AuthError, MissingTokenError } from '../errors/auth-errors.js';
import type { MethodRule } from './method-rule.js';
import { currentIdentity, type CallIdentity } from './principal-context.js';
import { assertScopes } from './scopes.js';
import { assertSameTenant, tenantAt } from './tenant.js';

/** Told of every refused call into a protected method. */
export type DeniedListener = (event: { method: string; error: AuthError }) => void;

// `never[]` parameters: any method fits, whatever its own parameter types.
type AnyMethod = (...args: never[]) => unknown;

/**
 * Wraps a method so every call is checked against the current identity before it runs (and,
 * for a tenant read from the result, after). A sync method stays sync, an async one async.
 */
export function guardMethod<F extends AnyMethod>(
  method: F,
  rule: MethodRule,
  name: string,
  onDenied?: DeniedListener,
): F {
  const { scopes, tenant } = rule;
  const deny = (error: unknown): never => {
    if (error instanceof AuthError) onDenied?.({ method: name, error });
    throw error;
  };
  const checkResult = (identity: CallIdentity, result: unknown): unknown => {
    if (tenant === undefined || !('result' in tenant)) return result;
    try {
      if (result !== null && result !== undefined)
        assertSameTenant(identity, tenantAt(result, tenant.result));
    } catch (error) {
      deny(error);
    }
    return result;
  };
  // An async method refuses with a rejected promise, as its callers expect; a sync one throws.
  const isAsync = method.constructor.name === 'AsyncFunction';
  const guarded = function (this: unknown, ...args: unknown[]): unknown {
    const identity = currentIdentity();
    try {
      if (identity === undefined) throw new MissingTokenError('no_principal');
      if (scopes.length > 0) assertScopes(identity.principal, scopes);
      if (tenant !== undefined && 'arg' in tenant) {
        assertSameTenant(identity, tenantAt(args[tenant.arg], tenant.field));
      }
    } catch (error) {
      if (isAsync) return Promise.reject(error).catch(deny);
      deny(error);
    }
    const result = Reflect.apply(method, this, args);
    if (tenant === undefined || !('result' in tenant)) return result;
    return result instanceof Promise
      ? result.then((value: unknown) => checkResult(identity!, value))
      : checkResult(identity!, result);
  };
  Object.defineProperty(guarded, 'name', { value: method.name });
  return guarded as unknown as F;
}
