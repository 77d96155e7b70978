import { InvalidRequestError } from '../errors/auth-errors.js';

/** The parts of an HTTP request a token may come from, whatever the HTTP adapter. */
export interface CredentialCarrier {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The request target; when given and it has no `?`, the query is not read. */
  readonly url?: string;
  readonly query?: unknown;
  readonly body?: unknown;
}

/** Where to look, beside `Authorization: Bearer`. */
export interface TokenSources {
  /** Lower-case header names carrying a bare token. */
  readonly headers: readonly string[];
  readonly bodyField: string | undefined;
  readonly forbiddenQueryParameters: readonly string[];
}

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token, the scheme case-insensitive.
const SCHEME = 'bearer';
const SCHEME_LENGTH = SCHEME.length;
const SPACE = 0x20;
const LOWER_CASE_BIT = 0x20;

/**
 * The one access token a request carries, or `undefined` when it carries none.
 * A token in the query string, two different tokens, or a malformed Bearer credential is a
 * 400 `invalid_request` (RFC 6750 §3.1).
 *
 * `scanBearer: false` leaves a second word in the Bearer credential to the caller's
 * `assertOneWord`, for a caller that first asks its verified-token cache (a token found there has
 * none) and where no other source is configured (so no other check could come first).
 */
export function extractToken(
  request: CredentialCarrier,
  sources: TokenSources,
  scanBearer = true,
): string | undefined {
  // Some adapters parse the query afresh on every read of `query` (Express 5): skip it when the
  // URL shows there is none.
  if (typeof request.url !== 'string' || request.url.includes('?')) {
    rejectTokenInQuery(request.query, sources.forbiddenQueryParameters);
  }
  // Every request comes through here: no closure to allocate, one `found` checked by `another`.
  let found: string | undefined;
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && isBearer(authorization)) {
    found = bearerCredential(authorization, scanBearer);
  }
  for (const name of sources.headers) {
    const value = request.headers[name];
    for (const token of Array.isArray(value) ? value : [value]) {
      if (token === undefined) continue;
      if (token.trim() === '') throw new InvalidRequestError('malformed_credentials');
      found = another(found, token.trim());
    }
  }
  if (sources.bodyField !== undefined && isJson(request.headers['content-type'])) {
    const value = fieldOf(request.body, sources.bodyField);
    if (value !== undefined) {
      if (typeof value !== 'string' || value === '') {
        throw new InvalidRequestError('malformed_credentials');
      }
      found = another(found, value);
    }
  }
  return found;
}

/** `token`, unless the request carried a different one already. */
function another(found: string | undefined, token: string): string {
  if (found !== undefined && found !== token) throw new InvalidRequestError('multiple_tokens');
  return token;
}

/** Whether the header names the Bearer scheme (any case), alone or followed by a space. */
function isBearer(authorization: string): boolean {
  if (authorization.length < SCHEME_LENGTH) return false;
  if (authorization.length > SCHEME_LENGTH && authorization.charCodeAt(SCHEME_LENGTH) !== SPACE) {
    return false;
  }
  // Letters only: setting the lower-case bit maps 'A'-'Z' onto 'a'-'z' and nothing else onto them.
  for (let i = 0; i < SCHEME_LENGTH; i++) {
    if ((authorization.charCodeAt(i) | LOWER_CASE_BIT) !== SCHEME.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * The one word after `Bearer` and its spaces (trailing spaces allowed). No word, or (`scan`) a
 * second one, is a malformed credential.
 */
function bearerCredential(authorization: string, scan: boolean): string {
  let start = SCHEME_LENGTH;
  while (authorization.charCodeAt(start) === SPACE) start++;
  let end = authorization.length;
  while (end > start && authorization.charCodeAt(end - 1) === SPACE) end--;
  const token = authorization.slice(start, end);
  if (token === '') throw new InvalidRequestError('malformed_credentials');
  if (scan) assertOneWord(token);
  return token;
}

/**
 * Throws unless a Bearer credential is one word: a space or a tab (the whitespace HTTP allows in
 * a header) inside it is a malformed credential. Any other character is left for the verifier,
 * which refuses it as a malformed token (401). Two scans with `includes`, not a regular
 * expression: a token is hundreds of characters.
 */
export function assertOneWord(token: string): void {
  if (token.includes(' ') || token.includes('\t')) {
    throw new InvalidRequestError('malformed_credentials');
  }
}

/**
 * Whether a request's body is JSON (`application/json`, or a `+json` type): the only body a token
 * is read from. RFC 6750 §2.2's form-encoded body parameter is not supported (it allows no GET).
 */
function isJson(contentType: string | string[] | undefined): boolean {
  if (typeof contentType !== 'string') return false;
  const type = contentType.split(';', 1)[0].trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

function rejectTokenInQuery(query: unknown, names: readonly string[]): void {
  if (query === null || typeof query !== 'object') return;
  for (const name of names) {
    if (Object.hasOwn(query, name)) throw new InvalidRequestError('token_in_query');
  }
}

function fieldOf(body: unknown, field: string): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  return Object.hasOwn(body, field) ? (body as Record<string, unknown>)[field] : undefined;
}
