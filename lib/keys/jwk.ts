import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { isSigningAlgorithm, type SigningAlgorithm } from './algorithms.js';

/** A JSON Web Key as found in a JWKS document (RFC 7517). */
export interface Jwk extends JsonWebKey {
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
}

/** A JWKS document: `{ "keys": [...] }`. */
export interface JwkSet {
  keys: Jwk[];
}

/** A public key pinned to the one algorithm it may verify. */
export interface VerificationKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly key: KeyObject;
}

/** Why a JWK could not be used; the key is skipped (verification) or the start refused (signing). */
export class JwkImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JwkImportError';
  }
}

/**
 * The algorithm a key may be used with, from its `kty`/`crv` and its `alg` if it states one.
 * A key is never used for an algorithm of another family: an RSA key never verifies ES256 and
 * no public key ever verifies an HMAC.
 */
export function algorithmForJwk(jwk: Jwk): SigningAlgorithm {
  const family = familyOf(jwk);
  if (jwk.alg === undefined) return family[0];
  if (!isSigningAlgorithm(jwk.alg)) throw new JwkImportError(`unsupported alg "${jwk.alg}"`);
  if (!family.includes(jwk.alg)) {
    throw new JwkImportError(`alg ${jwk.alg} does not fit a ${jwk.kty} key`);
  }
  return jwk.alg;
}

function familyOf(jwk: Jwk): readonly SigningAlgorithm[] {
  switch (jwk.kty) {
    // An RSA key without `alg` is RS256's, the one RSA algorithm RFC 7518 recommends.
    case 'RSA':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'EC':
      if (jwk.crv === 'P-256') return ['ES256'];
      if (jwk.crv === 'P-384') return ['ES384'];
      throw new JwkImportError(`unsupported EC curve "${String(jwk.crv)}"`);
    case 'OKP':
      if (jwk.crv === 'Ed25519') return ['EdDSA'];
      throw new JwkImportError(`unsupported OKP curve "${String(jwk.crv)}"`);
    default:
      throw new JwkImportError(`unsupported kty "${String(jwk.kty)}"`);
  }
}

/** Imports the public half of a JWK for verification, pinned to its algorithm. */
export function importVerificationKey(jwk: Jwk): VerificationKey {
  assertOperation(jwk, 'verify');
  return importPublicHalf(jwk);
}

/** Imports a private JWK for signing; the caller keeps the returned KeyObject out of logs. */
export function importSigningKey(jwk: Jwk): { kid: string; alg: SigningAlgorithm; key: KeyObject } {
  assertOperation(jwk, 'sign');
  const { kid, alg } = importPublicHalf(jwk);
  try {
    return { kid, alg, key: createPrivateKey({ key: jwk, format: 'jwk' }) };
  } catch (cause) {
    throw new JwkImportError(`key ${kid} has no usable private part: ${(cause as Error).message}`);
  }
}

/** A key for signatures (`use` "sig" or none) whose `key_ops`, if it lists any, allow `operation`. */
function assertOperation(
  jwk: Jwk,
  operation: 'sign' | 'verify',
): asserts jwk is Jwk & { kid: string } {
  if (typeof jwk.kid !== 'string' || jwk.kid === '') throw new JwkImportError('key without kid');
  if (jwk.use !== undefined && jwk.use !== 'sig') {
    throw new JwkImportError(`key ${jwk.kid} is not a signing key (use "${jwk.use}")`);
  }
  const ops: unknown = jwk.key_ops;
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes(operation))) {
    throw new JwkImportError(`key ${jwk.kid} is not for "${operation}" (key_ops)`);
  }
}

function importPublicHalf(jwk: Jwk & { kid: string }): VerificationKey {
  const alg = algorithmForJwk(jwk);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: publicMembers(jwk), format: 'jwk' });
  } catch (cause) {
    throw new JwkImportError(`key ${jwk.kid} cannot be imported: ${(cause as Error).message}`);
  }
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new JwkImportError(`RSA key ${jwk.kid} is shorter than 2048 bits`);
  }
  return { kid: jwk.kid, alg, key };
}

const PUBLIC_MEMBERS: Record<string, readonly string[]> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
};

/** The public members of a JWK only, so private material never leaves by accident. */
export function publicMembers(jwk: Jwk): Jwk {
  const names = PUBLIC_MEMBERS[String(jwk.kty)] ?? [];
  const out: Record<string, unknown> = {};
  for (const name of names) out[name] = (jwk as Record<string, unknown>)[name];
  return out as Jwk;
}
