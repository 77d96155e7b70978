import { InvalidRequestError } from '../errors/auth-errors.js';

/** The parts of an HTTP request a token may come from, whatever the HTTP adapter. */
export interface CredentialCarrier {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
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

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token. Any single word is taken here, so a
// malformed token is refused by the verifier as invalid_token (401), not as a bad request.
const BEARER = /^Bearer +(\S+) *$/i;

/**
 * The one access token a request carries, or `undefined` when it carries none.
 * A token in the query string, two different tokens, or a malformed Bearer credential is a
 * 400 `invalid_request` (RFC 6750 §3.1).
 */
export function extractToken(
  request: CredentialCarrier,
  sources: TokenSources,
): string | undefined {
  rejectTokenInQuery(request.query, sources.forbiddenQueryParameters);
  let found: string | undefined;
  const add = (token: string) => {
    if (found !== undefined && found !== token) throw new InvalidRequestError('multiple_tokens');
    found = token;
  };
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && /^bearer(?: |$)/i.test(authorization)) {
    const match = BEARER.exec(authorization);
    if (match === null) throw new InvalidRequestError('malformed_credentials');
    add(match[1]);
  }
  for (const name of sources.headers) {
    const value = request.headers[name];
    for (const token of Array.isArray(value) ? value : [value]) {
      if (token === undefined) continue;
      if (token.trim() === '') throw new InvalidRequestError('malformed_credentials');
      add(token.trim());
    }
  }
  if (sources.bodyField !== undefined) {
    const value = fieldOf(request.body, sources.bodyField);
    if (value !== undefined) {
      if (typeof value !== 'string' || value === '') {
        throw new InvalidRequestError('malformed_credentials');
      }
      add(value);
    }
  }
  return found;
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
