import { generateKeyPairSync, randomBytes, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AuthConfigError } from '../errors/auth-errors.js';
import { cryptoParams, keyWithParams, type SigningAlgorithm } from '../keys/algorithms.js';
import {
  importSigningKey,
  JwkImportError,
  publicMembers,
  type Jwk,
  type JwkSet,
} from '../keys/jwk.js';

interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicJwk: Jwk;
}

/**
 * The issuer's private keys: one active key signs, every key's public half is published.
 * Keys come from a JWKS document of private JWKs (a file, the environment or a vault), never code.
 */
export class KeyRing {
  private constructor(
    private readonly keys: readonly SigningKey[],
    private readonly activeKey: SigningKey,
  ) {}

  /** A ring of the private JWKs in `jwks`; `activeKid` signs (default: the first key). */
  static fromJwks(jwks: JwkSet, activeKid?: string): KeyRing {
    if (!Array.isArray(jwks?.keys) || jwks.keys.length === 0) {
      throw new AuthConfigError('signing keys: the JWKS has no keys');
    }
    const keys = jwks.keys.map(toSigningKey);
    const kids = new Set(keys.map((k) => k.kid));
    if (kids.size !== keys.length) throw new AuthConfigError('signing keys: duplicate kid');
    const active = activeKid === undefined ? keys[0] : keys.find((k) => k.kid === activeKid);
    if (active === undefined)
      throw new AuthConfigError(`signing keys: no key with kid ${activeKid}`);
    return new KeyRing(keys, active);
  }

  /** Reads a JWKS file of private JWKs. */
  static async fromFile(path: string, activeKid?: string): Promise<KeyRing> {
    let jwks: JwkSet;
    try {
      jwks = JSON.parse(await readFile(path, 'utf8')) as JwkSet;
    } catch (error) {
      throw new AuthConfigError(`signing keys: cannot read ${path}: ${(error as Error).message}`);
    }
    return KeyRing.fromJwks(jwks, activeKid);
  }

  /** A ring of one freshly generated key, for development only: it dies with the process. */
  static ephemeral(alg: SigningAlgorithm = 'EdDSA'): KeyRing {
    return KeyRing.fromJwks({ keys: [generateSigningJwk(alg)] });
  }

  /** The `kid` and `alg` of the key that signs. */
  get active(): { kid: string; alg: SigningAlgorithm } {
    return { kid: this.activeKey.kid, alg: this.activeKey.alg };
  }

  /** The JWKS document to publish: public members only, each with `kid`, `alg`, `use: "sig"`. */
  publicJwks(): JwkSet {
    return { keys: this.keys.map((k) => ({ ...k.publicJwk })) };
  }

  /** Signs `payload` as a JWS compact JWT with the active key; `typ` goes in the header. */
  sign(payload: object, typ: string): string {
    const { kid, alg, privateKey } = this.activeKey;
    const header = base64url({ alg, kid, typ });
    const body = base64url(payload);
    const input = `${header}.${body}`;
    const signature = cryptoSign(
      cryptoParams(alg).digest,
      Buffer.from(input, 'latin1'),
      keyWithParams(privateKey, alg),
    );
    return `${input}.${signature.toString('base64url')}`;
  }
}

/** A new private JWK for `alg` with a random `kid` (RSA keys are 2048-bit). */
export function generateSigningJwk(
  alg: SigningAlgorithm,
  kid = randomBytes(12).toString('base64url'),
): Jwk {
  const { privateKey } =
    alg === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

function toSigningKey(jwk: Jwk): SigningKey {
  try {
    const { kid, alg, key } = importSigningKey(jwk);
    return {
      kid,
      alg,
      privateKey: key,
      publicJwk: { ...publicMembers(jwk), kid, alg, use: 'sig' },
    };
  } catch (error) {
    if (error instanceof JwkImportError)
      throw new AuthConfigError(`signing keys: ${error.message}`);
    throw error;
  }
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
