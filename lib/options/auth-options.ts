import type { AuthEvents } from '../events.js';
import type { SigningAlgorithm } from '../keys/algorithms.js';
import type { ServiceIdentityOptions } from '../authorization/service-identities.js';
import type { Jwk } from '../keys/jwk.js';
import type { KeySource } from '../keys/key-source.js';
import type { OutagePolicy } from '../revocation/risk-tier.js';
import type { IssuerProfileName } from '../verify/issuer-profile.js';
import type { RedisBackend } from './redis-backend.js';
import type { TokenRenewer } from '../renewal/token-renewer.js';
import type { DpopReplayCache } from '../dpop/dpop-replay-cache.js';
import type { RevocationStore } from '../revocation/revocation-store.js';

/** An issuer whose tokens are accepted, with the one place its keys come from. */
export interface TrustedIssuerOptions {
  /** The exact `iss` value of its tokens. */
  issuer: string;
  /**
   * Its JWKS URL (http or https). Exactly one of `jwksUri`, `keys`, `keySource` and `discovery`
   * is given.
   */
  jwksUri?: string;
  /** Its public keys as JWKs, each with a `kid`, for issuers that publish no JWKS. */
  keys?: readonly Jwk[];
  /**
   * Keys that change at run time, e.g. the issuer's own `keyRing.asKeySource()` in the service
   * that signs (its rotations are seen at once).
   */
  keySource?: KeySource;
  /**
   * How this issuer's access tokens look: the `typ` headers accepted, the claims required, the
   * tokens of its other kinds refused although signed (ID, refresh), and where scopes and the
   * tenant are read. The table is in docs/verification.md.
   * @default 'rfc9068'
   */
  profile?: IssuerProfileName;
  /**
   * The audiences accepted from this issuer: its tokens' `aud` must name one (for `cognito`,
   * whose access tokens carry no `aud`, the `client_id` must be one).
   * @default the module's `audience`
   */
  audience?: string | readonly string[];
  /**
   * Claim paths (dots for nesting: `realm_access.roles`) whose values, space-separated strings
   * or arrays of strings, together make the caller's scopes; replaces the profile's list. A
   * claim whose own name has dots (`https://example.com/roles`) is read by that name first; the
   * profiles' own paths read nesting only.
   * @default the profile's
   */
  scopeClaims?: readonly string[];
  /**
   * The claim path of the caller's tenant, read as `scopeClaims` paths are; `null`: this
   * issuer's tokens name no tenant.
   * @default the profile's
   */
  tenantClaim?: string | null;
  /**
   * Accepted `typ` header values, compared without case and without an `application/` prefix;
   * `null` in the list accepts a header without `typ`. Replaces the profile's list.
   * @default the profile's (`['at+jwt']` for `rfc9068`)
   */
  tokenTypes?: readonly (string | null)[];
  /**
   * Claims a token must carry besides `iss`, `sub` and `exp`; replaces the profile's list. A
   * claim of the wrong type counts as absent: `exp`, `iat`, `nbf` and `auth_time` are numbers,
   * `aud` a string or strings, `jti`, `tid`, `azp`, `sid`, `client_id`, `token_use` and `ver`
   * non-empty strings, any other claim present and not `null`. The audience is checked whatever
   * this says.
   * @default the profile's (`['aud', 'iat', 'jti']` for `rfc9068`)
   */
  requiredClaims?: readonly string[];
  /**
   * `true`: its JWKS URL is the `jwks_uri` of its metadata, read from
   * `{issuer}/.well-known/openid-configuration`, or where that answers 404 from RFC 8414's
   * `/.well-known/oauth-authorization-server` (docs/verification.md). The metadata must name
   * exactly this `issuer`. Start-up never waits for it: until it has been read the issuer's tokens
   * are refused (`keys_unavailable`) and it is retried in the background. `false` is the same as
   * leaving it out.
   * @default false
   */
  discovery?: boolean;
}

/** Where the guard looks for the access token besides `Authorization: Bearer`. */
export interface TokenSourceOptions {
  /**
   * Further request headers that may carry the bare token (e.g. `x-access-token`).
   * @default []
   */
  headers?: readonly string[];
  /**
   * A field of a JSON request body that may carry the token, for tokens too large for a header.
   * @default undefined (body not read)
   */
  bodyField?: string;
  /**
   * Query parameters whose presence makes the request a 400 `invalid_request`: tokens in URLs end
   * up in logs, caches and `Referer` headers.
   * @default ['access_token']
   */
  forbiddenQueryParameters?: readonly string[];
}

