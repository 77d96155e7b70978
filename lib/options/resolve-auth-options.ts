import type { AuthEvents } from '../events.js';
import { combineAuthEvents } from '../observability/combine-events.js';
import {
  isSigningAlgorithm,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
} from '../keys/algorithms.js';
import type { Jwk } from '../keys/jwk.js';
import type { KeySource } from '../keys/key-source.js';
import {
  isIssuerProfileName,
  ISSUER_PROFILES,
  issuerPolicy,
  type IssuerPolicy,
} from '../verify/issuer-profile.js';
import { jwksUriProblem } from '../keys/jwks-uri.js';
import { checkKnownKeys } from './known-keys.js';
import type { ServiceIdentityOptions } from '../authorization/service-identities.js';
import type { OutagePolicy } from '../revocation/risk-tier.js';
import type { AuthModuleOptions, RevocationOptions, TrustedIssuerOptions } from './auth-options.js';
import type { RedisBackend } from './redis-backend.js';
import type { TokenRenewer } from '../renewal/token-renewer.js';
import { isSecureUrl } from '../util/secure-url.js';
import { resolveDpop, type ResolvedDpopOptions } from './resolve-dpop-options.js';
import { bounded, boundedInteger, describe, fail, optional, strings } from './option-checks.js';

/** Options with every default applied and every value checked. */
export interface ResolvedAuthOptions {
  readonly issuers: readonly ResolvedIssuer[];
  readonly algorithms: readonly SigningAlgorithm[];
  readonly clockToleranceSeconds: number;
  readonly maxTokenBytes: number;
  readonly verifiedTokenCacheSize: number;
  readonly jwks: { cacheTtlSeconds: number; cooldownSeconds: number; timeoutMs: number };
  readonly tokenSources: {
    headers: readonly string[];
    bodyField: string | undefined;
    forbiddenQueryParameters: readonly string[];
  };
  /** Redis for the features without a store of their own; undefined: in memory. */
  readonly redis: RedisBackend | undefined;
  readonly revocation: ResolvedRevocationOptions | false;
  readonly serviceIdentities: Readonly<Record<string, ServiceIdentityOptions>>;
  readonly renewal: ResolvedRenewalOptions | false;
  readonly dpop: ResolvedDpopOptions | false;
  readonly principalContext: boolean | undefined;
  readonly globalGuard: boolean;
  readonly publicMetadataKey: string | undefined;
  readonly events: AuthEvents;
  readonly now: () => number;
  readonly fetch: typeof fetch | undefined;
  readonly requireHttps: boolean;
}

export interface ResolvedRenewalOptions {
  readonly renewer: TokenRenewer;
  readonly windowSeconds: number;
  readonly header: string;
  readonly budgetMs: number;
  readonly issuers: ReadonlySet<string>;
}

export interface ResolvedRevocationOptions {
  readonly store: RevocationOptions['store'];
  readonly keyPrefix: string | undefined;
  readonly sensitiveScopes: ReadonlySet<string>;
  readonly onOutage: OutagePolicy;
}

/** Where a trusted issuer's keys come from. */
type IssuerKeys =
  | { readonly issuer: string; readonly jwksUri: string }
  | { readonly issuer: string; readonly keys: readonly Jwk[] }
  | { readonly issuer: string; readonly keySource: KeySource }
  | { readonly issuer: string; readonly discovery: true };

/** A trusted issuer: where its keys come from, and its policy (its profile with its overrides). */
export type ResolvedIssuer = IssuerKeys & { readonly policy: IssuerPolicy };

/**
 * Every default of `AuthModuleOptions`, applied here and nowhere else. A feature left out
 * (`revocation`, `renewal`, `redis`) is off; there is no other way to turn one off.
 */
