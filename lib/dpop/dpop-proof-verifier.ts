import {
  createHash,
  createPublicKey,
  verify as cryptoVerify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import {
  InvalidDpopProofError,
  InvalidTokenError,
  UseDpopNonceError,
  type InvalidDpopProofReason,
} from '../errors/auth-errors.js';
import { cryptoParams, keyWithParams, type SigningAlgorithm } from '../keys/algorithms.js';
import { checkJwsSignature, decodeCompactJws, type DecodedJws } from '../verify/compact-jws.js';
import type { DpopNonces } from './dpop-nonces.js';
import { MemoryDpopReplayCache, type DpopReplayCache } from './dpop-replay-cache.js';
import { jwkThumbprint } from './jwk-thumbprint.js';

/** What a `DpopProofVerifier` checks proofs against. */
export interface DpopProofVerifierOptions {
  /** Where accepted proofs are remembered, shared by every instance that accepts them. */
  readonly replayCache: DpopReplayCache;
  /** @default ['ES256', 'EdDSA', 'RS256', 'PS256'] */
  readonly algorithms?: readonly SigningAlgorithm[];
  /** How old a proof's `iat` may be, in seconds. @default 60 */
  readonly maxAgeSeconds?: number;
  /** Leeway on `iat`, in seconds. @default 5 */
  readonly clockToleranceSeconds?: number;
  /** Proofs longer than this many bytes are refused before anything is decoded. @default 8192 */
  readonly maxProofBytes?: number;
  /** Server nonces (RFC 9449 §9) every proof must carry; absent: none asked. */
  readonly nonces?: DpopNonces;
  /** Epoch seconds. @default () => Date.now() / 1000 */
  readonly now?: () => number;
}

/** One request's proof and what it must match. */
export interface DpopProofRequest {
  /** The `DPoP` header as received: a list when it came more than once. */
  readonly proof: string | readonly string[] | undefined;
  /** The request's method. */
  readonly method: string;
  /** The request's URL as this server is reached (`htu`); query and fragment are ignored. */
  readonly url: string;
  /** The access token the proof goes with (checked against `ath`), at a resource server. */
  readonly accessToken?: string;
  /** The thumbprint the access token is bound to (`cnf.jkt`): the proof's key must have it. */
  readonly jkt?: string;
  /**
   * What to do when the replay cache cannot be asked: `fail-open` checks this process's own
   * memory of proofs instead, `fail-closed` refuses.
   * @default 'fail-closed'
   */
  readonly onOutage?: 'fail-open' | 'fail-closed';
}

/** An accepted proof. */
export interface VerifiedDpopProof {
  /** The RFC 7638 thumbprint of the proof's key: what a token bound to it carries as `cnf.jkt`. */
  readonly jkt: string;
  readonly jti: string;
  readonly iat: number;
}

const PROOF_TYP = 'dpop+jwt';
// Members that only a private (or symmetric) JWK has (RFC 7517, RFC 7518 §6).
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const KEY_TYPES: Readonly<Record<SigningAlgorithm, (jwk: Record<string, unknown>) => boolean>> = {
  ES256: (jwk) => jwk.kty === 'EC' && jwk.crv === 'P-256',
  ES384: (jwk) => jwk.kty === 'EC' && jwk.crv === 'P-384',
  EdDSA: (jwk) => jwk.kty === 'OKP' && jwk.crv === 'Ed25519',
  RS256: (jwk) => jwk.kty === 'RSA',
  RS384: (jwk) => jwk.kty === 'RSA',
  RS512: (jwk) => jwk.kty === 'RSA',
  PS256: (jwk) => jwk.kty === 'RSA',
  PS384: (jwk) => jwk.kty === 'RSA',
  PS512: (jwk) => jwk.kty === 'RSA',
};
const MIN_RSA_BITS = 2048;
/** Imported proof keys by thumbprint: a client signs every proof with the same key. */
const KEYS_KEPT = 1024;
const MAX_JTI_LENGTH = 256;

/**
 * Checks DPoP proofs (RFC 9449 §4.3): one well-formed `dpop+jwt` signed with an allowed
 * asymmetric algorithm by the public key in its `jwk` header, for this method and URL, fresh,
 * for this access token and its key, and never seen before. Throws `InvalidDpopProofError`,
 * `UseDpopNonceError`, or `InvalidTokenError('dpop_key_mismatch')` for a proof by another key.
 */
export class DpopProofVerifier {
  /** The algorithms accepted, for the `algs` of challenges and discovery metadata. */
  readonly algorithms: readonly SigningAlgorithm[];
  private readonly allowed: ReadonlySet<string>;
  private readonly maxAgeSeconds: number;
  private readonly clockToleranceSeconds: number;
  private readonly maxProofBytes: number;
  private readonly now: () => number;
  private readonly keys = new Map<string, KeyObject>();
  /**
   * The proofs this process accepted, whatever the shared cache said: a fail-open check while the
   * shared cache is down asks it, and a proof accepted here before (or during) an outage is not
   * accepted here again.
   */
  private readonly local: MemoryDpopReplayCache;

  constructor(private readonly options: DpopProofVerifierOptions) {
    this.algorithms = [...(options.algorithms ?? DPOP_ALGORITHMS)];
    this.allowed = new Set(this.algorithms);
    this.maxAgeSeconds = options.maxAgeSeconds ?? 60;
    this.clockToleranceSeconds = options.clockToleranceSeconds ?? 5;
    this.maxProofBytes = options.maxProofBytes ?? 8192;
    this.now = options.now ?? (() => Date.now() / 1000);
    this.local = new MemoryDpopReplayCache({ now: this.now });
  }

  /** The nonce clients must use now, when the verifier asks for nonces. */
  currentNonce(): string | undefined {
    return this.options.nonces?.current();
  }

  /** The accepted proof, or the refusal; a proof is accepted once. */
  async verify(request: DpopProofRequest): Promise<VerifiedDpopProof> {
    const checked = this.check(request);
    const expiresAt = checked.iat + this.maxAgeSeconds + this.clockToleranceSeconds + 1;
    // Per key: one client's `jti` never spends another's.
    const key = `${checked.jkt}.${createHash('sha256').update(checked.jti).digest('base64url')}`;
    let fresh: boolean;
    let down = false;
    try {
      fresh = await this.options.replayCache.remember(key, expiresAt);
    } catch (cause) {
      // A memory cache full of live proofs is no outage: forgetting one would let it be replayed.
      if (cause instanceof RangeError || request.onOutage !== 'fail-open') {
        throw new InvalidDpopProofError('replay_check_unavailable', { cause });
      }
      down = true;
      fresh = true;
    }
    const freshHere = this.remembersLocally(key, expiresAt, down);
    if (!fresh || !freshHere) throw new InvalidDpopProofError('replayed');
    return checked;
  }

  /** Every check but the replay cache's; synchronous. */
  private check(request: DpopProofRequest): VerifiedDpopProof {
    const proof = singleProof(request.proof);
    if (proof.length > this.maxProofBytes) refuse('oversized');
    let jws: DecodedJws;
    try {
      jws = decodeCompactJws(proof);
    } catch (cause) {
      throw new InvalidDpopProofError('malformed', { cause });
    }
    const { header, payload } = jws;
    if (header.typ !== PROOF_TYP) refuse('typ_mismatch');
    if (header.crit !== undefined) refuse('malformed');
    const alg = header.alg;
    if (typeof alg !== 'string' || !this.allowed.has(alg)) refuse('alg_not_allowed');
    const { key, jkt } = this.proofKey(header.jwk, alg as SigningAlgorithm);
    if (!verifySignature(alg as SigningAlgorithm, key, jws)) refuse('bad_signature');
    const { jti, htm, htu, iat } = payload;
    if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH)
      refuse('missing_claim');
    if (typeof htm !== 'string' || typeof htu !== 'string') refuse('missing_claim');
    if (typeof iat !== 'number' || !Number.isFinite(iat)) refuse('missing_claim');
    if (htm !== request.method) refuse('htm_mismatch');
    if (!sameResource(htu, request.url)) refuse('htu_mismatch');
    const nonces = this.options.nonces;
    if (nonces !== undefined && !nonces.accepts(payload.nonce)) {
      throw new UseDpopNonceError(nonces.current());
    }
    const now = this.now();
    const leeway = this.clockToleranceSeconds;
    if (iat > now + leeway || iat < now - this.maxAgeSeconds - leeway) refuse('iat_out_of_window');
    if (request.accessToken !== undefined && payload.ath !== accessTokenHash(request.accessToken)) {
      refuse('ath_mismatch');
    }
    if (request.jkt !== undefined && request.jkt !== jkt) {
      throw new InvalidTokenError('dpop_key_mismatch');
    }
    return { jkt, jti, iat };
  }

  private proofKey(jwk: unknown, alg: SigningAlgorithm): { key: KeyObject; jkt: string } {
    if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) refuse('bad_jwk');
    const members = jwk as Record<string, unknown>;
    if (PRIVATE_MEMBERS.some((name) => Object.hasOwn(members, name))) refuse('private_key');
    if (!KEY_TYPES[alg](members)) refuse('bad_jwk');
    let jkt: string;
    try {
      jkt = jwkThumbprint(members);
    } catch (cause) {
      throw new InvalidDpopProofError('bad_jwk', { cause });
    }
    let key = this.keys.get(jkt);
    if (key === undefined) {
      key = importPublicKey(members);
      if (this.keys.size >= KEYS_KEPT) this.keys.delete(this.keys.keys().next().value!);
      this.keys.set(jkt, key);
    }
    return { key, jkt };
  }

  /**
   * Records the proof in this process's memory: whether it was new here. Full of live proofs, the
   * memory refuses it while the shared cache is down (`alone`), and leaves the answer to the
   * shared cache otherwise.
   */
  private remembersLocally(key: string, expiresAt: number, alone: boolean): boolean {
    try {
      return this.local.remember(key, expiresAt);
    } catch (cause) {
      if (alone) throw new InvalidDpopProofError('replay_check_unavailable', { cause });
      return true;
    }
  }
}

