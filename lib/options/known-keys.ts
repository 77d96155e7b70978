import { AuthConfigError } from '../errors/auth-errors.js';
import type {
  AuthModuleOptions,
  DpopNonceSettings,
  DpopOptions,
  JwksOptions,
  RenewalOptions,
  RevocationOptions,
  TokenSourceOptions,
  TrustedIssuerOptions,
} from './auth-options.js';
import type {
  ClientCredentialsServiceIdentity,
  LocalServiceIdentity,
} from '../authorization/service-identities.js';

/** Every key of T, so that adding an option without listing it here fails to compile. */
type Keys<T> = { readonly [K in keyof Required<T>]: true };

const MODULE = {
  issuers: true,
  audience: true,
  algorithms: true,
  clockToleranceSeconds: true,
  maxTokenBytes: true,
  verifiedTokenCacheSize: true,
  jwks: true,
  redis: true,
  revocation: true,
  tokenSources: true,
  dpop: true,
  renewal: true,
  serviceIdentities: true,
  principalContext: true,
  globalGuard: true,
  publicMetadataKey: true,
  events: true,
  now: true,
  fetch: true,
  requireHttps: true,
} as const satisfies Keys<AuthModuleOptions>;

const ISSUER = {
  issuer: true,
  jwksUri: true,
  keys: true,
  keySource: true,
  profile: true,
  audience: true,
  scopeClaims: true,
  tenantClaim: true,
  tokenTypes: true,
  requiredClaims: true,
  discovery: true,
} as const satisfies Keys<TrustedIssuerOptions>;
const JWKS = {
  cacheTtlSeconds: true,
  cooldownSeconds: true,
  timeoutMs: true,
} as const satisfies Keys<JwksOptions>;
const TOKEN_SOURCES = {
  headers: true,
  bodyField: true,
  forbiddenQueryParameters: true,
} as const satisfies Keys<TokenSourceOptions>;
const REVOCATION = {
  store: true,
  keyPrefix: true,
  sensitiveScopes: true,
  onOutage: true,
} as const satisfies Keys<RevocationOptions>;
const OUTAGE = { standard: true, sensitive: true } as const;
const DPOP = {
  required: true,
  algorithms: true,
  proofMaxAgeSeconds: true,
  maxProofBytes: true,
  origins: true,
  nonce: true,
  replayCache: true,
  keyPrefix: true,
} as const satisfies Keys<DpopOptions>;
const DPOP_NONCE = {
  secret: true,
  lifetimeSeconds: true,
} as const satisfies Keys<DpopNonceSettings>;
const RENEWAL = {
  renewer: true,
  windowSeconds: true,
  header: true,
  budgetMs: true,
  issuers: true,
} as const satisfies Keys<RenewalOptions>;
const LOCAL_IDENTITY = {
  principal: true,
  crossTenant: true,
} as const satisfies Keys<LocalServiceIdentity>;
const CLIENT_IDENTITY = {
  clientCredentials: true,
  crossTenant: true,
} as const satisfies Keys<ClientCredentialsServiceIdentity>;
const PRINCIPAL = {
  subject: true,
  scopes: true,
  tenant: true,
} as const satisfies Keys<LocalServiceIdentity['principal']>;
const CLIENT_CREDENTIALS = {
  tokenEndpoint: true,
  clientId: true,
  clientSecret: true,
  scope: true,
} as const satisfies Keys<ClientCredentialsServiceIdentity['clientCredentials']>;

/**
 * What to say about keys that other libraries (passport-jwt, jsonwebtoken, jose) or earlier
 * versions use: an option that would weaken a check must never pass unnoticed.
 */
const HINTS: Readonly<Record<string, string>> = {
  ignoreExpiration: 'expiry is always checked; clockToleranceSeconds sets the leeway',
  ignoreNotBefore: 'nbf is always checked; clockToleranceSeconds sets the leeway',
  clockTolerance: 'the leeway is clockToleranceSeconds',
  leeway: 'the leeway is clockToleranceSeconds',
  leewaySeconds: 'the leeway is clockToleranceSeconds',
  secretOrKey: 'tokens are verified with asymmetric keys only: give issuers[].jwksUri or keys',
  secretOrKeyProvider: 'keys come from issuers[].jwksUri, keys or keySource',
  jwtFromRequest: 'tokens are read from Authorization: Bearer and tokenSources',
  issuer: 'list each trusted issuer in issuers: [{ issuer, jwksUri }]',
  jwksUri: 'give each issuer its own: issuers: [{ issuer, jwksUri }]',
  redis: "give the module's redis option: redis: redis(connection) from 'nest-tessera/redis'",
  typ: "accepted types are each issuer's tokenTypes (or its profile)",
  tokenTypes: 'accepted types are per issuer: issuers[].tokenTypes (or its profile)',
  algorithm: 'accepted algorithms are algorithms',
  audiences: 'the accepted audiences are audience (a string or an array), also per issuer',
  scope_claims: 'issuers[].scopeClaims',
  tenant_claim: 'issuers[].tenantClaim',
  scopeClaim: 'issuers[].scopeClaims (a list)',
  throttle:
    'throttling runs on @nestjs/throttler: ThrottlerModule.forRoot(...) and ' +
    "ConsumerThrottlerGuard from 'nest-tessera/throttler' as an APP_GUARD (docs/throttling.md)",
};

/**
 * Refuses any key the options do not define, naming each one with its path: a misspelt or
 * foreign option (`ignoreExpiration`) must stop the application, not be ignored.
 */
export function checkKnownKeys(options: AuthModuleOptions): void {
  const unknown: string[] = [];
  const visit = (value: unknown, known: object, path: string) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
    for (const key of Object.keys(value)) {
      if (!Object.hasOwn(known, key)) unknown.push(describe(path, key));
    }
  };
  visit(options, MODULE, '');
  const list = (value: unknown) => (Array.isArray(value) ? (value as unknown[]) : []);
  list(options.issuers).forEach((issuer, i) => visit(issuer, ISSUER, `issuers[${i}].`));
  visit(options.jwks, JWKS, 'jwks.');
  visit(options.tokenSources, TOKEN_SOURCES, 'tokenSources.');
  visit(options.revocation, REVOCATION, 'revocation.');
  if (isObject(options.revocation)) {
    visit(options.revocation.onOutage, OUTAGE, 'revocation.onOutage.');
  }
  visit(options.renewal, RENEWAL, 'renewal.');
  visit(options.dpop, DPOP, 'dpop.');
  if (isObject(options.dpop)) visit(options.dpop.nonce, DPOP_NONCE, 'dpop.nonce.');
  for (const [name, identity] of Object.entries(options.serviceIdentities ?? {})) {
    const where = `serviceIdentities.${name}.`;
    if (isObject(identity) && 'clientCredentials' in identity) {
      visit(identity, CLIENT_IDENTITY, where);
      visit(identity.clientCredentials, CLIENT_CREDENTIALS, `${where}clientCredentials.`);
    } else {
      visit(identity, LOCAL_IDENTITY, where);
      if (isObject(identity)) visit(identity.principal, PRINCIPAL, `${where}principal.`);
    }
  }
  if (unknown.length > 0) {
    throw new AuthConfigError(
      `unknown option${unknown.length > 1 ? 's' : ''}: ${unknown.join('; ')}`,
    );
  }
}

function describe(path: string, key: string): string {
  return Object.hasOwn(HINTS, key) ? `${path}${key} (${HINTS[key]})` : `${path}${key}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object';
}
