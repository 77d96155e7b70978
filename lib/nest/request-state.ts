import { IncomingMessage } from 'node:http';
import type { AuthError, InvalidTokenError } from '../errors/auth-errors.js';
import type { TooManyRequestsError } from '../errors/too-many-requests.error.js';
import type { Principal } from '../verify/principal.js';

// Symbol keys of the library's own request state: no other code sets them by accident. (A
// property, not a WeakMap entry: this is written on every request, and a WeakMap insert costs
// several times a property store.)
const PRINCIPAL = Symbol('tessera.principal');
const REJECTION = Symbol('tessera.rejection');
const VERIFIED = Symbol('tessera.verified');

interface AdapterRequest {
  user?: unknown;
  [PRINCIPAL]?: Principal;
  raw?: AdapterRequest;
  [REJECTION]?: RequestRejection;
  [VERIFIED]?: VerifiedToken;
}

/**
 * Records the verified principal for the request, and as `request.user` (the Passport
 * convention), on the adapter's request and on the underlying Node request, so middleware sees it.
 */
export function setPrincipal(request: object, principal: Principal): void {
  for (const target of layers(request)) {
    target[PRINCIPAL] = principal;
    target.user = principal;
  }
}

/**
 * The principal this library verified for the request (adapter or Node request), if any. Never
 * `request.user`, which other middleware (a session, another Passport strategy) may set to
 * anything: only a principal verified here reaches `@CurrentPrincipal()`, `@Tenant()`, renewal
 * and the service-layer checks.
 */
export function principalOf(request: object): Principal | undefined {
  return (request as AdapterRequest)[PRINCIPAL];
}

/** Why a request was refused: an authentication or authorization error, or throttling. */
export type RequestRejection = AuthError | TooManyRequestsError;

/** Records why the request was refused, for the access log (never sent to the client). */
export function setRejection(request: object, error: RequestRejection): void {
  for (const target of layers(request)) target[REJECTION] = error;
}

/** Why the request was refused, if it was: `rejectionOf(req)?.reason`. */
export function rejectionOf(request: object): RequestRejection | undefined {
  return (request as AdapterRequest)[REJECTION];
}

/**
 * The request and, under an adapter's own request object (Fastify's), the Node request. Express's
 * request is the Node request: told by its class, since reading a property it lacks (`raw`) walks
 * its long prototype chain, hundreds of nanoseconds on every request.
 */
function layers(request: object): AdapterRequest[] {
  const adapter = request as AdapterRequest;
  if (request instanceof IncomingMessage) return [adapter];
  return adapter.raw && adapter.raw !== adapter ? [adapter, adapter.raw] : [adapter];
}

type VerifiedToken =
  | { readonly token: string; readonly principal: Principal }
  | { readonly token: string; readonly error: InvalidTokenError };

/**
 * Remembers that `token` verified as `principal` for this request (the throttle identifies the
 * consumer before the bearer guard authenticates), so it is not verified twice.
 */
export function setVerified(request: object, token: string, principal: Principal): void {
  (request as AdapterRequest)[VERIFIED] = { token, principal };
}

/** Remembers that `token` failed verification in this request, so it is not verified twice. */
export function setRejectedToken(request: object, token: string, error: InvalidTokenError): void {
  (request as AdapterRequest)[VERIFIED] = { token, error };
}

/**
 * The principal `token` verified as earlier in this request, if it did; throws the error it was
 * refused with, if it was (so a bad token is verified, counted and logged once per request).
 */
export function verifiedFor(request: object, token: string): Principal | undefined {
  const entry = (request as AdapterRequest)[VERIFIED];
  if (entry === undefined || entry.token !== token) return undefined;
  if ('error' in entry) throw entry.error;
  return entry.principal;
}
