import {
  InvalidDpopProofError,
  InvalidRequestError,
  InvalidTokenError,
} from '../errors/auth-errors.js';
import type { OutagePolicy, RiskTier } from '../revocation/risk-tier.js';
import type { CredentialCarrier } from '../verify/extract-token.js';
import type { Principal } from '../verify/principal.js';
import type { DpopProofVerifier } from './dpop-proof-verifier.js';

/** The parts of an HTTP request a DPoP check reads, whatever the HTTP adapter. */
export interface DpopCarrier {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The request target (path and query). */
  readonly url?: string;
  readonly method?: string;
  /** Express's request target before any router changed `url`; Fastify's too. */
  readonly originalUrl?: string;
  readonly socket?: { readonly encrypted?: boolean };
  /** Fastify's Node request. */
  readonly raw?: { readonly socket?: { readonly encrypted?: boolean } };
}

/** How a resource server treats DPoP: when it is required and which URL proofs must name. */
export interface DpopPolicy {
  readonly proofs: DpopProofVerifier;
  /** Unbound tokens refused: of every issuer (`true`), of these issuers, or of none. */
  readonly required: boolean | ReadonlySet<string>;
  /** The origins (`https://host[:port]`) this service is reached at; empty: from each request. */
  readonly origins: readonly string[];
  /** What the replay check does while its shared cache is down, by route tier. */
  readonly onOutage: OutagePolicy;
}

// RFC 9449 §7.1: credentials = "DPoP" 1*SP token68, the scheme case-insensitive.
const DPOP_SCHEME = /^dpop(?: +|$)/i;

/**
 * The access token of an `Authorization: DPoP <token>` header, `undefined` for any other scheme;
 * a DPoP credential of no word or of two is a 400 `invalid_request`.
 */
export function dpopCredential(authorization: unknown): string | undefined {
  if (typeof authorization !== 'string' || !DPOP_SCHEME.test(authorization)) return undefined;
  const token = authorization.slice(4).trim();
  if (token === '' || token.includes(' ') || token.includes('\t')) {
    throw new InvalidRequestError('malformed_credentials');
  }
  return token;
}

/** Whether the request authenticates with the DPoP scheme (for the challenge of a refusal). */
export function usesDpopScheme(request: CredentialCarrier): boolean {
  const authorization = request.headers.authorization;
  return typeof authorization === 'string' && DPOP_SCHEME.test(authorization);
}

/** `cnf.jkt` of a verified token (RFC 9449 §6.1), if it is bound to a key. */
function boundKey(principal: Principal): string | undefined {
  const cnf = principal.claims.cnf;
  if (cnf === undefined) return undefined;
  const jkt = (cnf as { jkt?: unknown } | null)?.jkt;
  // A `cnf` this library cannot check (another method, a malformed one) binds the token all the
  // same: it is never taken as a bearer token.
  return typeof jkt === 'string' && jkt !== '' ? jkt : '';
}

/** Refuses a token bound to a key where no proof can be asked (bearer use, messages). */
export function unbound(principal: Principal): Principal {
  if (principal.claims.cnf !== undefined) throw new InvalidTokenError('dpop_bound_as_bearer');
  return principal;
}

/**
 * Refuses an unbound token where DPoP is required for its issuer (`dpop_required`) and no proof
 * can come with it; `policy` absent: DPoP is off.
 */
export function refuseWithoutProof(
  policy: DpopPolicy | undefined,
  principal: Principal,
): Principal {
  if (policy !== undefined && requires(policy, principal.issuer)) {
    throw new InvalidTokenError('dpop_required');
  }
  return principal;
}

/**
 * What a request presenting `principal`'s token needs beyond the token: a bound token only as
 * `Authorization: DPoP` with a valid proof by its key for this request, an unbound one only as a
 * bearer token and only where DPoP is not required. Resolves to the principal.
 */
export function checkBinding(
  policy: DpopPolicy,
  request: DpopCarrier,
  principal: Principal,
  token: string,
  viaDpop: boolean,
  tier: RiskTier,
): Principal | Promise<Principal> {
  const jkt = boundKey(principal);
  if (!viaDpop) {
    if (jkt !== undefined) throw new InvalidTokenError('dpop_bound_as_bearer');
    return refuseWithoutProof(policy, principal);
  }
  if (jkt === undefined || jkt === '') {
    throw new InvalidTokenError(
      requires(policy, principal.issuer) ? 'dpop_required' : 'dpop_key_mismatch',
    );
  }
  return policy.proofs
    .verify({
      proof: request.headers.dpop,
      method: request.method ?? '',
      url: requestUrl(request, policy.origins),
      accessToken: token,
      jkt,
      onOutage: policy.onOutage[tier],
    })
    .then(() => principal);
}

function requires(policy: DpopPolicy, issuer: string): boolean {
  return policy.required === true || (policy.required !== false && policy.required.has(issuer));
}

// RFC 3986 §3.2.2-3.2.3 host [":" port]: an IP literal, or a reg-name (which covers IPv4).
const HOST = /^(?:\[[0-9a-f:.]+\]|(?:[a-z0-9\-._~!$&'()*+,;=]|%[0-9a-f]{2})+)(?::[0-9]*)?$/i;

/**
 * The URL a proof for this request must name (`htu`). With configured origins, the one whose
 * host the request's `Host` header names (else the first); without, the request's own scheme
 * (`https` on a TLS socket) and `Host`. A proxy's `X-Forwarded-*` headers are never read.
 * Throws `InvalidDpopProofError('htu_mismatch')` for a `Host` that is not `host[:port]`, and for
 * a path that does not stay as received once parsed as a URL (dot segments, `%2e%2e`): the proof
 * is checked against the path the application routes, never a normalized one.
 */
export function requestUrl(request: DpopCarrier, origins: readonly string[]): string {
  const target = request.originalUrl ?? request.url ?? '/';
  const path = target.split('?', 1)[0].split('#', 1)[0];
  const host = request.headers.host;
  if (host !== undefined && (typeof host !== 'string' || !HOST.test(host))) {
    throw new InvalidDpopProofError('htu_mismatch');
  }
  let url: string;
  if (origins.length > 0) {
    const named = origins.find(
      (origin) => typeof host === 'string' && new URL(origin).host === host.toLowerCase(),
    );
    url = `${named ?? origins[0]}${path}`;
  } else {
    const encrypted = request.socket?.encrypted ?? request.raw?.socket?.encrypted;
    url = `${encrypted === true ? 'https' : 'http'}://${host ?? 'localhost'}${path}`;
  }
  if (!path.startsWith('/') || parsedPath(url) !== path) {
    throw new InvalidDpopProofError('htu_mismatch');
  }
  return url;
}

function parsedPath(url: string): string | undefined {
  try {
    return new URL(url).pathname;
  } catch {
    return undefined;
  }
}
