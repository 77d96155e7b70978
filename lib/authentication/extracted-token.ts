import {
  InvalidRequestError,
  InvalidTokenError,
  MissingTokenError,
} from '../errors/auth-errors.js';
import type { CredentialCarrier } from '../verify/extract-token.js';

/** An application's own way of finding the token, as passport-jwt's `jwtFromRequest`. */
export type TokenExtractor<R> = (request: R) => string | null | undefined;

/**
 * The token an application's extractor finds in the request. The URL rules of the built-in
 * sources still hold (RFC 6750 §2.3, a token in a URL ends up in logs and `Referer` headers): a
 * forbidden query parameter is refused before the extractor runs, and so is a token found anywhere
 * in the decoded query string, in a parameter's name or value, whole or as part of it
 * (`ExtractJwt.fromUrlQueryParameter('token')`, `?auth=Bearer%20<token>`). An extractor that
 * throws on what the client sent (a header it parses) refuses the token as `malformed`: no client
 * input becomes a server error.
 */
export function extractedToken<R extends CredentialCarrier>(
  request: R,
  extract: TokenExtractor<R>,
  forbiddenQueryParameters: readonly string[],
): string {
  const query = queryOf(request);
  for (const name of forbiddenQueryParameters) {
    if (query.has(name)) throw new InvalidRequestError('token_in_query');
  }
  const token = extractWith(request, extract);
  if (token === null || token === undefined || token === '') throw new MissingTokenError();
  if (typeof token !== 'string') throw new InvalidRequestError('malformed_credentials');
  for (const [name, value] of query) {
    if (name.includes(token) || value.includes(token)) {
      throw new InvalidRequestError('token_in_query');
    }
  }
  return token;
}

function extractWith<R>(request: R, extract: TokenExtractor<R>): unknown {
  try {
    return extract(request);
  } catch (error) {
    throw new InvalidTokenError('malformed', { cause: error });
  }
}

/** The request's query parameters, read from its URL (whatever the adapter parsed). */
function queryOf(request: CredentialCarrier): URLSearchParams {
  const url = typeof request.url === 'string' ? request.url : '';
  const start = url.indexOf('?');
  if (start === -1) return new URLSearchParams(queryObject(request.query));
  const end = url.indexOf('#', start);
  return new URLSearchParams(url.slice(start + 1, end === -1 ? undefined : end));
}

/** An adapter's parsed query, for a request that carries no URL. */
function queryObject(query: unknown): [string, string][] {
  if (query === null || typeof query !== 'object') return [];
  return Object.entries(query).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value])
      .filter((item): item is string => typeof item === 'string')
      .map((item): [string, string] => [name, item]),
  );
}
