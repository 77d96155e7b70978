import { describe, expect, it } from '@jest/globals';
import {
  InvalidRequestError,
  InvalidTokenError,
  MissingTokenError,
} from '../errors/auth-errors.js';
import type { CredentialCarrier } from '../verify/extract-token.js';
import { extractedToken } from './extracted-token.js';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln';
const fromCookie = (request: CredentialCarrier) =>
  /access_token=([^;]+)/.exec(String(request.headers.cookie ?? ''))?.[1] ?? null;
const fromQuery = (name: string) => (request: CredentialCarrier) =>
  new URLSearchParams((request.url ?? '').split('?')[1] ?? '').get(name);
const withCookie = (url: string, query?: unknown): CredentialCarrier => ({
  headers: { cookie: `access_token=${TOKEN}` },
  url,
  query,
});

describe('extractedToken', () => {
  it('returns what the extractor finds', () => {
    expect(extractedToken(withCookie('/orders?page=2'), fromCookie, ['access_token'])).toBe(TOKEN);
  });

  it.each([
    { case: 'a forbidden parameter', url: '/orders?access_token=x', extract: fromCookie },
    { case: 'a forbidden parameter, empty', url: '/orders?access_token', extract: fromCookie },
    {
      case: 'the token under another name',
      url: `/orders?token=${TOKEN}`,
      extract: fromQuery('token'),
    },
    {
      case: 'the token percent-encoded',
      url: `/orders?t=${encodeURIComponent(TOKEN).replace('.', '%2E')}`,
      extract: fromQuery('t'),
    },
    {
      case: 'the token inside a longer value',
      url: `/orders?auth=Bearer%20${TOKEN}`,
      extract: (request: CredentialCarrier) => fromQuery('auth')(request)?.replace(/^Bearer /, ''),
    },
    {
      case: 'the token as a parameter name',
      url: `/orders?${TOKEN}`,
      extract: fromCookie,
    },
  ])('refuses $case with 400 token_in_query', ({ url, extract }) => {
    const attempt = () => extractedToken(withCookie(url), extract, ['access_token']);
    expect(attempt).toThrow(new InvalidRequestError('token_in_query'));
  });

  it("reads an adapter's parsed query when the request has no URL", () => {
    const request = { headers: {}, query: { access_token: ['a', 'b'] } };
    expect(() => extractedToken(request, () => TOKEN, ['access_token'])).toThrow(
      InvalidRequestError,
    );
    const other = { headers: {}, query: { q: TOKEN } };
    expect(() => extractedToken(other, () => TOKEN, [])).toThrow(InvalidRequestError);
  });

  it('does not read the fragment as query', () => {
    expect(extractedToken(withCookie(`/orders#token=${TOKEN}`), fromCookie, [])).toBe(TOKEN);
  });

  it.each([{ found: null }, { found: undefined }, { found: '' }])(
    'answers $found as no token',
    ({ found }) => {
      expect(() => extractedToken(withCookie('/'), () => found, [])).toThrow(MissingTokenError);
    },
  );

  it('refuses a token an extractor threw on as malformed, keeping what it threw', () => {
    const broken = new SyntaxError('Unexpected token');
    let thrown: unknown;
    try {
      extractedToken(
        withCookie('/'),
        () => {
          throw broken;
        },
        [],
      );
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toEqual(new InvalidTokenError('malformed'));
    expect((thrown as Error).cause).toBe(broken);
  });

  it('refuses an extractor that returns something other than a string', () => {
    const attempt = () => extractedToken(withCookie('/'), () => 42 as unknown as string, []);
    expect(attempt).toThrow(new InvalidRequestError('malformed_credentials'));
  });
});