const DEFAULTS = Object.freeze({
  algorithms: SIGNING_ALGORITHMS,
  profile: 'rfc9068',
  clockToleranceSeconds: 5,
  maxTokenBytes: 8192,
  verifiedTokenCacheSize: 10_000,
  jwks: { cacheTtlSeconds: 600, cooldownSeconds: 5, timeoutMs: 3000 },
  tokenSources: { headers: [], forbiddenQueryParameters: ['access_token'] },
  revocation: {
    sensitiveScopes: [],
    onOutage: { standard: 'fail-open', sensitive: 'fail-closed' },
  },
  renewal: { header: 'X-Renewed-Token', budgetMs: 10 },
  serviceIdentities: {},
  globalGuard: true,
  events: {},
  now: () => Date.now() / 1000,
  requireHttps: false,
} as const);

/** Applies defaults and validates, once, at start-up; throws `AuthConfigError`. */
export function resolveAuthOptions(options: AuthModuleOptions): ResolvedAuthOptions {
  if (options === null || typeof options !== 'object') fail('options must be an object');
  checkKnownKeys(options);
  const jwks = optional('jwks', options.jwks, 'object') ?? {};
  const sources = optional('tokenSources', options.tokenSources, 'object') ?? {};
  const requireHttps =
    optional('requireHttps', options.requireHttps, 'boolean') ?? DEFAULTS.requireHttps;
  return Object.freeze({
    issuers: resolveIssuers(options.issuers, options.audience, requireHttps),
    algorithms: resolveAlgorithms(options.algorithms),
    clockToleranceSeconds: bounded(
      'clockToleranceSeconds',
      options.clockToleranceSeconds ?? DEFAULTS.clockToleranceSeconds,
      0,
      300,
    ),
    maxTokenBytes: boundedInteger(
      'maxTokenBytes',
      options.maxTokenBytes ?? DEFAULTS.maxTokenBytes,
      256,
      1024 * 1024,
    ),
    verifiedTokenCacheSize: bounded(
      'verifiedTokenCacheSize',
      options.verifiedTokenCacheSize ?? DEFAULTS.verifiedTokenCacheSize,
      0,
      10_000_000,
    ),
    jwks: {
      cacheTtlSeconds: bounded(
        'jwks.cacheTtlSeconds',
        jwks.cacheTtlSeconds ?? DEFAULTS.jwks.cacheTtlSeconds,
        1,
        86_400,
      ),
      cooldownSeconds: bounded(
        'jwks.cooldownSeconds',
        jwks.cooldownSeconds ?? DEFAULTS.jwks.cooldownSeconds,
        0,
        3_600,
      ),
      timeoutMs: boundedInteger(
        'jwks.timeoutMs',
        jwks.timeoutMs ?? DEFAULTS.jwks.timeoutMs,
        1,
        60_000,
      ),
    },
    tokenSources: {
      headers: strings(
        'tokenSources.headers',
        sources.headers ?? DEFAULTS.tokenSources.headers,
      ).map((h) => headerName(h)),
      bodyField: optional('tokenSources.bodyField', sources.bodyField, 'string'),
      forbiddenQueryParameters: strings(
        'tokenSources.forbiddenQueryParameters',
        sources.forbiddenQueryParameters ?? DEFAULTS.tokenSources.forbiddenQueryParameters,
      ),
    },
    redis: resolveRedis(options.redis),
    revocation: resolveRevocation(options.revocation),
    serviceIdentities: resolveServiceIdentities(
      options.serviceIdentities ?? DEFAULTS.serviceIdentities,
      requireHttps,
    ),
    renewal: resolveRenewal(options),
    dpop: resolveDpop(options),
    principalContext: optional('principalContext', options.principalContext, 'boolean'),
    globalGuard: optional('globalGuard', options.globalGuard, 'boolean') ?? DEFAULTS.globalGuard,
    publicMetadataKey: publicMetadataKey(options.publicMetadataKey),
    // Isolated: a listener that throws never turns a valid token into a refusal.
    events: combineAuthEvents(optional('events', options.events, 'object') ?? DEFAULTS.events),
    now: optional('now', options.now, 'function') ?? DEFAULTS.now,
    fetch: optional('fetch', options.fetch, 'function'),
    requireHttps,
  });
}

