import type { RequestAuthenticator } from '../authentication/request-authenticator.js';
import { AuthConfigError } from '../errors/auth-errors.js';
import type { Principal } from '../verify/principal.js';
import type { CallIdentity } from './principal-context.js';

/** A service identity declared locally: a principal with explicit scopes, no token involved. */
export interface LocalServiceIdentity {
  readonly principal: {
    readonly subject: string;
    readonly scopes: readonly string[];
    readonly tenant?: string;
  };
  /** May act on any tenant's data. Only ever granted here, explicitly. @default false */
  readonly crossTenant?: boolean;
}

/** A service identity that obtains a client-credentials token from the issuer (RFC 6749 §4.4). */
export interface ClientCredentialsServiceIdentity {
  readonly clientCredentials: {
    readonly tokenEndpoint: string;
    readonly clientId: string;
    readonly clientSecret: string;
    /** Space-separated scopes to ask for; the issuer decides. */
    readonly scope?: string;
  };
  readonly crossTenant?: boolean;
}

export type ServiceIdentityOptions = LocalServiceIdentity | ClientCredentialsServiceIdentity;

/** Fetch a new token this long before the current one expires. */
const REFRESH_MARGIN_SECONDS = 60;

interface Cached {
  readonly identity: CallIdentity;
  readonly refreshAt: number;
}

/**
 * The named identities scheduled tasks and workers run as (`@RunAs(name)`, `runAs`). A token
 * obtained by client credentials is verified like any other and renewed before it expires.
 */
export class ServiceIdentities {
  private readonly cache = new Map<string, Cached>();
  private readonly inFlight = new Map<string, Promise<CallIdentity>>();

  constructor(
    private readonly declared: Readonly<Record<string, ServiceIdentityOptions>>,
    private readonly authenticator: RequestAuthenticator,
    private readonly now: () => number,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  /** The identity named `name`; rejects when it is unknown or its token cannot be had. */
  async resolve(name: string): Promise<CallIdentity> {
    const cached = this.cache.get(name);
    if (cached !== undefined && this.now() < cached.refreshAt) return cached.identity;
    const running = this.inFlight.get(name);
    if (running !== undefined) return running;
    const pending = this.load(name).finally(() => this.inFlight.delete(name));
    this.inFlight.set(name, pending);
    return pending;
  }

  private async load(name: string): Promise<CallIdentity> {
    const declared = this.declared[name];
    if (declared === undefined) throw new AuthConfigError(`no service identity named "${name}"`);
    const crossTenant = declared.crossTenant ?? false;
    if ('principal' in declared) {
      const identity = { principal: localPrincipal(name, declared), crossTenant };
      this.cache.set(name, { identity, refreshAt: Infinity });
      return identity;
    }
    const token = await this.fetchToken(declared.clientCredentials);
    const principal = await this.authenticator.authenticateOwnToken(token);
    const identity = { principal, crossTenant };
    this.cache.set(name, { identity, refreshAt: principal.expiresAt - REFRESH_MARGIN_SECONDS });
    return identity;
  }

  private async fetchToken(
    cc: ClientCredentialsServiceIdentity['clientCredentials'],
  ): Promise<string> {
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: cc.clientId,
      client_secret: cc.clientSecret,
      ...(cc.scope !== undefined && { scope: cc.scope }),
    });
    const response = await this.fetchFn(cc.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
      // A redirect (307, 308) would resend the client secret wherever the answer points.
      redirect: 'error',
      signal: AbortSignal.timeout(5000),
    });
    const answer = (await response.json().catch(() => ({}))) as { access_token?: unknown };
    if (!response.ok || typeof answer.access_token !== 'string') {
      throw new Error(`client credentials for ${cc.clientId} refused: HTTP ${response.status}`);
    }
    return answer.access_token;
  }
}

function localPrincipal(name: string, declared: LocalServiceIdentity): Principal {
  const { subject, scopes, tenant } = declared.principal;
  return Object.freeze({
    subject,
    tenant,
    scopes: Object.freeze([...scopes]),
    sessionId: undefined,
    clientId: name,
    tokenId: `local:${name}`,
    issuer: 'local',
    issuedAt: 0,
    expiresAt: Infinity,
    claims: Object.freeze({
      iss: 'local',
      sub: subject,
      aud: [],
      exp: Infinity,
      iat: 0,
      jti: `local:${name}`,
    }),
  });
}
