import { constants, type KeyObject } from 'node:crypto';

/** The asymmetric JWS algorithms this library signs and verifies (RFC 7518, RFC 8037). */
export type SigningAlgorithm = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';

/** Every supported algorithm; also the default allow-list. */
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['RS256', 'PS256', 'ES256', 'EdDSA'];

export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return typeof value === 'string' && (SIGNING_ALGORITHMS as readonly string[]).includes(value);
}

/** How `node:crypto` signs and verifies one JWS algorithm. */
export interface CryptoParams {
  readonly digest: 'sha256' | null;
  readonly padding?: number;
  readonly saltLength?: number;
  readonly dsaEncoding?: 'ieee-p1363';
  /** Exact signature length in bytes when the algorithm fixes it (ECDSA P-256: r || s). */
  readonly signatureBytes?: number;
}

const CRYPTO_PARAMS: Record<SigningAlgorithm, CryptoParams> = {
  RS256: { digest: 'sha256', padding: constants.RSA_PKCS1_PADDING },
  // RFC 7518 §3.5: the salt is as long as the hash output.
  PS256: { digest: 'sha256', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
  // RFC 7518 §3.4: the signature is the fixed-width concatenation r || s, not DER.
  ES256: { digest: 'sha256', dsaEncoding: 'ieee-p1363', signatureBytes: 64 },
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
