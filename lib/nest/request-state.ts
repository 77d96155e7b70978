import { currentContext, type CallContext } from '../authorization/principal-context.js';
import { IncomingMessage } from 'node:http';
import type { AuthError, InvalidTokenError } from '../errors/auth-errors.js';
import type { Principal } from '../verify/principal.js';

/**
 * Why a request was refused: an authentication or authorization error, or throttling (the
 * `ThrottledRequestError` of `nest-tessera/throttler`, named here by its shape only: the main
 * entry never loads `@nestjs/throttler`).
 */
export type RequestRejection = AuthError | (Error & { readonly reason: 'throttled' });

/** A verdict on a token, and the verifier that reached it (an application may have several). */
type VerifiedToken =
  | { readonly token: string; readonly by: object; readonly principal: Principal }
  | { readonly token: string; readonly by: object; readonly error: InvalidTokenError };

/** The library's own state of one request, shared by the adapter's and the Node request. */
interface RequestState {
  principal?: Principal;
  rejection?: RequestRejection;
  verified?: VerifiedToken;
  /** The failures a Passport strategy of this library reported (`nest-tessera/passport`). */
  passportFailures?: AuthError[];
}

// Under a symbol key, so that no other code sets it by accident.
const STATE = Symbol('tessera.request-state');

interface AdapterRequest {
  user?: unknown;
  raw?: AdapterRequest;
  [STATE]?: RequestState;
}

// Express points each request at its app's request prototype (`Object.setPrototypeOf`). V8 then
// builds a hidden class of its own for every property added to such a request, and each later
// property read on it misses its inline caches: counted in a server, the two properties the guard
// used to add cost more than twice the rest of the guard. So the state of those requests is kept
// in a WeakMap, and their `request.user` is an accessor on the app's request prototype that reads
// it. Anywhere else (Fastify's request, a plain Node request) a property is the cheapest.
const perAppRequestStates = new WeakMap<object, RequestState>();
const prototypesWithUser = new WeakSet<object>();

/** A Node request whose prototype its framework replaced with its own (Express). */
function hasAppPrototype(request: IncomingMessage): boolean {
  return Object.getPrototypeOf(request) !== IncomingMessage.prototype;
}

// Express's request is the Node request, told by its class: reading a property it lacks (`raw`)
// walks its long prototype chain, hundreds of nanoseconds on every request.
function stateOf(request: object): RequestState | undefined {
  return request instanceof IncomingMessage && hasAppPrototype(request)
    ? perAppRequestStates.get(request)
    : (request as AdapterRequest)[STATE];
}

/**
 * The request's state, created on first use: on the request and, under an adapter's own request
 * object (Fastify's), on the Node request too, so that middleware working on it finds the same.
 */
function stateFor(request: object): RequestState {
  const node = request instanceof IncomingMessage;
  if (node && hasAppPrototype(request)) {
    let state = perAppRequestStates.get(request);
    if (state === undefined) perAppRequestStates.set(request, (state = {}));
    return state;
  }
  const carrier = request as AdapterRequest;
  let state = carrier[STATE];
  if (state === undefined) {
    state = {};
    carrier[STATE] = state;
    if (!node && carrier.raw && carrier.raw !== carrier) carrier.raw[STATE] = state;
  }
  return state;
}

/**
 * Records the verified principal for the request, and as `request.user` (the Passport
 * convention), on the adapter's request and on the underlying Node request, so middleware sees it.
 */
export function setPrincipal(request: object, principal: Principal): void {
  stateFor(request).principal = principal;
  // The request's call context (openRequestContexts) runs as this caller from now on.
  const context = currentContext();
  if (isContextOf(context, request)) context.identity = { principal, crossTenant: false };
  if (request instanceof IncomingMessage) {
    setNodeRequestUser(request, principal);
    return;
  }
  const adapter = request as AdapterRequest;
  adapter.user = principal;
  if (adapter.raw && adapter.raw !== adapter) adapter.raw.user = principal;
}

function setNodeRequestUser(request: IncomingMessage & AdapterRequest, principal: Principal): void {
  // A `user` the request already has of its own (from other middleware) is overwritten.
  if (!hasAppPrototype(request) || Object.hasOwn(request, 'user')) {
    request.user = principal;
    return;
  }
  const prototype = Object.getPrototypeOf(request) as object;
  if (prototypesWithUser.has(prototype)) return;
  if ('user' in prototype || !Object.isExtensible(prototype)) {
    // A prototype of the request defines `user` already, or takes no accessor: leave it, and give
    // the request its own.
    request.user = principal;
    return;
  }
  Object.defineProperty(prototype, 'user', {
    configurable: true,
    get(this: object): Principal | undefined {
      return perAppRequestStates.get(this)?.principal;
    },
    // What other code assigns becomes the request's own `user`, as it would without the accessor.
    set(this: object, value: unknown) {
      Object.defineProperty(this, 'user', {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    },
  });
  prototypesWithUser.add(prototype);
}

/**
 * The principal this library verified for the request (adapter or Node request), if any. Never
 * `request.user`, which other middleware (a session, another Passport strategy) may set to
 * anything: only a principal verified here reaches `@CurrentPrincipal()`, `@Tenant()`, renewal
 * and the service-layer checks.
 */
export function principalOf(request: object): Principal | undefined {
  return stateOf(request)?.principal;
}

/** Records why the request was refused, for the access log (never sent to the client). */
export function setRejection(request: object, error: RequestRejection): void {
  stateFor(request).rejection = error;
}

/** Why the request was refused, if it was: `rejectionOf(req)?.reason`. */
export function rejectionOf(request: object): RequestRejection | undefined {
  return stateOf(request)?.rejection;
}

/** Records a failure a Passport strategy of this library reported for the request. */
export function setPassportFailure(request: object, failure: AuthError): void {
  (stateFor(request).passportFailures ??= []).push(failure);
}

/** Whether `failure` is one a Passport strategy of this library reported for the request. */
export function isPassportFailureOf(request: object, failure: unknown): boolean {
  return stateOf(request)?.passportFailures?.includes(failure as AuthError) === true;
}

/**
 * Remembers what the verifier `by` made of `token` in this request, its principal or the error
 * it refused it with (the throttler guard identifies the consumer before the bearer guard
 * authenticates), so that verifier does not verify it twice.
 */
export function setVerdict(
  request: object,
  token: string,
  by: object,
  verdict: { readonly principal: Principal } | { readonly error: InvalidTokenError },
): void {
  stateFor(request).verified = { token, by, ...verdict };
}

/**
 * The principal `token` verified as earlier in this request by the verifier `by`, if it did;
 * throws the error it was refused with, if it was (so a bad token is verified, counted and
 * logged once per request). Another verifier's verdict never counts: two modules of one
 * application may trust different issuers and audiences.
 */
export function verifiedFor(request: object, token: string, by: object): Principal | undefined {
  const entry = stateOf(request)?.verified;
  if (entry === undefined || entry.token !== token || entry.by !== by) return undefined;
  if ('error' in entry) throw entry.error;
  return entry.principal;
}

/** Whether `context` is the open call context of `request` (an adapter's or Node's request). */
export function isContextOf(
  context: CallContext | undefined,
  request: object,
): context is CallContext {
  if (context === undefined || context.closed || context.request === undefined) return false;
  return context.request === request || context.request === (request as { raw?: unknown }).raw;
}