/** The algorithms DPoP proofs may use by default (RFC 9449 §4.2: asymmetric only). */
export const DPOP_ALGORITHMS: readonly SigningAlgorithm[] = ['ES256', 'EdDSA', 'RS256', 'PS256'];

/** RFC 9449 §4.2 `ath`: base64url SHA-256 of the access token's ASCII. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

function singleProof(proof: DpopProofRequest['proof']): string {
  if (proof === undefined) refuse('missing');
  // RFC 9449 §4.3: more than one DPoP header is refused; so is one holding a list.
  if (typeof proof !== 'string') refuse(proof.length === 0 ? 'missing' : 'multiple');
  if (proof === '') refuse('missing');
  if (proof.includes(',')) refuse('multiple');
  return proof.trim();
}

function importPublicKey(jwk: Record<string, unknown>): KeyObject {
  // Only the members that make the public key: nothing else of the client's reaches the parser.
  const pub: Record<string, unknown> =
    jwk.kty === 'RSA'
      ? { kty: 'RSA', n: jwk.n, e: jwk.e }
      : { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(jwk.kty === 'EC' && { y: jwk.y }) };
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pub as JsonWebKey, format: 'jwk' });
  } catch (cause) {
    throw new InvalidDpopProofError('bad_jwk', { cause });
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (jwk.kty === 'RSA' && (bits === undefined || bits < MIN_RSA_BITS)) refuse('bad_jwk');
  return key;
}

function verifySignature(alg: SigningAlgorithm, key: KeyObject, jws: DecodedJws): boolean {
  const { digest, signatureBytes } = cryptoParams(alg);
  const keyAndParams = keyWithParams(key, alg);
  return checkJwsSignature(jws, (signingInput, signature) => {
    if (signatureBytes !== undefined && signature.length !== signatureBytes) return false;
    try {
      return cryptoVerify(digest, signingInput, keyAndParams, signature);
    } catch {
      return false;
    }
  });
}

/**
 * Whether the proof's `htu` names the request's resource: both parsed as URLs (RFC 3986 §6.2.2
 * and §6.2.3 normalization: scheme and host case, default port, dot segments), compared on scheme,
 * host, port and path; query and fragment ignored (RFC 9449 §4.3).
 */
function sameResource(htu: string, expected: string): boolean {
  let claimed: URL;
  let actual: URL;
  try {
    claimed = new URL(htu);
    actual = new URL(expected);
  } catch {
    return false;
  }
  if (claimed.protocol !== 'https:' && claimed.protocol !== 'http:') return false;
  if (claimed.username !== '' || claimed.password !== '') return false;
  return claimed.origin === actual.origin && claimed.pathname === actual.pathname;
}

function refuse(reason: InvalidDpopProofReason): never {
  throw new InvalidDpopProofError(reason);
}
