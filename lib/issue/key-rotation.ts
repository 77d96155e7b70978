import type { SigningAlgorithm } from '../keys/algorithms.js';
import type { Jwk, JwkSet } from '../keys/jwk.js';
import { generateSigningJwk } from './key-ring.js';
import { activateAtOf, activeKey, phaseOf } from './key-schedule.js';

/** How keys rotate. */
export interface RotationPolicy {
  /** Algorithm of new keys. */
  readonly alg: SigningAlgorithm;
  /**
   * How long a new key is published before it signs: at least the verifiers' key-cache TTL, so
   * every verifier has it before the first token it signs.
   */
  readonly publishAheadSeconds: number;
  /** How long a retired key stays published: at least the longest token lifetime plus leeway. */
  readonly retainSeconds: number;
  /** Age of the signing key at which a new one is due (automated rotation). */
  readonly rotateEverySeconds?: number;
}

const scheduled = (jwks: JwkSet) =>
  jwks.keys.map((jwk) => ({ kid: String(jwk.kid), activateAt: activateAtOf(jwk), jwk }));

/**
 * The next step of a rotation: drops keys whose tokens have all expired and adds a new key that
 * is published now and signs from `now + publishAheadSeconds`.
 */
export function rotateKeySet(jwks: JwkSet, policy: RotationPolicy, now: number): JwkSet {
  const kept = pruneKeySet(jwks, policy.retainSeconds, now);
  const next: Jwk = {
    ...generateSigningJwk(policy.alg),
    activate_at: Math.ceil(now + policy.publishAheadSeconds),
  } as Jwk;
  return { keys: [...kept.keys, next] };
}

/**
 * The key set without the keys every token of which has expired; `keep` (the `kid` an issuer is
 * pinned to sign with) is never dropped, whatever the schedule says.
 */
export function pruneKeySet(
  jwks: JwkSet,
  retainSeconds: number,
  now: number,
  keep?: string,
): JwkSet {
  const keys = scheduled(jwks);
  const kept = (k: (typeof keys)[number]) =>
    k.kid === keep || phaseOf(keys, k, now, retainSeconds) !== 'dropped';
  return { keys: keys.filter(kept).map((k) => k.jwk) };
}

/** Whether automated rotation should add a key: none pending, and the signing key has aged. */
export function rotationDue(jwks: JwkSet, policy: RotationPolicy, now: number): boolean {
  if (policy.rotateEverySeconds === undefined) return false;
  const keys = scheduled(jwks);
  if (keys.some((k) => k.activateAt > now)) return false;
  const active = activeKey(keys, now);
  return now - active.activateAt >= policy.rotateEverySeconds - policy.publishAheadSeconds;
}

/** Each key with its phase, for `keys list` and logs. */
export function describeKeySet(jwks: JwkSet, retainSeconds: number, now: number) {
  const keys = scheduled(jwks);
  return keys.map((k) => ({
    kid: k.kid,
    alg: String(k.jwk.alg),
    activateAt: k.activateAt,
    phase: phaseOf(keys, k, now, retainSeconds),
  }));
}
