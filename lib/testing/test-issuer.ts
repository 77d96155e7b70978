import type { SigningAlgorithm } from '../keys/algorithms.js';
import type { JwkSet } from '../keys/jwk.js';
import type { AuthModuleOptions, TrustedIssuerOptions } from '../options/auth-options.js';
import { listenIssuer, type IssuerServer } from './issuer-server.js';
import {
  PROVIDER_SHAPES,
  type ProviderShape,
  type TestIssuerProfile,
  type TestTokenKind,
} from './provider-shapes.js';
import { TestKeys } from './test-keys.js';
import { trustOnly, type ProviderOverridable } from './trust-only.js';

/** Configuration of a `TestIssuer`. */
export interface TestIssuerOptions {
  /**
   * Whose tokens it mints: each profile's tokens have that provider's header and claims.
   * @default 'rfc9068'
   */
  readonly profile?: TestIssuerProfile;
  /**
   * The `iss` of its tokens (a served issuer's is its URL).
   * @default the profile's, e.g. 'https://issuer.test' for rfc9068
   */
  readonly issuer?: string;
  /**
   * The `aud` of its access tokens; for `cognito`, whose access tokens have none, the app client
   * id in `client_id`.
   * @default the profile's, e.g. 'api' for rfc9068, 'api://default' for okta
   */
  readonly audience?: string | readonly string[];
  /**
   * The algorithm of its keys.
   * @default 'RS256' for the providers' profiles (as they sign), 'ES256' for rfc9068 and generic
   */
  readonly alg?: SigningAlgorithm;
  /** The clock, epoch seconds: set it to the module's `now` when a test moves time. */
  readonly now?: () => number;
}

/** A served issuer's configuration: its `iss` is its URL. */
export type ServedTestIssuerOptions = Omit<TestIssuerOptions, 'issuer'>;

/** What a test token is, beyond its claims. */
export interface TestTokenOptions {
  /** Seconds until `exp`; negative for an expired token. @default 300 */
  readonly expiresIn?: number;
  /**
   * JOSE header members laid over the profile's `{ alg, kid, typ }`; `null` leaves one out. The
   * signature is always made by the issuer's key with its own algorithm, so a header `alg` other
   * than the key's makes a token a verifier must refuse.
   * @example { typ: 'JWT' }, { kid: null }, { alg: 'RS512' }
   */
  readonly header?: Readonly<Record<string, string | null>>;
  /**
   * Entra only: the token format version; `'1.0'` mints a v1 token, which a v2.0 entry refuses.
   * @default '2.0'
   */
  readonly version?: '1.0' | '2.0';
}

/** A claim set laid over a profile's; a claim given as `undefined` is left out. */
export type TestClaims = Readonly<Record<string, unknown>>;

/**
 * A local issuer for tests: its own keys, tokens shaped as a provider's with any claims, a JWKS a
 * module can fetch, and the one line that makes `AuthModule` trust it. Never for production: its
 * keys die with the process.
 * @example
 * const issuer = TestIssuer.create({ audience: 'orders-api' });
 * const app = await issuer.override(Test.createTestingModule({ imports: [AppModule] })).compile();
 * const token = issuer.token({ sub: 'alice', scope: 'orders:read' });
 */
export class TestIssuer {
  private readonly keys: TestKeys;
  private readonly profile: TestIssuerProfile;
  private readonly shape: ProviderShape;
  private readonly now: () => number;

  private constructor(
    private readonly options: TestIssuerOptions,
    private readonly server?: IssuerServer,
  ) {
    this.profile = options.profile ?? 'rfc9068';
    if (!Object.hasOwn(PROVIDER_SHAPES, this.profile)) {
      throw new Error(`unknown profile ${String(this.profile)}`);
    }
    this.shape = PROVIDER_SHAPES[this.profile];
    this.keys = new TestKeys(options.alg ?? this.shape.alg);
    this.now = options.now ?? (() => Date.now() / 1000);
  }

  /** A new issuer with its own key, trusted through its public keys (no server). */
  static create(options: TestIssuerOptions = {}): TestIssuer {
    return new TestIssuer(options);
  }

  /**
   * A new issuer served on 127.0.0.1 on a free port: `/.well-known/jwks.json`,
   * `/.well-known/openid-configuration` and `/.well-known/oauth-authorization-server`. Its `iss`
   * is its URL; `close()` it after the tests.
   */
  static async serve(options: ServedTestIssuerOptions = {}): Promise<TestIssuer> {
    // The server answers from the issuer it serves, which needs the server's URL first.
    const served: { issuer?: TestIssuer } = {};
    const server = await listenIssuer({
      jwks: () => served.issuer!.jwks(),
      metadata: () => served.issuer!.metadata(),
    });
    served.issuer = new TestIssuer({ ...options, issuer: server.url }, server);
    return served.issuer;
  }

