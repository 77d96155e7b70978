/** How an issuer's access tokens look (CONTRACT.md, "Trusted issuers"). */
export const ISSUER_PROFILES = [
  'rfc9068',
  'keycloak',
  'auth0',
  'entra',
  'cognito',
  'okta',
  'generic',
] as const;
export type IssuerProfileName = (typeof ISSUER_PROFILES)[number];

/**
 * A trusted issuer of the orders service: where its keys come from (`jwksUri`, or `discovery`:
 * the `jwks_uri` of its metadata; exactly one), and how its tokens look.
 */
export interface TrustedIssuer {
  /** The exact `iss`. */
  readonly issuer: string;
  readonly jwksUri?: string;
  readonly discovery?: true;
  /** Unset: `rfc9068`. */
  readonly profile?: IssuerProfileName;
  /** The `aud` (for `cognito`, the `client_id`) accepted; unset: `AUTH_AUDIENCE`. */
  readonly audience?: string | readonly string[];
  /** Claim paths (dots for nesting) of its scopes; unset: the profile's. */
  readonly scopeClaims?: readonly string[];
  /** Claim path of its tenant; unset: the profile's. */
  readonly tenantClaim?: string;
}

/** A file of issuers orders cannot use; the message names the entry and the field. */
export class IssuersFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IssuersFileError';
  }
}

/** The file's fields, and the name of each in `TrustedIssuer`. */
const FIELDS = {
  issuer: 'issuer',
  jwks_uri: 'jwksUri',
  discovery: 'discovery',
  profile: 'profile',
  audience: 'audience',
  scope_claims: 'scopeClaims',
  tenant_claim: 'tenantClaim',
} as const satisfies Record<string, keyof TrustedIssuer>;
type Field = keyof typeof FIELDS;

/**
 * The issuers of an `ORDERS_ISSUERS_FILE` (CONTRACT.md, "Trusted issuers"), each checked whole:
 * a JSON array of entries, each with `issuer`, exactly one of `jwks_uri` and `discovery: true`,
 * and optionally `profile`, `audience`, `scope_claims`, `tenant_claim`; no other field.
 */
export function parseIssuersFile(text: string): TrustedIssuer[] {
  let entries: unknown;
  try {
    entries = JSON.parse(text);
  } catch (error) {
    // V8's message quotes the file around the error, which may hold a secret (a jwks_uri's query).
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new IssuersFileError(
      `is not JSON${position === undefined ? '' : ` (at character ${position})`}`,
    );
  }
  if (!Array.isArray(entries)) throw new IssuersFileError('must be a JSON array of issuers');
  if (entries.length === 0) throw new IssuersFileError('lists no issuer');
  const issuers = entries.map((entry, index) => parseEntry(entry, index));
  issuers.forEach(({ issuer }, index) => {
    const first = issuers.findIndex((other) => other.issuer === issuer);
    if (first !== index) {
      throw new IssuersFileError(
        `entry ${index} (issuer ${JSON.stringify(issuer)}): field "issuer" repeats entry ${first}`,
      );
    }
  });
  return issuers;
}

