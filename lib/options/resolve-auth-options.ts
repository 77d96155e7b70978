import { AuthConfigError } from '../errors/auth-errors.js';
import type { AuthEvents } from '../events.js';
import { combineAuthEvents } from '../observability/combine-events.js';
import {
  isSigningAlgorithm,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
} from '../keys/algorithms.js';
import type { Jwk } from '../keys/jwk.js';
import type { KeySource } from '../keys/key-source.js';
import { normalizeTyp } from '../verify/token-verifier.js';
import type { ServiceIdentityOptions } from '../authorization/service-identities.js';
import type { OutagePolicy } from '../revocation/revocation-checker.js';
import type { AuthModuleOptions, RevocationOptions, ThrottleOptions } from './auth-options.js';
import type { RedisBackend } from './redis-backend.js';
import type { TokenRenewer } from '../renewal/token-renewer.js';

/** Options with every default applied and every value checked. */
export interface ResolvedAuthOptions {
  readonly issuers: readonly ResolvedIssuer[];
  readonly audiences: readonly string[];
  readonly algorithms: readonly SigningAlgorithm[];
  readonly tokenTypes: readonly string[];
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
  readonly throttle: ThrottleOptions | false;
  readonly renewal: ResolvedRenewalOptions | false;
  readonly principalContext: boolean | undefined;
  readonly globalGuard: boolean;
  readonly events: AuthEvents;
  readonly now: () => number;
  readonly fetch: typeof fetch | undefined;
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

export type ResolvedIssuer =
  | { readonly issuer: string; readonly jwksUri: string }
  | { readonly issuer: string; readonly keys: readonly Jwk[] }
  | { readonly issuer: string; readonly keySource: KeySource };

/** Applies defaults and validates, once, at start-up; throws `AuthConfigError`. */
export function resolveAuthOptions(options: AuthModuleOptions): ResolvedAuthOptions {
  if (options === null || typeof options !== 'object') fail('options must be an object');
  const jwks = options.jwks ?? {};
  const sources = options.tokenSources ?? {};
  return Object.freeze({
    issuers: resolveIssuers(options.issuers),
    audiences: nonEmptyStrings('audience', toList(options.audience)),
    algorithms: resolveAlgorithms(options.algorithms),
    tokenTypes: nonEmptyStrings('tokenTypes', options.tokenTypes ?? ['at+jwt']).map(normalizeTyp),
    clockToleranceSeconds: bounded(
      'clockToleranceSeconds',
      options.clockToleranceSeconds,
      5,
      0,
      300,
    ),
    maxTokenBytes: bounded('maxTokenBytes', options.maxTokenBytes, 8192, 256, 1024 * 1024),
    verifiedTokenCacheSize: bounded(
      'verifiedTokenCacheSize',
      options.verifiedTokenCacheSize,
      10_000,
      0,
      10_000_000,
    ),
    jwks: {
      cacheTtlSeconds: bounded('jwks.cacheTtlSeconds', jwks.cacheTtlSeconds, 600, 1, 86_400),
      cooldownSeconds: bounded('jwks.cooldownSeconds', jwks.cooldownSeconds, 5, 0, 3_600),
      timeoutMs: bounded('jwks.timeoutMs', jwks.timeoutMs, 3000, 1, 60_000),
    },
    tokenSources: {
      headers: (sources.headers ?? []).map((h) => headerName(h)),
      bodyField: sources.bodyField,
      forbiddenQueryParameters: sources.forbiddenQueryParameters ?? ['access_token'],
    },
    redis: resolveRedis(options.redis),
    revocation: resolveRevocation(options.revocation),
    serviceIdentities: resolveServiceIdentities(options.serviceIdentities ?? {}),
    throttle: resolveThrottle(options.throttle),
    renewal: resolveRenewal(options),
    principalContext: options.principalContext,
    globalGuard: options.globalGuard ?? true,
    // Isolated: a listener that throws never turns a valid token into a refusal.
    events: combineAuthEvents(options.events ?? {}),
    now: options.now ?? (() => Date.now() / 1000),
    fetch: options.fetch,
  });
}

function resolveIssuers(issuers: AuthModuleOptions['issuers']): ResolvedIssuer[] {
  if (!Array.isArray(issuers) || issuers.length === 0) fail('issuers: at least one is required');
  const seen = new Set<string>();
  return issuers.map((entry, i) => {
    const where = `issuers[${i}]`;
    if (typeof entry?.issuer !== 'string' || entry.issuer === '')
      fail(`${where}.issuer is required`);
    if (seen.has(entry.issuer)) fail(`${where}: issuer ${entry.issuer} is listed twice`);
    seen.add(entry.issuer);
    const given = [entry.jwksUri, entry.keys, entry.keySource].filter((v) => v !== undefined);
    if (given.length !== 1) fail(`${where}: give exactly one of jwksUri, keys and keySource`);
    if (entry.keySource !== undefined) {
      if (typeof entry.keySource.cachedKey !== 'function')
        fail(`${where}.keySource is not a KeySource`);
      return { issuer: entry.issuer, keySource: entry.keySource };
    }
    if (entry.jwksUri !== undefined) {
      let url: URL;
      try {
        url = new URL(entry.jwksUri);
      } catch {
        fail(`${where}.jwksUri is not a URL: ${entry.jwksUri}`);
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        fail(`${where}.jwksUri must be http(s): ${entry.jwksUri}`);
      }
      return { issuer: entry.issuer, jwksUri: entry.jwksUri };
    }
    if (!Array.isArray(entry.keys) || entry.keys.length === 0) fail(`${where}.keys is empty`);
    return { issuer: entry.issuer, keys: entry.keys };
  });
}

function resolveRevocation(
  revocation: AuthModuleOptions['revocation'],
): ResolvedRevocationOptions | false {
  if (revocation === false) return false;
  const r = revocation ?? {};
  movedToRedisOption('revocation', r);
  const policy = { standard: 'fail-open', sensitive: 'fail-closed', ...r.onOutage } as const;
  for (const [tier, choice] of Object.entries(policy)) {
    if (choice !== 'fail-open' && choice !== 'fail-closed') {
      fail(`revocation.onOutage.${tier} must be 'fail-open' or 'fail-closed'`);
    }
  }
  return {
    store: r.store,
    keyPrefix: r.keyPrefix,
    sensitiveScopes: new Set(r.sensitiveScopes ?? []),
    onOutage: policy,
  };
}

function resolveRenewal(options: AuthModuleOptions): ResolvedRenewalOptions | false {
  const renewal = options.renewal;
  if (renewal === undefined) return false;
  if (typeof renewal.renewer?.renew !== 'function') fail('renewal.renewer must be a TokenRenewer');
  const trusted = new Set(options.issuers.map((i) => i.issuer));
  const issuers = renewal.issuers ?? [...trusted];
  for (const issuer of issuers) {
    if (!trusted.has(issuer)) fail(`renewal.issuers: ${issuer} is not a trusted issuer`);
  }
  return {
    renewer: renewal.renewer,
    windowSeconds: bounded('renewal.windowSeconds', renewal.windowSeconds, 0, 0, 86_400),
    header: headerName(renewal.header ?? 'X-Renewed-Token', 'renewal.header'),
    budgetMs: bounded('renewal.budgetMs', renewal.budgetMs, 10, 0, 5_000),
    issuers: new Set(issuers),
  };
}

function resolveThrottle(throttle: AuthModuleOptions['throttle']): ThrottleOptions | false {
  if (throttle === undefined || throttle === false) return false;
  bounded('throttle.limit', throttle.limit, 0, 1, 1e9);
  bounded('throttle.ttlSeconds', throttle.ttlSeconds, 0, 1, 86_400);
  for (const [consumer, limit] of Object.entries(throttle.perConsumer ?? {})) {
    bounded(`throttle.perConsumer["${consumer}"]`, limit, 0, 0, 1e9);
  }
  movedToRedisOption('throttle', throttle);
  return throttle;
}

function resolveRedis(backend: AuthModuleOptions['redis']): RedisBackend | undefined {
  if (backend !== undefined && typeof backend?.open !== 'function') {
    fail("redis must be a RedisBackend: redis(connection) from 'nest-tessera/redis'");
  }
  return backend;
}

/** `revocation.redis` and `throttle.redis` became the module's one `redis` option: say so at boot. */
function movedToRedisOption(feature: 'revocation' | 'throttle', options: object): void {
  if ('redis' in options && options.redis !== undefined) {
    fail(
      `${feature}.redis was replaced by the module's redis option: ` +
        `redis: redis(connection), with redis() from 'nest-tessera/redis'`,
    );
  }
}

function resolveServiceIdentities(
  identities: Readonly<Record<string, ServiceIdentityOptions>>,
): Readonly<Record<string, ServiceIdentityOptions>> {
  for (const [name, identity] of Object.entries(identities)) {
    const where = `serviceIdentities.${name}`;
    if ('principal' in identity) {
      const { subject, scopes } = identity.principal ?? {};
      if (typeof subject !== 'string' || subject === '')
        fail(`${where}.principal.subject is required`);
      if (!Array.isArray(scopes)) fail(`${where}.principal.scopes must be an array`);
    } else if ('clientCredentials' in identity) {
      const { tokenEndpoint, clientId, clientSecret } = identity.clientCredentials ?? {};
      if (!/^https?:\/\//.test(String(tokenEndpoint)))
        fail(`${where}: tokenEndpoint must be http(s)`);
      if (!clientId || !clientSecret) fail(`${where}: clientId and clientSecret are required`);
    } else {
      fail(`${where}: give principal or clientCredentials`);
    }
  }
  return identities;
}

function resolveAlgorithms(algorithms: AuthModuleOptions['algorithms']): SigningAlgorithm[] {
  if (algorithms === undefined) return [...SIGNING_ALGORITHMS];
  if (!Array.isArray(algorithms) || algorithms.length === 0) fail('algorithms must not be empty');
  for (const alg of algorithms) {
    if (!isSigningAlgorithm(alg)) {
      fail(`algorithms: "${String(alg)}" is not one of ${SIGNING_ALGORITHMS.join(', ')}`);
    }
  }
  return [...algorithms];
}

function toList(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}

function nonEmptyStrings(name: string, values: readonly string[]): string[] {
  if (!Array.isArray(values) || values.length === 0)
    fail(`${name}: at least one value is required`);
  for (const v of values) if (typeof v !== 'string' || v === '') fail(`${name}: empty value`);
  return [...values];
}

function bounded(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
) {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    fail(`${name} must be a number from ${min} to ${max}, got ${String(value)}`);
  }
  return v;
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

function fail(message: string): never {
  throw new AuthConfigError(message);
}
