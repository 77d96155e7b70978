import { describe, expect, it } from '@jest/globals';
import { InvalidRequestError } from '../errors/auth-errors.js';
import { extractToken, type TokenSources } from './extract-token.js';

const SOURCES: TokenSources = {
  headers: ['x-access-token'],
  bodyField: 'access_token',
  forbiddenQueryParameters: ['access_token'],
};
const JSON_BODY = { 'content-type': 'application/json' };
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

const fromAuthorization = (authorization: string) =>
  extractToken({ headers: { authorization } }, SOURCES);

function reasonOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    return (error as InvalidRequestError).reason;
  }
  return 'accepted';
}

describe('extractToken', () => {
  it.each([
    ['one space', `Bearer ${TOKEN}`],
    ['the scheme in any case', `bEARER ${TOKEN}`],
    ['several spaces before the token', `Bearer    ${TOKEN}`],
    ['spaces after the token', `Bearer ${TOKEN}  `],
  ])('takes the token of a Bearer credential with %s', (_name, authorization) => {
    expect(fromAuthorization(authorization)).toBe(TOKEN);
  });

  it.each([
    ['no token', 'Bearer'],
    ['only spaces', 'Bearer    '],
    ['two words', `Bearer ${TOKEN} x`],
    ['a tab inside', `Bearer ${TOKEN}\tx`],
    ['a tab after the token', `Bearer ${TOKEN}\t`],
  ])('refuses a Bearer credential with %s as malformed_credentials', (_name, authorization) => {
    expect(reasonOf(() => fromAuthorization(authorization))).toBe('malformed_credentials');
  });

  it('leaves other characters to the verifier, which refuses them as a malformed token', () => {
    expect(fromAuthorization(`Bearer ${TOKEN}\u00a0x`)).toBe(`${TOKEN}\u00a0x`);
  });

  it.each([
    ['another scheme', `Basic ${TOKEN}`],
    ['a scheme that only starts with Bearer', `Bearerx ${TOKEN}`],
    ['a word shorter than Bearer', 'Bear'],
    ['a tab, not a space, after the scheme', `Bearer\t${TOKEN}`],
    ['characters next to the letters of Bearer', `B@AR@R ${TOKEN}`],
    ['no header', undefined],
  ])('finds no token with %s', (_name, authorization) => {
    expect(extractToken({ headers: { authorization } }, SOURCES)).toBeUndefined();
  });

  it('takes a token from a configured header or body field, once', () => {
    expect(extractToken({ headers: { 'x-access-token': ` ${TOKEN} ` } }, SOURCES)).toBe(TOKEN);
    expect(extractToken({ headers: JSON_BODY, body: { access_token: TOKEN } }, SOURCES)).toBe(
      TOKEN,
    );
    const same = {
      headers: { ...JSON_BODY, authorization: `Bearer ${TOKEN}` },
      body: { access_token: TOKEN },
    };
    expect(extractToken(same, SOURCES)).toBe(TOKEN);
  });

  it('reads the body field of a JSON body only (not of a form, which RFC 6750 allows no GET)', () => {
    const body = { access_token: TOKEN };
    const withType = (type: string | undefined) => ({ headers: { 'content-type': type }, body });
    expect(extractToken(withType('application/json; charset=utf-8'), SOURCES)).toBe(TOKEN);
    expect(extractToken(withType('application/merge-patch+json'), SOURCES)).toBe(TOKEN);
    expect(extractToken(withType('application/x-www-form-urlencoded'), SOURCES)).toBeUndefined();
    expect(extractToken(withType('multipart/form-data; boundary=x'), SOURCES)).toBeUndefined();
    expect(extractToken(withType(undefined), SOURCES)).toBeUndefined();
  });

  it('reads the query only when the URL has one (some adapters parse it on every read)', () => {
    let reads = 0;
    const request = (url: string) => ({
      url,
      headers: { authorization: `Bearer ${TOKEN}` },
      get query() {
        reads++;
        return { access_token: TOKEN };
      },
    });
    expect(extractToken(request('/orders'), SOURCES)).toBe(TOKEN);
    expect(reads).toBe(0);
    expect(reasonOf(() => extractToken(request('/orders?access_token=x'), SOURCES))).toBe(
      'token_in_query',
    );
    expect(reads).toBe(1);
  });

  it.each([
    [
      'two different tokens',
      { headers: { authorization: `Bearer ${TOKEN}`, 'x-access-token': `${TOKEN}x` } },
      'multiple_tokens',
    ],
    ['a token in the query', { headers: {}, query: { access_token: TOKEN } }, 'token_in_query'],
    ['an empty token header', { headers: { 'x-access-token': ' ' } }, 'malformed_credentials'],
    [
      'a body token that is no string',
      { headers: JSON_BODY, body: { access_token: 1 } },
      'malformed_credentials',
    ],
  ])('refuses %s', (_name, request, reason) => {
    expect(reasonOf(() => extractToken(request, SOURCES))).toBe(reason);
  });
});
