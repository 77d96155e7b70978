import { createHmac, randomBytes, sign, type KeyObject } from 'node:crypto';
import {
  cryptoParams,
  generateKeyPairFor,
  keyWithParams,
  type SigningAlgorithm,
} from '../../lib/keys/algorithms.js';
import type { Jwk } from '../../lib/keys/jwk.js';

/** A test key pair: the private KeyObject to forge with and the public JWK a verifier trusts. */
export interface TestKey {
  readonly alg: SigningAlgorithm;
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicJwk: Jwk;
  readonly privateJwk: Jwk;
}

export function makeKey(
  alg: SigningAlgorithm,
  kid = `${alg}-${randomBytes(4).toString('hex')}`,
): TestKey {
  const pair = generateKeyPairFor(alg);
  return {
    alg,
    kid,
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    publicJwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' },
    privateJwk: { ...pair.privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' },
  };
}

export const b64url = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** How a forged token is signed: a real key, an HMAC secret, or nothing at all. */
export type Signer =
  | { readonly key: TestKey; readonly as?: SigningAlgorithm }
  | { readonly hmacSecret: Buffer | string }
  | { readonly none: true };

/** Builds a compact JWS from any header and payload, signed however the test says. */
export function forge(header: object, payload: object | string, signer: Signer): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  let signature: Buffer;
  if ('none' in signer) signature = Buffer.alloc(0);
  else if ('hmacSecret' in signer) {
    signature = createHmac('sha256', signer.hmacSecret).update(input).digest();
  } else {
    const alg = signer.as ?? signer.key.alg;
    signature = sign(
      cryptoParams(alg).digest,
      Buffer.from(input),
      keyWithParams(signer.key.privateKey, alg),
    );
  }
  return `${input}.${signature.toString('base64url')}`;
}

/** Claims of a valid access token at `now` (epoch seconds). */
export function validClaims(
  now: number,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    iss: 'https://issuer.test',
    sub: 'alice',
    aud: 'orders-api',
    exp: now + 300,
    iat: now,
    jti: randomBytes(8).toString('hex'),
    sid: 'session-1',
    tid: 'seller-a',
    scope: 'orders:read orders:create',
    client_id: 'sample-app',
    ...overrides,
  };
}

/** A valid token signed by `key` with the RFC 9068 header. */
export function validToken(
  key: TestKey,
  now: number,
  claims: Record<string, unknown> = {},
): string {
  return forge({ alg: key.alg, kid: key.kid, typ: 'at+jwt' }, validClaims(now, claims), { key });
}