/** JWKS fetching and caching, per issuer. */
export interface JwksOptions {
  /**
   * Longest time fetched keys are cached, in seconds; a shorter `Cache-Control: max-age` wins.
   * @default 600
   */
  cacheTtlSeconds?: number;
  /**
   * Least time between two fetches of one issuer's JWKS, in seconds: an unknown `kid` triggers a
   * fetch at once, but a flood of them makes at most one fetch per cooldown.
   * @default 5
   */
  cooldownSeconds?: number;
  /**
   * Time after which a JWKS fetch is abandoned, in milliseconds.
   * @default 3000
   */
  timeoutMs?: number;
}

/** The revocation list every request is checked against. */
export interface RevocationOptions {
  /**
   * A store to use as it is (the caller closes it), in place of the module's `redis`. Without
   * either, an in-memory store serves a single instance.
   */
  store?: RevocationStore;
  /**
   * Prefix of the Redis keys and channel (with the module's `redis`); in a Cluster it must hold a
   * hash tag.
   * @default '{tessera}:revocation:'
   */
  keyPrefix?: string;
  /**
   * Routes requiring any of these scopes are sensitive (as if marked `@Sensitive()`): their
   * tokens are checked against the backend itself, not the local view.
   * @default []
   */
  sensitiveScopes?: readonly string[];
  /**
   * What happens when the backend cannot be asked, per tier.
   * @default { standard: 'fail-open', sensitive: 'fail-closed' }
   */
  onOutage?: Partial<OutagePolicy>;
}

/** Sliding renewal of near-expiry tokens, returned in a response header. */
export interface RenewalOptions {
  /** Who issues the renewed token: `LocalTokenRenewer` (issuer) or `RemoteTokenRenewer`. */
  renewer: TokenRenewer;
  /** A valid token with less than this many seconds left is renewed. */
  windowSeconds: number;
  /**
   * The response header that carries the renewed token.
   * @default 'X-Renewed-Token'
   */
  header?: string;
  /**
   * How long a finished answer may wait for a renewal still running, in milliseconds.
   * @default 10
   */
  budgetMs?: number;
  /**
   * Issuers whose tokens are renewed (the renewer's own); client tokens never are.
   * @default every trusted issuer
   */
  issuers?: readonly string[];
}

/**
 * Sender-constrained tokens (DPoP, RFC 9449): a token bound to a key (`cnf.jkt`) is accepted only
 * as `Authorization: DPoP` with a proof by that key for the request.
 */
export interface DpopOptions {
  /**
   * Refuse unbound (bearer) tokens: of every issuer (`true`), or of the issuers listed.
   * @default false
   */
  required?: boolean | readonly string[];
  /**
   * Algorithms a proof may be signed with; asymmetric only.
   * @default ['ES256', 'EdDSA', 'RS256', 'PS256']
   */
  algorithms?: readonly SigningAlgorithm[];
  /**
   * How old a proof's `iat` may be, in seconds (plus `clockToleranceSeconds` either way).
   * @default 60
   */
  proofMaxAgeSeconds?: number;
  /**
   * Proofs longer than this many bytes are refused before anything is decoded.
   * @default 8192
   */
  maxProofBytes?: number;
  /**
   * The origins (`https://api.example.com`) clients reach this service at: a proof's `htu` must
   * be one of them plus the request's path. Behind a proxy that terminates TLS, list them.
   * @default from each request: `https` on a TLS socket, else `http`, and its `Host` header
   */
  origins?: readonly string[];
  /**
   * Server nonces (RFC 9449 §9): every proof must carry a recent one, else 401 `use_dpop_nonce`
   * with a `DPoP-Nonce` header. Instances behind one address need the same `secret`.
   * @default off
   */
  nonce?: DpopNonceSettings;
  /**
   * Where accepted proofs are remembered (replays refused), in place of the module's `redis`.
   * @default the module's `redis` when given, else in memory (one instance)
   */
  replayCache?: DpopReplayCache;
  /**
   * Prefix of the replay cache's Redis keys (with the module's `redis`).
   * @default '{tessera}:dpop:'
   */
  keyPrefix?: string;
}

/** Server nonces for DPoP proofs. */
export interface DpopNonceSettings {
  /** At least 32 bytes, the same on every instance. @default a random one per process */
  secret?: string;
  /**
   * Seconds a nonce is current (it is accepted for as long again after).
   * @default 300
   */
  lifetimeSeconds?: number;
}

