import type { AuthError } from '../errors/auth-errors.js';
import type { Principal } from '../verify/principal.js';

const REJECTION = Symbol('tessera.rejection');

interface AdapterRequest {
  user?: unknown;
  raw?: AdapterRequest;
  [REJECTION]?: AuthError;
}

/**
 * Records the verified principal on the request as `request.user` (the Passport convention), on
 * the adapter's request and on the underlying Node request, so middleware sees it too.
 */
export function setPrincipal(request: object, principal: Principal): void {
  for (const target of layers(request)) target.user = principal;
}

/** The principal the guard verified for this request, if any. */
export function principalOf(request: object): Principal | undefined {
  return (request as AdapterRequest).user as Principal | undefined;
}

/** Records why the request was refused, for the access log (never sent to the client). */
export function setRejection(request: object, error: AuthError): void {
  for (const target of layers(request)) target[REJECTION] = error;
}

/** Why the request was refused, if it was: `rejectionOf(req)?.reason`. */
export function rejectionOf(request: object): AuthError | undefined {
  return (request as AdapterRequest)[REJECTION];
}

function layers(request: object): AdapterRequest[] {
  const adapter = request as AdapterRequest;
  return adapter.raw && adapter.raw !== adapter ? [adapter, adapter.raw] : [adapter];
}