function resolveIssuers(
  issuers: AuthModuleOptions['issuers'],
  audience: AuthModuleOptions['audience'],
  requireHttps: boolean,
): ResolvedIssuer[] {
  if (!Array.isArray(issuers) || issuers.length === 0) fail('issuers: at least one is required');
  const audiences =
    audience === undefined ? undefined : nonEmptyStrings('audience', toList(audience));
  const seen = new Set<string>();
  return issuers.map((entry, i) => {
    const where = `issuers[${i}]`;
    if (typeof entry?.issuer !== 'string' || entry.issuer === '')
      fail(`${where}.issuer is required`);
    if (seen.has(entry.issuer)) fail(`${where}: issuer ${entry.issuer} is listed twice`);
    seen.add(entry.issuer);
    return {
      ...issuerKeys(entry, where, requireHttps),
      policy: resolvePolicy(entry, where, audiences),
    };
  });
}

/** The issuer's profile with its overrides, each checked. */
function resolvePolicy(
  entry: TrustedIssuerOptions,
  where: string,
  moduleAudiences: readonly string[] | undefined,
): IssuerPolicy {
  const profile = entry.profile ?? DEFAULTS.profile;
  if (!isIssuerProfileName(profile)) {
    fail(
      `${where}.profile: ${describe(profile)} is not one of ${Object.keys(ISSUER_PROFILES).join(', ')}`,
    );
  }
  const audiences =
    entry.audience === undefined
      ? moduleAudiences
      : nonEmptyStrings(`${where}.audience`, toList(entry.audience));
  if (audiences === undefined) fail(`${where}: give it an audience, or the module an audience`);
  const tenantClaim = entry.tenantClaim;
  if (tenantClaim !== undefined && tenantClaim !== null)
    claimPathOption(`${where}.tenantClaim`, tenantClaim);
  return issuerPolicy(profile, {
    audiences,
    tokenTypes:
      entry.tokenTypes === undefined
        ? undefined
        : tokenTypes(`${where}.tokenTypes`, entry.tokenTypes),
    requiredClaims:
      entry.requiredClaims === undefined
        ? undefined
        : strings(`${where}.requiredClaims`, entry.requiredClaims).map((claim) =>
            claimPathOption(`${where}.requiredClaims`, claim, false),
          ),
    scopeClaims:
      entry.scopeClaims === undefined
        ? undefined
        : strings(`${where}.scopeClaims`, entry.scopeClaims).map((path) =>
            claimPathOption(`${where}.scopeClaims`, path),
          ),
    tenantClaim,
  });
}

/** A claim path of non-empty names (`a.b`); a claim name alone where paths make no sense. */
function claimPathOption(where: string, value: unknown, nested = true): string {
  if (typeof value !== 'string') fail(`${where} must be a string, got ${describe(value)}`);
  const names = nested ? value.split('.') : [value];
  if (names.some((name) => name === '')) fail(`${where}: ${describe(value)} is not a claim path`);
  return value;
}

/** `typ` values: non-empty strings, or `null` for a header without `typ`. */
function tokenTypes(where: string, value: unknown): (string | null)[] {
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.some((t) => t !== null && (typeof t !== 'string' || t === ''))
  ) {
    fail(
      `${where} must be a non-empty array of strings (or null for none), got ${describe(value)}`,
    );
  }
  return [...(value as (string | null)[])];
}

