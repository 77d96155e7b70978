// The verifiers the benchmark compares, each set up once for one algorithm and one token.

import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { createVerifier } from 'fast-jwt';
import { importJWK, jwtVerify } from 'jose';
import jwt from 'jsonwebtoken';
import { createTokenVerifier } from '../lib/options/create-token-verifier.js';
import { generateSigningJwk, KeyRing, TokenIssuer } from 'nest-tessera/issuer';
import { resolveAuthOptions } from '../lib/options/resolve-auth-options.js';
import { type Jwk, type SigningAlgorithm } from 'nest-tessera';
import type { Operation } from './harness.js';

export type BenchAlgorithm = Extract<SigningAlgorithm, 'RS256' | 'ES256' | 'EdDSA'>;

export type ContenderId =
  | 'raw'
  | 'tessera'
  | 'tesseraCached'
  | 'tesseraCachedSameString'
  | 'jose'
  | 'fastJwt'
  | 'fastJwtCached'
  | 'jsonwebtoken';

/** One verifier of one algorithm, ready to be timed on the benchmark's token. */
export interface Contender {
  readonly id: ContenderId;
  readonly op: Operation;
  /** Throws unless the contender accepts the token and refuses one made for another audience. */
  readonly check: () => Promise<void>;
}

const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'orders-api';
const REQUIRED_CLAIMS = ['iss', 'aud', 'exp', 'iat', 'sub', 'jti'];
const CLOCK_TOLERANCE_SECONDS = 5;

interface Fixture {
  readonly alg: BenchAlgorithm;
  readonly publicJwk: Jwk;
  readonly publicKey: KeyObject;
  readonly pem: string;
  /** A valid access token as the sample auth service issues it. */
  readonly token: string;
  /**
   * The token as a request delivers it: a new string each time, read from the bytes received.
   * A string used again keeps the hash V8 computed for it, which would make every map keyed by
   * the token look faster than it is on a server (hashing a 600-byte token costs about 1 µs).
   */
  readonly receive: () => string;
  /** The same but for another audience: every contender except raw crypto must refuse it. */
  readonly foreignToken: string;
}

function fixture(alg: BenchAlgorithm): Fixture {
  const keyRing = KeyRing.fromJwks({ keys: [generateSigningJwk(alg, `bench-${alg}`)] });
  const publicJwk = keyRing.publicJwks().keys[0];
  const publicKey = createPublicKey({ key: publicJwk, format: 'jwk' });
  const request = {
    subject: 'user-1',
    scopes: ['orders:read', 'orders:write'],
    clientId: 'web-app',
    tenant: 'tenant-a',
    sessionId: 'session-1',
  };
  const issue = (audience: string) =>
    new TokenIssuer({
      issuer: ISSUER,
      audience,
      keyRing,
      accessTokenTtlSeconds: 3600,
    }).issueAccessToken(request).token;
  const token = issue(AUDIENCE);
  const received = Buffer.from(token, 'latin1');
  return {
    alg,
    publicJwk,
    publicKey,
    pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    token,
    receive: () => received.toString('latin1'),
    foreignToken: issue('another-api'),
  };
}

/** Every contender for `alg`; `jsonwebtoken` has no EdDSA, so it is left out there. */
export async function contendersFor(alg: BenchAlgorithm): Promise<Contender[]> {
  const f = fixture(alg);
  const contenders = [
    rawCrypto(f),
    tessera(f, 'tessera', 0),
    tessera(f, 'tesseraCached', 10_000),
    tessera(f, 'tesseraCachedSameString', 10_000, () => f.token),
    await jose(f),
    fastJwt(f, 'fastJwt', false),
    fastJwt(f, 'fastJwtCached', true),
  ];
  if (alg !== 'EdDSA') contenders.push(jsonwebtoken(f));
  return contenders;
}

/** `crypto.verify` of the token's signature: key imported, both inputs already decoded. */
function rawCrypto(f: Fixture): Contender {
  const lastDot = f.token.lastIndexOf('.');
  const signingInput = Buffer.from(f.token.slice(0, lastDot), 'latin1');
  const signature = Buffer.from(f.token.slice(lastDot + 1), 'base64url');
  const digest = f.alg === 'EdDSA' ? null : 'sha256';
  const key =
    f.alg === 'ES256' ? { key: f.publicKey, dsaEncoding: 'ieee-p1363' as const } : f.publicKey;
  const run = () => cryptoVerify(digest, signingInput, key, signature);
  return {
    id: 'raw',
    op: { kind: 'sync', run },
    check: async () => {
      if (!run()) throw new Error('raw crypto.verify refused the signature');
    },
  };
}

/** This library: static issuer keys, default checks (typ at+jwt, iss, aud, exp, iat, sub, jti). */
function tessera(
  f: Fixture,
  id: ContenderId,
  verifiedTokenCacheSize: number,
  receive = f.receive,
): Contender {
  const verifier = createTokenVerifier(
    resolveAuthOptions({
      issuers: [{ issuer: ISSUER, keys: [f.publicJwk] }],
      audience: AUDIENCE,
      verifiedTokenCacheSize,
    }),
  );
  return {
    id,
    // With its keys given, the verifier answers synchronously: timed as a sync call, like raw crypto.
    op: { kind: 'sync', run: () => verifier.verify(receive()) },
    check: async () => {
      const principal = await verifier.verify(f.token);
      if (principal.subject !== 'user-1') throw new Error('tessera: wrong principal');
      await mustRefuse(id, () => verifier.verify(f.foreignToken));
    },
  };
}

async function jose(f: Fixture): Promise<Contender> {
  const key = await importJWK(f.publicJwk, f.alg);
  const options = {
    issuer: ISSUER,
    audience: AUDIENCE,
    typ: 'at+jwt',
    algorithms: [f.alg],
    requiredClaims: REQUIRED_CLAIMS,
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
  };
  return {
    id: 'jose',
    op: { kind: 'async', run: () => jwtVerify(f.receive(), key, options) },
    check: async () => {
      await jwtVerify(f.token, key, options);
      await mustRefuse('jose', () => jwtVerify(f.foreignToken, key, options));
    },
  };
}

function fastJwt(f: Fixture, id: ContenderId, cache: boolean): Contender {
  const verify = createVerifier({
    key: f.pem,
    algorithms: [f.alg],
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    checkTyp: 'at+jwt',
    requiredClaims: REQUIRED_CLAIMS,
    clockTolerance: CLOCK_TOLERANCE_SECONDS * 1000,
    cache,
  });
  return {
    id,
    op: { kind: 'sync', run: () => verify(f.receive()) },
    check: async () => {
      verify(f.token);
      await mustRefuse(id, () => verify(f.foreignToken));
    },
  };
}

/** What passport-jwt does with the PEM string jwks-rsa hands it: the key is parsed per call. */
function jsonwebtoken(f: Fixture): Contender {
  const options = {
    algorithms: [f.alg as jwt.Algorithm],
    issuer: ISSUER,
    audience: AUDIENCE,
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
  };
  return {
    id: 'jsonwebtoken',
    op: { kind: 'sync', run: () => jwt.verify(f.receive(), f.pem, options) },
    check: async () => {
      jwt.verify(f.token, f.pem, options);
      await mustRefuse('jsonwebtoken', () => jwt.verify(f.foreignToken, f.pem, options));
    },
  };
}

async function mustRefuse(id: ContenderId, verify: () => unknown): Promise<void> {
  try {
    await verify();
  } catch {
    return;
  }
  throw new Error(`${id} accepted a token made for another audience`);
}
