import { randomUUID } from 'node:crypto';
import { accessTokenHash } from '../../lib/dpop/dpop-proof-verifier.js';
import type { SigningAlgorithm } from '../../lib/keys/algorithms.js';
import { forge, makeKey, type Signer, type TestKey } from './keys.js';

/** A client's DPoP key: its private key signs proofs, its public JWK goes in their header. */
export function dpopKey(alg: SigningAlgorithm = 'ES256'): TestKey {
  return makeKey(alg);
}

/** The public members of a key's JWK, as a proof's `jwk` header carries them. */
export function proofJwk(key: TestKey): Record<string, unknown> {
  const { kty, crv, x, y, n, e } = key.publicJwk as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined),
  );
}

/** What a proof says, each part replaceable by a test. */
export interface ProofParts {
  readonly htm: string;
  readonly htu: string;
  /** The access token the proof goes with (its `ath`). */
  readonly accessToken?: string;
  readonly iat?: number;
  readonly jti?: string;
  readonly nonce?: string;
  /** Members added to (or, as `undefined`, removed from) the header. */
  readonly header?: Record<string, unknown>;
  /** Members added to (or, as `undefined`, removed from) the payload. */
  readonly payload?: Record<string, unknown>;
  /** How it is signed; by `key` itself unless given. */
  readonly signer?: Signer;
}

/** A DPoP proof JWT (RFC 9449 §4.2) by `key`, as a client makes one, or altered as told. */
export function makeProof(key: TestKey, parts: ProofParts): string {
  const header = withOverrides({ typ: 'dpop+jwt', alg: key.alg, jwk: proofJwk(key) }, parts.header);
  const payload = withOverrides(
    {
      jti: parts.jti ?? randomUUID(),
      htm: parts.htm,
      htu: parts.htu,
      iat: parts.iat ?? Math.floor(Date.now() / 1000),
      ...(parts.accessToken !== undefined && { ath: accessTokenHash(parts.accessToken) }),
      ...(parts.nonce !== undefined && { nonce: parts.nonce }),
    },
    parts.payload,
  );
  return forge(header, payload, parts.signer ?? { key });
}

function withOverrides(
  base: Record<string, unknown>,
  overrides: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const result = { ...base, ...overrides };
  for (const [name, value] of Object.entries(overrides ?? {})) {
    if (value === undefined) delete result[name];
  }
  return result;
}
