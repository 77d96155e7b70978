/**
 * Why `uri` cannot be a JWKS location, or `undefined` when it can: an absolute http(s) URL
 * without credentials. One rule for a configured `jwksUri` and a discovered `jwks_uri`.
 */
export function jwksUriProblem(uri: unknown): string | undefined {
  if (typeof uri !== 'string' || !URL.canParse(uri)) return 'is not an absolute URL';
  const url = new URL(uri);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be http(s)';
  // fetch() refuses such a URL anyway, quoting it whole: the secret would reach logs.
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  return undefined;
}