function issuerKeys(entry: TrustedIssuerOptions, where: string, requireHttps: boolean): IssuerKeys {
  optional(`${where}.discovery`, entry.discovery, 'boolean');
  const discovery = entry.discovery === true ? true : undefined;
  const given = [entry.jwksUri, entry.keys, entry.keySource, discovery].filter(
    (v) => v !== undefined,
  );
  if (given.length !== 1) {
    fail(`${where}: give exactly one of jwksUri, keys, keySource and discovery`);
  }
  if (entry.keySource !== undefined) {
    if (typeof entry.keySource.cachedKey !== 'function')
      fail(`${where}.keySource is not a KeySource`);
    return { issuer: entry.issuer, keySource: entry.keySource };
  }
  if (discovery) {
    const problem = discoveryIssuerProblem(entry.issuer);
    if (problem !== undefined) fail(`${where}.issuer ${problem} (discovery)`);
    // Its metadata names the key location: read in clear, it can be swapped on the way.
    if (requireHttps && !isSecureUrl(entry.issuer)) {
      fail(
        `${where}.issuer must be https (or http to a loopback host) for discovery under requireHttps`,
      );
    }
    return { issuer: entry.issuer, discovery };
  }
  if (entry.jwksUri !== undefined) {
    const problem = jwksUriProblem(entry.jwksUri);
    // The value is not repeated: it may hold a secret.
    if (problem !== undefined) fail(`${where}.jwksUri ${problem}`);
    if (requireHttps && !isSecureUrl(entry.jwksUri)) {
      fail(`${where}.jwksUri must be https (or http to a loopback host) under requireHttps`);
    }
    return { issuer: entry.issuer, jwksUri: entry.jwksUri };
  }
  if (!Array.isArray(entry.keys) || entry.keys.length === 0) fail(`${where}.keys is empty`);
  return { issuer: entry.issuer, keys: entry.keys };
}

/**
 * Why an issuer cannot be discovered, or `undefined`: its metadata locations are built from it,
 * so it must be an http(s) URL without credentials, query or fragment (OpenID Connect Discovery
 * §2, RFC 8414 §2).
 */
function discoveryIssuerProblem(issuer: string): string | undefined {
  const problem = jwksUriProblem(issuer);
  if (problem !== undefined) return problem;
  const url = new URL(issuer);
  if (url.search !== '' || url.hash !== '' || issuer.includes('?') || issuer.includes('#')) {
    return 'must not have a query or fragment';
  }
  return undefined;
}

function resolveRevocation(
  revocation: AuthModuleOptions['revocation'],
): ResolvedRevocationOptions | false {
  if (revocation === undefined) return false;
  if (revocation === null || typeof revocation !== 'object') {
    fail('revocation must be an object (leave it out to turn revocation checks off)');
  }
  const r = revocation;
  if (r.store !== undefined) checkRevocationStore(r.store);
  const policy = { ...DEFAULTS.revocation.onOutage, ...r.onOutage } as const;
  for (const [tier, choice] of Object.entries(policy)) {
    if (choice !== 'fail-open' && choice !== 'fail-closed') {
      fail(`revocation.onOutage.${tier} must be 'fail-open' or 'fail-closed'`);
    }
  }
  return {
    store: r.store,
    keyPrefix: optional('revocation.keyPrefix', r.keyPrefix, 'string'),
    sensitiveScopes: new Set(
      strings(
        'revocation.sensitiveScopes',
        r.sensitiveScopes ?? DEFAULTS.revocation.sensitiveScopes,
      ),
    ),
    onOutage: policy,
  };
}

function resolveRenewal(options: AuthModuleOptions): ResolvedRenewalOptions | false {
  const renewal = optional('renewal', options.renewal, 'object');
  if (renewal === undefined) return false;
  if (typeof renewal.renewer?.renew !== 'function') fail('renewal.renewer must be a TokenRenewer');
  const trusted = new Set(options.issuers.map((i) => i.issuer));
  const issuers = strings('renewal.issuers', renewal.issuers ?? [...trusted]);
  for (const issuer of issuers) {
    if (!trusted.has(issuer)) fail(`renewal.issuers: ${issuer} is not a trusted issuer`);
  }
  return {
    renewer: renewal.renewer,
    windowSeconds: bounded('renewal.windowSeconds', renewal.windowSeconds, 0, 86_400),
    header: headerName(renewal.header ?? DEFAULTS.renewal.header, 'renewal.header'),
    budgetMs: bounded('renewal.budgetMs', renewal.budgetMs ?? DEFAULTS.renewal.budgetMs, 0, 5_000),
    issuers: new Set(issuers),
  };
}

