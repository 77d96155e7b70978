import { constants, generateKeyPairSync, type KeyObject } from 'node:crypto';

/** The asymmetric JWS algorithms this library signs and verifies (RFC 7518, RFC 8037). */
export type SigningAlgorithm =
  'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'EdDSA';

/** Every supported algorithm; also the default allow-list. */
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'EdDSA',
];

export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return typeof value === 'string' && (SIGNING_ALGORITHMS as readonly string[]).includes(value);
}

/** How `node:crypto` signs and verifies one JWS algorithm. */
export interface CryptoParams {
  readonly digest: 'sha256' | 'sha384' | 'sha512' | null;
  readonly padding?: number;
  readonly saltLength?: number;
  readonly dsaEncoding?: 'ieee-p1363';
  /** Exact signature length in bytes when the algorithm fixes it (ECDSA: r || s). */
  readonly signatureBytes?: number;
}

const rsa = (digest: 'sha256' | 'sha384' | 'sha512'): CryptoParams => ({
  digest,
  padding: constants.RSA_PKCS1_PADDING,
});
// RFC 7518 §3.5: the salt is as long as the hash output.
const pss = (digest: 'sha256' | 'sha384' | 'sha512', saltLength: number): CryptoParams => ({
  digest,
  padding: constants.RSA_PKCS1_PSS_PADDING,
  saltLength,
});

const CRYPTO_PARAMS: Record<SigningAlgorithm, CryptoParams> = {
  RS256: rsa('sha256'),
  RS384: rsa('sha384'),
  RS512: rsa('sha512'),
  PS256: pss('sha256', 32),
  PS384: pss('sha384', 48),
  PS512: pss('sha512', 64),
  // RFC 7518 §3.4: the signature is the fixed-width concatenation r || s, not DER.
  ES256: { digest: 'sha256', dsaEncoding: 'ieee-p1363', signatureBytes: 64 },
  ES384: { digest: 'sha384', dsaEncoding: 'ieee-p1363', signatureBytes: 96 },
  EdDSA: { digest: null },
};

export function cryptoParams(alg: SigningAlgorithm): CryptoParams {
  return CRYPTO_PARAMS[alg];
}

/** The key options `crypto.sign` / `crypto.verify` take for `alg`. */
export function keyWithParams(key: KeyObject, alg: SigningAlgorithm) {
  const { padding, saltLength, dsaEncoding } = CRYPTO_PARAMS[alg];
  return { key, padding, saltLength, dsaEncoding };
}

/** A new key pair for `alg` (RSA keys are 2048-bit). */
export function generateKeyPairFor(alg: SigningAlgorithm): {
  publicKey: KeyObject;
  privateKey: KeyObject;
} {
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519');
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  if (alg === 'ES384') return generateKeyPairSync('ec', { namedCurve: 'P-384' });
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}
