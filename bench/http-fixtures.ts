// What the HTTP benchmarks share: the issuer's tokens (valid ones, and what a guard must refuse)
// and its JWKS endpoint on loopback.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeyRing, TokenIssuer, type AccessTokenRequest } from 'nest-tessera/issuer';
import type { AdapterId, GuardId, ServerConfig } from './http-compare-server.js';

export const ISSUER = 'https://auth.bench';
export const AUDIENCE = 'orders-api';
const REVOKED_ENTRIES = 1000;

export interface Refusal {
  readonly what: string;
  readonly token?: string;
  readonly status: 401 | 403;
}

export interface Tokens {
  /** The 1,000 valid tokens; the first is the repeated one. */
  readonly valid: readonly string[];
  /** What a guard must refuse, with the status it must answer. */
  readonly refused: readonly Refusal[];
  /** A valid token that every nest-tessera app has on its revocation list. */
  readonly revokedToken: string;
  readonly revoked: ServerConfig['revoked'];
}

export function issueTokens(keyRing: KeyRing): Tokens {
  const issuer = (iss: string, audience: string) =>
    new TokenIssuer({ issuer: iss, audience, keyRing, accessTokenTtlSeconds: 3600 });
  const ours = issuer(ISSUER, AUDIENCE);
  const request = (i: number, scopes = ['orders:read', 'orders:write']): AccessTokenRequest => ({
    subject: `user-${String(i).padStart(4, '0')}`,
    tenant: 'tenant-a',
    scopes,
    clientId: 'web-app',
    sessionId: `session-${String(i).padStart(4, '0')}`,
  });
  const valid = Array.from({ length: 1000 }, (_, i) => ours.issueAccessToken(request(i)).token);
  const revokedToken = ours.issueAccessToken(request(1000));
  const exp = revokedToken.claims.exp;
  const revoked = [
    { jti: revokedToken.claims.jti, exp },
    ...Array.from({ length: REVOKED_ENTRIES - 1 }, (_, i) => ({ jti: `old-${i}`, exp })),
  ];
  return {
    valid,
    revokedToken: revokedToken.token,
    revoked,
    refused: [
      { what: 'no token', status: 401 },
      {
        what: 'another audience',
        token: issuer(ISSUER, 'another-api').issueAccessToken(request(0)).token,
        status: 401,
      },
      {
        what: 'another issuer',
        token: issuer('https://elsewhere.bench', AUDIENCE).issueAccessToken(request(0)).token,
        status: 401,
      },
      {
        what: 'a bad signature',
        token: `${valid[0].slice(0, -8)}${valid[1].slice(-8)}`,
        status: 401,
      },
      {
        what: 'no orders:read scope',
        token: ours.issueAccessToken(request(0, ['orders:write'])).token,
        status: 403,
      },
    ],
  };
}

/** The issuer's public keys on loopback, as a JWKS endpoint serves them. */
export async function jwksServer(keyRing: KeyRing): Promise<{ server: Server; uri: string }> {
  const body = JSON.stringify(keyRing.publicJwks());
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, uri: `http://127.0.0.1:${port}/.well-known/jwks.json` };
}

/** The configuration of one benchmark server: its guard and adapter, this issuer and its keys. */
export function serverConfig(
  guard: GuardId,
  adapter: AdapterId,
  jwksUri: string,
  tokens: Tokens,
): ServerConfig {
  return { guard, adapter, issuer: ISSUER, audience: AUDIENCE, jwksUri, revoked: tokens.revoked };
}
