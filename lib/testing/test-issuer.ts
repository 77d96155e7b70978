import { randomUUID } from 'node:crypto';
import { KeyRing } from '../issue/key-ring.js';
import type { SigningAlgorithm } from '../keys/algorithms.js';
import type { JwkSet } from '../keys/jwk.js';
import type { TrustedIssuerOptions } from '../options/auth-options.js';

/** Configuration of a `TestIssuer`. */
export interface TestIssuerOptions {
  /** The `iss` of its tokens. @default 'https://issuer.test' */
  readonly issuer?: string;
  /** The `aud` of its tokens. @default 'api' */
  readonly audience?: string | readonly string[];
  /** The algorithm of its one key. @default 'ES256' */
  readonly alg?: SigningAlgorithm;
  /** The clock, epoch seconds: set it to the module's `now` when a test moves time. */
  readonly now?: () => number;
}

/** What a test token is, beyond its claims. */
export interface TestTokenOptions {
  /** The header's `typ`. @default 'at+jwt' */
  readonly typ?: string;
  /** Seconds until `exp`; negative for an expired token. @default 300 */
  readonly expiresIn?: number;
}

/**
 * A local issuer for tests: a fresh key, tokens with any claims, and the entry that makes
 * `AuthModule` trust it. Never for production: its key dies with the process.
 * @example
 * const issuer = TestIssuer.create({ audience: 'orders-api' });
 * AuthModule.forRoot({ issuers: [issuer.trusted], audience: 'orders-api' });
 * const token = issuer.token({ sub: 'alice', scope: 'orders:read' });
 */
export class TestIssuer {
  private readonly keyRing: KeyRing;
  private readonly now: () => number;

  private constructor(private readonly options: TestIssuerOptions) {
    this.keyRing = KeyRing.ephemeral(options.alg ?? 'ES256');
    this.now = options.now ?? (() => Date.now() / 1000);
  }

  /** A new issuer with its own key. */
  static create(options: TestIssuerOptions = {}): TestIssuer {
    return new TestIssuer(options);
  }

  /** Its `iss`. */
  get issuer(): string {
    return this.options.issuer ?? 'https://issuer.test';
  }

  /** This issuer as an entry of `AuthModule`'s `issuers`, with its public key. */
  get trusted(): TrustedIssuerOptions {
    return { issuer: this.issuer, keys: this.keyRing.publicJwks().keys };
  }

  /** Its public keys, as a JWKS endpoint would serve them. */
  jwks(): JwkSet {
    return this.keyRing.publicJwks();
  }

  /**
   * A signed access token. Its claims are a valid RFC 9068 set (`iss`, `sub: 'test-user'`,
   * `aud`, `iat`, `exp`, `jti`, `client_id`) with `claims` laid over them; a claim given as
   * `undefined` is left out.
   */
  token(claims: Readonly<Record<string, unknown>> = {}, options: TestTokenOptions = {}): string {
    const iat = Math.floor(this.now());
    const payload: Record<string, unknown> = {
      iss: this.issuer,
      sub: 'test-user',
      aud: this.options.audience ?? 'api',
      iat,
      exp: iat + (options.expiresIn ?? 300),
      jti: randomUUID(),
      client_id: 'test-client',
      ...claims,
    };
    for (const [name, value] of Object.entries(payload)) {
      if (value === undefined) delete payload[name];
    }
    return this.keyRing.sign(payload, options.typ ?? 'at+jwt');
  }
}