function parseEntry(entry: unknown, index: number): TrustedIssuer {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new IssuersFileError(`entry ${index}: must be an object`);
  }
  const fields = entry as Record<string, unknown>;
  const named =
    typeof fields.issuer === 'string'
      ? ` (issuer ${JSON.stringify(withoutCredentials(fields.issuer))})`
      : '';
  const fail = (field: string, problem: string): never => {
    throw new IssuersFileError(`entry ${index}${named}: field "${field}" ${problem}`);
  };
  for (const field of Object.keys(fields)) {
    if (!Object.hasOwn(FIELDS, field)) fail(field, `is unknown${hint(field)}`);
  }
  const issuer = httpUrl(fields.issuer, (problem) => fail('issuer', problem), 'is required');
  const jwksUri =
    fields.jwks_uri === undefined
      ? undefined
      : httpUrl(fields.jwks_uri, (p) => fail('jwks_uri', p));
  if (fields.discovery !== undefined && typeof fields.discovery !== 'boolean') {
    fail('discovery', 'must be true or false');
  }
  const discovery = fields.discovery === true;
  if (jwksUri === undefined && !discovery) {
    fail('jwks_uri', 'or "discovery": true is required (exactly one of them)');
  }
  if (jwksUri !== undefined && discovery) {
    fail('discovery', 'must not be true beside "jwks_uri" (exactly one of them)');
  }
  if (discovery && /[?#]/.test(issuer)) {
    fail('issuer', 'must have no query or fragment with "discovery"');
  }
  return {
    issuer,
    ...(discovery ? { discovery: true as const } : { jwksUri }),
    ...optional(fields, 'profile', (value) => profile(value, (p) => fail('profile', p))),
    ...optional(fields, 'audience', (value) => audience(value, (p) => fail('audience', p))),
    ...optional(fields, 'scope_claims', (value) =>
      claimPaths(value, (p) => fail('scope_claims', p)),
    ),
    ...optional(fields, 'tenant_claim', (value) =>
      claimPath(value, (p) => fail('tenant_claim', p)),
    ),
  };
}

/** `{ [name]: parsed }` when the field is present, else nothing. */
function optional<F extends Field, T>(
  fields: Record<string, unknown>,
  field: F,
  parse: (value: unknown) => T,
): Partial<Record<(typeof FIELDS)[F], T>> {
  if (fields[field] === undefined) return {};
  return { [FIELDS[field]]: parse(fields[field]) } as Partial<Record<(typeof FIELDS)[F], T>>;
}

type Fail = (problem: string) => never;

function httpUrl(value: unknown, fail: Fail, missing = 'must be an http(s) URL'): string {
  if (value === undefined) fail(missing);
  if (typeof value !== 'string' || !URL.canParse(value)) fail('must be an http(s) URL');
  const url = new URL(value as string);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail('must be an http(s) URL');
  // The value is never repeated in a message: credentials would reach the log.
  if (url.username !== '' || url.password !== '') fail('must not carry credentials');
  return value as string;
}

function profile(value: unknown, fail: Fail): IssuerProfileName {
  if (typeof value !== 'string' || !(ISSUER_PROFILES as readonly string[]).includes(value)) {
    fail(`must be one of ${ISSUER_PROFILES.join(', ')}`);
  }
  return value as IssuerProfileName;
}

function audience(value: unknown, fail: Fail): string | string[] {
  if (typeof value === 'string' && value !== '') return value;
  const list = Array.isArray(value) ? (value as unknown[]) : undefined;
  if (
    list === undefined ||
    list.length === 0 ||
    list.some((a) => typeof a !== 'string' || a === '')
  ) {
    fail('must be a non-empty string or a non-empty array of them');
  }
  return list as string[];
}

function claimPaths(value: unknown, fail: Fail): string[] {
  const problem = 'must be a non-empty array of claim paths (names separated by dots)';
  if (!Array.isArray(value) || value.length === 0) fail(problem);
  return (value as unknown[]).map((path) => claimPath(path, () => fail(problem)));
}

/** Claim names joined by dots (`realm_access.roles`), none of them empty. */
function claimPath(value: unknown, fail: Fail): string {
  if (typeof value !== 'string' || value.split('.').some((name) => name === '')) {
    fail('must be a claim path (names separated by dots)');
  }
  return value as string;
}

/** The file's spelling of a field given in the options' spelling (`jwksUri`). */
function hint(field: string): string {
  const known = Object.entries(FIELDS).find(([, name]) => name === field)?.[0];
  return known === undefined || known === field ? '' : ` (did you mean "${known}"?)`;
}

/** `issuer` with any `user:password@` masked, for messages that reach logs. */
function withoutCredentials(issuer: string): string {
  return issuer.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
}