  /** Its `iss`. */
  get issuer(): string {
    return this.options.issuer ?? this.shape.issuer;
  }

  /** What it mints as `aud` (for `cognito`, as `client_id`). */
  get audience(): string | readonly string[] {
    return this.options.audience ?? this.shape.audience;
  }

  /**
   * This issuer as an entry of `AuthModule`'s `issuers`: a served issuer by its `jwksUri`, any
   * other by its public keys as they are now (a later `rotate()` is not seen by a module that
   * took them before). A provider's profile names its `profile`; Cognito's, its client id as
   * `audience`.
   */
  get trusted(): TrustedIssuerOptions {
    const keys = this.server ? { jwksUri: this.jwksUri! } : { keys: this.keys.publicJwks().keys };
    const profile = this.profile;
    return {
      issuer: this.issuer,
      ...keys,
      ...(profile === 'rfc9068' ? {} : { profile }),
      ...(profile === 'cognito' ? { audience: this.audience } : {}),
    } as TrustedIssuerOptions;
  }

  /** A served issuer's JWKS URL. */
  get jwksUri(): string | undefined {
    return this.server && `${this.server.url}/.well-known/jwks.json`;
  }

  /** How many times a served issuer's JWKS was fetched: a module's refetch is seen here. */
  get jwksRequests(): number {
    return this.server?.jwksRequests ?? 0;
  }

  /** The `kid` of the key that signs now. */
  get kid(): string {
    return this.keys.active.kid;
  }

  /** Its public keys, as its JWKS endpoint serves them. */
  jwks(): JwkSet {
    return this.keys.publicJwks();
  }

  /** Its discovery document (OpenID Connect and RFC 8414): `issuer`, `jwks_uri` and more. */
  metadata(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: this.jwksUri,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [this.keys.active.alg],
    };
  }

  /**
   * A new key of the same algorithm signs from now on; every older key stays published, so a
   * module fetching this issuer's JWKS finds the new `kid` by refetching. Returns the new `kid`.
   */
  rotate(): string {
    return this.keys.add();
  }

  /**
   * A signed access token, shaped as the profile's provider emits them, with `claims` laid over
   * its claims (a claim given as `undefined` is left out).
   */
  token(claims: TestClaims = {}, options: TestTokenOptions = {}): string {
    return this.mint('access', claims, options);
  }

  /** A signed ID token of the profile's provider: for tests that one is refused as access token. */
  idToken(claims: TestClaims = {}, options: TestTokenOptions = {}): string {
    return this.mint('id', claims, options);
  }

  /**
   * A signed refresh token of the profile's provider, where they are JWTs (Keycloak's, payload
   * `typ: "Refresh"`); for the others it throws, saying why.
   */
  refreshToken(claims: TestClaims = {}, options: TestTokenOptions = {}): string {
    return this.mint('refresh', claims, options);
  }

  /**
   * `builder` (a `Test.createTestingModule(...)`) with the app's `AuthModule` trusting this
   * issuer in place of the issuers it was given, through `forRoot` or `forRootAsync`; every
   * other option (audience, revocation, scopes, renewal) stays the app's, but for `overrides`
   * (e.g. `now` for a test that moves time, `jwks: { cooldownSeconds: 0 }` for one that rotates
   * keys). An app's entry with this issuer's `iss` keeps its other members (how its tokens are
   * read); only where its keys come from changes.
   * @example
   * const moduleRef = await issuer.override(Test.createTestingModule({ imports: [AppModule] })).compile();
   */
  override<Builder>(
    builder: ProviderOverridable<Builder>,
    overrides: Omit<Partial<AuthModuleOptions>, 'issuers'> = {},
  ): Builder {
    return trustOnly(builder, this.trusted, overrides);
  }

  /** Stops a served issuer's server; nothing for one that is not served. */
  async close(): Promise<void> {
    await this.server?.close();
  }

  private mint(kind: TestTokenKind, claims: TestClaims, options: TestTokenOptions): string {
    if (options.version !== undefined && this.profile !== 'entra') {
      throw new Error(`version is for entra tokens, not ${this.profile}`);
    }
    const shaper = this.shape[kind];
    if (shaper === undefined) throw new Error(`no ${kind} token JWT: ${this.shape.noRefresh}`);
    const iat = Math.floor(this.now());
    const shape = shaper({
      issuer: this.issuer,
      audience: this.audience,
      iat,
      exp: iat + (options.expiresIn ?? 300),
      version: options.version ?? '2.0',
    });
    const payload: Record<string, unknown> = { ...shape.claims, ...claims };
    for (const [name, value] of Object.entries(payload)) {
      if (value === undefined) delete payload[name];
    }
    return this.keys.sign({ ...shape.header, ...options.header }, payload);
  }
}
