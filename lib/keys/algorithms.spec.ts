import { describe, expect, it } from '@jest/globals';
import { sign } from 'node:crypto';
import { InvalidTokenError } from '../errors/auth-errors.js';
import { createTokenVerifier } from '../options/create-token-verifier.js';
import { resolveAuthOptions } from '../options/resolve-auth-options.js';
import { b64url, forge, makeKey, validClaims, type TestKey } from '../../test/support/keys.js';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from './algorithms.js';
import { algorithmForJwk, importVerificationKey, JwkImportError } from './jwk.js';

const NOW = 1_700_000_000;
const ISSUER = 'https://issuer.test';
const keys = Object.fromEntries(SIGNING_ALGORITHMS.map((alg) => [alg, makeKey(alg)])) as Record<
  SigningAlgorithm,
  TestKey
>;

const verifier = createTokenVerifier(
  resolveAuthOptions({
    issuers: [{ issuer: ISSUER, keys: SIGNING_ALGORITHMS.map((alg) => keys[alg].publicJwk) }],
    audience: 'orders-api',
    now: () => NOW,
  }),
);

async function reasonOf(token: string): Promise<string> {
  try {
    await verifier.verify(token);
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTokenError);
    return (error as InvalidTokenError).reason;
  }
}

/** A token whose header names `alg` and `key`'s kid, signed by `key` as `alg`. */
const tokenAs = (key: TestKey, alg: SigningAlgorithm) =>
  forge({ alg, kid: key.kid, typ: 'at+jwt' }, validClaims(NOW), { key, as: alg });

describe('signature algorithms', () => {
  it.each(SIGNING_ALGORITHMS.map((alg) => ({ alg })))('$alg verifies', async ({ alg }) => {
    expect(await reasonOf(tokenAs(keys[alg], alg))).toBe('accepted');
  });

  // Each RSA key is pinned to one of six algorithms that all fit it: the token's word is not enough.
  it.each([
    { key: 'RS384', as: 'RS256' },
    { key: 'RS512', as: 'RS384' },
    { key: 'PS384', as: 'PS256' },
    { key: 'PS512', as: 'RS512' },
    { key: 'RS256', as: 'PS512' },
    { key: 'ES256', as: 'ES384' },
    { key: 'ES384', as: 'ES256' },
  ] as const)('a $key key refuses a token signed and labelled $as', async ({ key, as }) => {
    // Signed by the key itself under the other algorithm: a valid signature, the wrong algorithm.
    const k = keys[key];
    const family = (a: string) => a.slice(0, 2);
    const token =
      family(as) === family(key)
        ? tokenAs(k, as)
        : forge({ alg: as, kid: k.kid, typ: 'at+jwt' }, validClaims(NOW), { key: keys[as] });
    expect(await reasonOf(token)).toBe('alg_not_allowed');
  });

  describe('ES384 signatures are r || s, 96 bytes', () => {
    const key = keys.ES384;
    const input = `${b64url({ alg: 'ES384', kid: key.kid, typ: 'at+jwt' })}.${b64url(validClaims(NOW))}`;
    const withSignature = (signature: Buffer) => `${input}.${signature.toString('base64url')}`;

    it('refuses a DER signature of the same key and input', async () => {
      const der = sign('sha384', Buffer.from(input), key.privateKey);
      expect(der.length).not.toBe(96);
      expect(await reasonOf(withSignature(der))).toBe('bad_signature');
    });

    it('refuses a signature of the wrong length, and accepts the 96-byte one', async () => {
      const raw = sign('sha384', Buffer.from(input), {
        key: key.privateKey,
        dsaEncoding: 'ieee-p1363',
      });
      expect(raw).toHaveLength(96);
      expect(await reasonOf(withSignature(raw))).toBe('accepted');
      expect(await reasonOf(withSignature(raw.subarray(0, 64)))).toBe('bad_signature');
      expect(await reasonOf(withSignature(Buffer.concat([raw, Buffer.alloc(1)])))).toBe(
        'bad_signature',
      );
    });
  });

  describe('a JWK decides its one algorithm', () => {
    const publicOf = (alg: SigningAlgorithm) => ({ ...keys[alg].publicJwk, alg: undefined });

    it('from kty and crv when it names none: RS256 for RSA, ES384 for P-384', () => {
      expect(algorithmForJwk(publicOf('RS512'))).toBe('RS256');
      expect(algorithmForJwk(publicOf('ES384'))).toBe('ES384');
      expect(importVerificationKey({ ...publicOf('ES384'), kid: 'k' }).alg).toBe('ES384');
    });

    it('refuses an alg of another curve or family', () => {
      expect(() => algorithmForJwk({ ...publicOf('ES384'), alg: 'ES256' })).toThrow(JwkImportError);
      expect(() => algorithmForJwk({ ...publicOf('ES256'), alg: 'ES384' })).toThrow(JwkImportError);
      expect(() => algorithmForJwk({ ...publicOf('RS256'), alg: 'ES384' })).toThrow(JwkImportError);
      expect(() => algorithmForJwk({ ...publicOf('ES384'), alg: 'PS384' })).toThrow(JwkImportError);
    });
  });
});