/** Configuration of `AuthModule.forRoot()`; checked once at start-up. */
export interface AuthModuleOptions {
  /** The issuers whose tokens are accepted; a key of one issuer never verifies another's token. */
  issuers: readonly TrustedIssuerOptions[];
  /**
   * The `aud` value(s) this service accepts from issuers without an `audience` of their own; a
   * token must name at least one. Required unless every issuer has its own.
   */
  audience?: string | readonly string[];
  /**
   * Accepted signature algorithms; each key is further pinned to its own algorithm.
   * @default every supported one: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA
   */
  algorithms?: readonly SigningAlgorithm[];
  /**
   * Leeway for `exp`, `nbf` and `iat`, in seconds.
   * @default 5
   */
  clockToleranceSeconds?: number;
  /**
   * Tokens longer than this many bytes are refused before anything is decoded.
   * @default 8192
   */
  maxTokenBytes?: number;
  /**
   * Entries in the verified-token cache (a repeated token then costs a map look-up, never past
   * its `exp`); 0 turns the cache off.
   * @default 10000
   */
  verifiedTokenCacheSize?: number;
  /** JWKS fetching and caching. */
  jwks?: JwksOptions;
  /**
   * Redis shared by every instance, for the revocation list (`revocation.store` takes its place):
   * `redis(url)` from `nest-tessera/redis`, which needs the `ioredis` package. Opened once per
   * module instance when the revocation list uses it; what it opened is closed at shutdown.
   * @default none: in memory, one instance
   * @example redis: redis('redis://127.0.0.1:6379')
   */
  redis?: RedisBackend;
  /**
   * The revocation list every request is checked against: in the module's `redis` when given,
   * else in memory (one instance). `{}` turns it on with its defaults.
   * @default off
   */
  revocation?: RevocationOptions;
  /** Where tokens may be read from besides `Authorization: Bearer`. */
  tokenSources?: TokenSourceOptions;
  /**
   * DPoP-bound tokens (RFC 9449) with proofs; `{}` turns it on with its defaults. Off, a bound
   * token is refused whichever way it comes.
   * @default off
   */
  dpop?: DpopOptions;
  /**
   * Sliding renewal of near-expiry session tokens; absent: off.
   * @default off
   */
  renewal?: RenewalOptions;
  /**
   * Named identities that scheduled tasks and workers run as (`@RunAs(name)`): a local principal
   * with explicit scopes, or client credentials at the issuer.
   * @default {}
   */
  serviceIdentities?: Readonly<Record<string, ServiceIdentityOptions>>;
  /**
   * Runs every request (from the HTTP server's `request` event on) and every message inside its
   * caller's call context (`currentPrincipal()`), which protected methods and `@RunAs` read.
   * Costs an `AsyncLocalStorage` context and an interceptor per request, so by default it is off
   * only while every rule of every class loaded in the process is a route handler's scopes that
   * the guard checks whole; `true` for classes imported after start-up; `false` beside a member
   * that needs it is a start-up error.
   * @default planned at start from the classes' rules
   */
  principalContext?: boolean;
  /**
   * Registers the bearer guard for every route (opt out with `@Public()`).
   * @default true
   */
  globalGuard?: boolean;
  /**
   * A metadata key that marks routes public besides `@Public()`, for apps written after the Nest
   * docs' `SetMetadata(IS_PUBLIC_KEY, true)` (`'isPublic'`): a route or controller whose metadata
   * under this key is `true` is opted out of the bearer guard, like `@Public()`.
   * @default none: only `@Public()`
   * @example publicMetadataKey: 'isPublic'
   */
  publicMetadataKey?: string;
  /** Hooks for metrics, logs and traces. */
  events?: AuthEvents;
  /**
   * The clock, in epoch seconds; for tests.
   * @default () => Date.now() / 1000
   */
  now?: () => number;
  /**
   * The `fetch` used for JWKS and issuer metadata; for tests and proxies.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * Refuses, at start, an `http:` JWKS URL, issuer with `discovery`, client-credentials token
   * endpoint or `dpop.origins` entry whose host is not loopback (`localhost`, 127.0.0.0/8, `::1`),
   * and such a discovered `jwks_uri` when the metadata is read: keys read in clear can be swapped
   * on the way, a client secret sent in clear is anyone's, and so is a token with its proof. Set it
   * in production (`NODE_ENV=production`);
   * give `RemoteTokenRenewer` the same.
   * @default false
   */
  requireHttps?: boolean;
}
