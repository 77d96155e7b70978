import { Controller, Get, Header, Inject, Optional } from '@nestjs/common';
import { KeyRing } from 'nest-tessera/issuer';
import { DpopProofVerifier, Public, type JwkSet } from 'nest-tessera';
import type { AuthServiceConfig } from '../config.js';
import { ClientDirectory, UserDirectory } from './accounts.js';
import { AUTH_SERVICE_CONFIG } from './auth-service.tokens.js';

/** How long verifiers may cache the JWKS; a new key appears to them within this time. */
export const JWKS_MAX_AGE_SECONDS = 300;

/** Discovery: the public signing keys (RFC 7517) and the server metadata (RFC 8414). */
@Public()
@Controller('.well-known')
export class WellKnownController {
  private readonly metadata: Record<string, unknown>;

  constructor(
    private readonly keyRing: KeyRing,
    @Inject(AUTH_SERVICE_CONFIG) config: AuthServiceConfig,
    users: UserDirectory,
    clients: ClientDirectory,
    @Optional() @Inject(DpopProofVerifier) proofs: DpopProofVerifier | null,
  ) {
    const base = config.issuer.replace(/\/+$/, '');
    const scopes = new Set(
      [...users.list(), ...clients.list()].flatMap((account) => account.scopes),
    );
    this.metadata = {
      issuer: config.issuer,
      jwks_uri: `${base}/.well-known/jwks.json`,
      token_endpoint: `${base}/auth/token`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      // RFC 8414 requires the member; there is no authorization endpoint, so no response type.
      response_types_supported: [],
      scopes_supported: [...scopes].sort(),
      // RFC 9449 §5.1: the proof algorithms the token endpoints accept.
      ...(proofs && { dpop_signing_alg_values_supported: proofs.algorithms }),
    };
  }

  @Get('jwks.json')
  @Header('Cache-Control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`)
  jwks(): JwkSet {
    return this.keyRing.publicJwks();
  }

  @Get('oauth-authorization-server')
  @Header('Cache-Control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`)
  authorizationServerMetadata(): Record<string, unknown> {
    return this.metadata;
  }
}
