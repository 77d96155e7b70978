import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import { generateSigningJwk } from '../issue/key-ring.js';
import { cryptoParams, keyWithParams, type SigningAlgorithm } from '../keys/algorithms.js';
import { importSigningKey, publicMembers, type Jwk, type JwkSet } from '../keys/jwk.js';

interface TestKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicJwk: Jwk;
}

/** A JWS header a test token is signed with; a member set to `null` is left out. */
export type HeaderFields = Readonly<Record<string, string | null | undefined>>;

/**
 * A test issuer's keys: the newest signs, every key stays published. Unlike the issuer side's
 * `KeyRing`, the header is the caller's to shape, so tokens a verifier must refuse can be signed.
 */
export class TestKeys {
  private keys: readonly TestKey[] = [];

  constructor(private readonly alg: SigningAlgorithm) {
    this.add();
  }

  /** Adds a new key of the same algorithm, which signs from now on; returns its `kid`. */
  add(): string {
    const jwk = generateSigningJwk(this.alg);
    const { kid, alg, key } = importSigningKey(jwk);
    const publicJwk: Jwk = { ...publicMembers(jwk), kid, alg, use: 'sig' };
    this.keys = [...this.keys, { kid, alg, privateKey: key, publicJwk }];
    return kid;
  }

  /** The `kid` and `alg` of the key that signs. */
  get active(): { readonly kid: string; readonly alg: SigningAlgorithm } {
    const { kid, alg } = this.signing();
    return { kid, alg };
  }

  /** Every key's public half, as a JWKS endpoint serves it. */
  publicJwks(): JwkSet {
    return { keys: this.keys.map((k) => ({ ...k.publicJwk })) };
  }

  /**
   * Signs `payload` with the active key under `{ alg, kid }` and `header` laid over them: the
   * signature is always the key's own algorithm, whatever `alg` the header names.
   */
  sign(header: HeaderFields, payload: object): string {
    const key = this.signing();
    const fields: Record<string, string | null | undefined> = {
      alg: key.alg,
      kid: key.kid,
      ...header,
    };
    for (const [name, value] of Object.entries(fields)) {
      if (value === null || value === undefined) delete fields[name];
    }
    const input = `${base64url(fields)}.${base64url(payload)}`;
    const signature = cryptoSign(
      cryptoParams(key.alg).digest,
      Buffer.from(input, 'latin1'),
      keyWithParams(key.privateKey, key.alg),
    );
    return `${input}.${signature.toString('base64url')}`;
  }

  private signing(): TestKey {
    return this.keys[this.keys.length - 1];
  }
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
