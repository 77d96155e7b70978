import { createPublicKey, randomBytes, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { AuthConfigError } from '../errors/auth-errors.js';
import {
  cryptoParams,
  generateKeyPairFor,
  keyWithParams,
  type SigningAlgorithm,
} from '../keys/algorithms.js';
import type { KeySource } from '../keys/key-source.js';
import { readKeyFile } from './key-file.js';
import { activateAtOf, activeKey, phaseOf, type ScheduledKey } from './key-schedule.js';
import {
  importSigningKey,
  type VerificationKey,
  JwkImportError,
  publicMembers,
  type Jwk,
  type JwkSet,
} from '../keys/jwk.js';

interface SigningKey extends ScheduledKey {
  readonly alg: SigningAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicJwk: Jwk;
  /** The public half, pinned to its algorithm, for `asKeySource()`. */
  readonly verification: VerificationKey;
}

/** How a key ring chooses its signing key over time. */
export interface KeyRingOptions {
  /** Pins the signing key, whatever the schedule says (`AUTH_ACTIVE_KID`). */
  readonly activeKid?: string;
  /**
   * How long a retired key stays published: at least the longest access-token lifetime plus the
   * verifiers' clock tolerance.
   * @default 86400
   */
  readonly retainSeconds?: number;
  /** Epoch seconds. @default () => Date.now() / 1000 */
  readonly now?: () => number;
}

/**
 * The issuer's private keys. Keys come from a JWKS document of private JWKs (a file, the
 * environment or a vault), never code. Each key may carry `activate_at` (epoch seconds): a key
 * is published as soon as it is in the ring, signs from its activation until the next key's, and
 * stays published until every token it signed has expired (see `key-schedule.ts`). A ring read
 * from a file can `reload()` it, so rotation needs no restart.
 */
export class KeyRing {
  private constructor(
    private keys: readonly SigningKey[],
    private readonly options: KeyRingOptions,
    private readonly path?: string,
  ) {}

  /** A ring of the private JWKs in `jwks`. */
  static fromJwks(jwks: JwkSet, options: KeyRingOptions = {}): KeyRing {
    return new KeyRing(signingKeys(jwks, options.activeKid), options);
  }

  /** Reads a JWKS file of private JWKs; `reload()` reads it again. */
  static async fromFile(path: string, options: KeyRingOptions = {}): Promise<KeyRing> {
    return new KeyRing(signingKeys(await readKeyFile(path), options.activeKid), options, path);
  }

  /** A ring of one freshly generated key, for development only: it dies with the process. */
  static ephemeral(alg: SigningAlgorithm = 'EdDSA'): KeyRing {
    return KeyRing.fromJwks({ keys: [generateSigningJwk(alg)] });
  }

  /**
   * Reads the key file again and swaps the keys in at once. A file that cannot be read or holds
   * no usable keys leaves the ring as it was and rejects with the reason.
   */
  async reload(): Promise<void> {
    if (this.path === undefined)
      throw new AuthConfigError('this key ring was not read from a file');
    this.keys = signingKeys(await readKeyFile(this.path), this.options.activeKid);
  }

  /** The `kid` the ring was pinned to sign with (`activeKid`), if any. */
  get pinnedKid(): string | undefined {
    return this.options.activeKid;
  }

  /** The `kid` and `alg` of the key that signs now. */
  get active(): { kid: string; alg: SigningAlgorithm } {
    const { kid, alg } = this.signingKey();
    return { kid, alg };
  }

  /**
   * The JWKS document to publish: every key not yet dropped, public members only, each with
   * `kid`, `alg`, `use: "sig"`.
   */
  publicJwks(): JwkSet {
    return { keys: this.keys.filter((k) => this.published(k)).map((k) => ({ ...k.publicJwk })) };
  }

  /**
   * The published keys as a verifier's key source, current across reloads and rotations: for the
   * issuer's own service, which verifies the tokens it signs without fetching its own JWKS.
   */
  asKeySource(): KeySource {
    const find = (kid: string): VerificationKey | undefined => {
      const key = this.keys.find((k) => k.kid === kid);
      return key !== undefined && this.published(key) ? key.verification : undefined;
    };
    const health = async () => {
      const keyCount = this.keys.filter((k) => this.published(k)).length;
      return { available: keyCount > 0, keyCount };
    };
    return { ready: true, cachedKey: find, key: async (kid) => find(kid), health };
  }

  /** Signs `payload` as a JWS compact JWT with the active key; `typ` goes in the header. */
  sign(payload: object, typ: string): string {
    const { kid, alg, privateKey } = this.signingKey();
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

  /** Not yet dropped by the schedule; a pinned key signs, so it is always published. */
  private published(key: SigningKey): boolean {
    if (key.kid === this.options.activeKid) return true;
    return phaseOf(this.keys, key, this.now(), this.retainSeconds()) !== 'dropped';
  }

  private signingKey(): SigningKey {
    const pinned = this.options.activeKid;
    if (pinned !== undefined) return this.keys.find((k) => k.kid === pinned)!;
    return activeKey(this.keys, this.now());
  }

  private retainSeconds(): number {
    return this.options.retainSeconds ?? 86_400;
  }

  private now(): number {
    return (this.options.now ?? (() => Date.now() / 1000))();
  }
}

function signingKeys(jwks: JwkSet, activeKid: string | undefined): SigningKey[] {
  if (!Array.isArray(jwks?.keys) || jwks.keys.length === 0) {
    throw new AuthConfigError('signing keys: the JWKS has no keys');
  }
  const keys = jwks.keys.map(toSigningKey);
  if (new Set(keys.map((k) => k.kid)).size !== keys.length) {
    throw new AuthConfigError('signing keys: duplicate kid');
  }
  if (activeKid !== undefined && !keys.some((k) => k.kid === activeKid)) {
    throw new AuthConfigError(`signing keys: no key with kid ${activeKid}`);
  }
  return keys;
}

/** A new private JWK for `alg` with a random `kid` (RSA keys are 2048-bit). */
export function generateSigningJwk(
  alg: SigningAlgorithm,
  kid = randomBytes(12).toString('base64url'),
): Jwk {
  const { privateKey } = generateKeyPairFor(alg);
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

function toSigningKey(jwk: Jwk): SigningKey {
  try {
    const { kid, alg, key } = importSigningKey(jwk);
    return {
      kid,
      alg,
      activateAt: activateAtOf(jwk),
      privateKey: key,
      verification: { kid, alg, key: createPublicKey(key) },
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