function resolveRedis(backend: AuthModuleOptions['redis']): RedisBackend | undefined {
  if (backend !== undefined && (backend?.kind !== 'redis' || typeof backend.open !== 'function')) {
    fail("redis must be a RedisBackend: redis(connection) from 'nest-tessera/redis'");
  }
  return backend;
}

function resolveServiceIdentities(
  identities: Readonly<Record<string, ServiceIdentityOptions>>,
  requireHttps: boolean,
): Readonly<Record<string, ServiceIdentityOptions>> {
  optional('serviceIdentities', identities, 'object');
  for (const [name, identity] of Object.entries(identities)) {
    const where = `serviceIdentities.${name}`;
    optional(where, identity, 'object');
    if (identity === undefined) fail(`${where}: give principal or clientCredentials`);
    // A string 'false' here would be truthy: only a boolean grants every tenant.
    optional(`${where}.crossTenant`, identity.crossTenant, 'boolean');
    if ('principal' in identity) {
      optional(`${where}.principal`, identity.principal, 'object');
      const { subject, scopes, tenant } = identity.principal ?? {};
      if (typeof subject !== 'string' || subject === '')
        fail(`${where}.principal.subject is required`);
      strings(`${where}.principal.scopes`, scopes);
      optional(`${where}.principal.tenant`, tenant, 'string');
    } else if ('clientCredentials' in identity) {
      optional(`${where}.clientCredentials`, identity.clientCredentials, 'object');
      optional(`${where}.clientCredentials.scope`, identity.clientCredentials?.scope, 'string');
      const { tokenEndpoint, clientId, clientSecret } = identity.clientCredentials ?? {};
      if (!/^https?:\/\//.test(String(tokenEndpoint)))
        fail(`${where}: tokenEndpoint must be http(s)`);
      if (requireHttps && !isSecureUrl(String(tokenEndpoint))) {
        fail(
          `${where}: tokenEndpoint must be https (or http to a loopback host) under requireHttps`,
        );
      }
      if (!clientId || !clientSecret) fail(`${where}: clientId and clientSecret are required`);
    } else {
      fail(`${where}: give principal or clientCredentials`);
    }
  }
  return identities;
}

function resolveAlgorithms(algorithms: AuthModuleOptions['algorithms']): SigningAlgorithm[] {
  if (algorithms === undefined) return [...DEFAULTS.algorithms];
  if (!Array.isArray(algorithms) || algorithms.length === 0) fail('algorithms must not be empty');
  for (const alg of algorithms) {
    if (!isSigningAlgorithm(alg)) {
      fail(`algorithms: "${String(alg)}" is not one of ${SIGNING_ALGORITHMS.join(', ')}`);
    }
  }
  return [...algorithms];
}

/** A store given in the options must be one: checked at start, not on the first request. */
function checkRevocationStore(store: unknown): void {
  const methods = [
    'isRevoked',
    'isRevokedStrong',
    'revokeToken',
    'revokeSession',
    'revokeSubject',
    'close',
  ];
  const missing = methods.filter(
    (method) => typeof (store as Record<string, unknown> | null)?.[method] !== 'function',
  );
  if (missing.length > 0) {
    fail(`revocation.store is not a RevocationStore: no ${missing.join(', ')}`);
  }
}

function toList(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}

function nonEmptyStrings(name: string, values: readonly string[]): string[] {
  if (!Array.isArray(values) || values.length === 0)
    fail(`${name}: at least one value is required, got ${describe(values)}`);
  for (const v of values) {
    if (typeof v !== 'string' || v === '') fail(`${name}: ${describe(v)} is not a value`);
  }
  return [...values];
}

function headerName(name: string, where = 'tokenSources.headers'): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9-]+$/.test(name)) {
    fail(`${where}: "${String(name)}" is not a header name`);
  }
  if (name.toLowerCase() === 'authorization') {
    fail(`${where}: Authorization cannot be used here`);
  }
  return name.toLowerCase();
}

function publicMetadataKey(key: string | undefined): string | undefined {
  const value = optional('publicMetadataKey', key, 'string');
  if (value === '') fail('publicMetadataKey must not be empty');
  return value;
}
