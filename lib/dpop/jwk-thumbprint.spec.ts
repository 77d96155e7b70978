import { describe, expect, it } from '@jest/globals';
import { calculateJwkThumbprint } from 'jose';
import { makeKey } from '../../test/support/keys.js';
import { jwkThumbprint } from './jwk-thumbprint.js';

describe('jwkThumbprint (RFC 7638)', () => {
  it.each([{ alg: 'ES256' as const }, { alg: 'EdDSA' as const }, { alg: 'RS256' as const }])(
    'is the SHA-256 thumbprint of a $alg key, whatever other members it has',
    async ({ alg }) => {
      const { publicJwk } = makeKey(alg);
      expect(jwkThumbprint(publicJwk)).toBe(await calculateJwkThumbprint(publicJwk, 'sha256'));
    },
  );

  it("matches RFC 7638 §3.1's example", () => {
    // The RFC's example key and its thumbprint.
    const jwk = {
      kty: 'RSA',
      n:
        '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP' +
        'ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Qv' +
        'zqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6W' +
        'eZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    expect(jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it.each([
    { jwk: { kty: 'oct', k: 'c2VjcmV0' }, why: 'a symmetric key' },
    { jwk: { kty: 'EC', crv: 'P-256', x: 'abc' }, why: 'a missing member' },
    { jwk: { kty: 'RSA', n: 1, e: 'AQAB' }, why: 'a member of the wrong type' },
  ])('has none for $why', ({ jwk }) => {
    expect(() => jwkThumbprint(jwk)).toThrow(TypeError);
  });
});
