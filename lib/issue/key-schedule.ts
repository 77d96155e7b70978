import type { Jwk } from '../keys/jwk.js';

/**
 * A signing key's place in the rotation timeline, from the non-standard JWK member
 * `activate_at` (epoch seconds; absent: active from the start). A key signs from its activation
 * until the next key activates; it stays published until `retainSeconds` after that (every token
 * it signed has expired by then); a key not yet active is published ahead of use.
 */
export interface ScheduledKey {
  readonly kid: string;
  readonly activateAt: number;
}

export type KeyPhase = 'pending' | 'active' | 'retired' | 'dropped';

/** Keys in activation order (file order among equals). */
export function byActivation<K extends ScheduledKey>(keys: readonly K[]): K[] {
  return keys
    .map((key, index) => ({ key, index }))
    .sort((a, b) => a.key.activateAt - b.key.activateAt || a.index - b.index)
    .map(({ key }) => key);
}

/** The key that signs at `now`: the latest activated (the first in the file among equals; the earliest if none is active yet). */
export function activeKey<K extends ScheduledKey>(keys: readonly K[], now: number): K {
  const ordered = byActivation(keys);
  let active = ordered[0];
  for (const key of ordered)
    if (key.activateAt <= now && key.activateAt > active.activateAt) active = key;
  return active;
}

/** Each key's phase at `now`. */
export function phaseOf<K extends ScheduledKey>(
  keys: readonly K[],
  key: K,
  now: number,
  retainSeconds: number,
): KeyPhase {
  const active = activeKey(keys, now);
  if (key === active) return 'active';
  if (key.activateAt > now) return 'pending';
  // Retired when a later key activated; dropped once every token it signed has expired.
  const successor = byActivation(keys).find(
    (k) => k.activateAt > key.activateAt && k.activateAt <= now,
  );
  const retiredAt = successor?.activateAt ?? now;
  return now >= retiredAt + retainSeconds ? 'dropped' : 'retired';
}

export function activateAtOf(jwk: Jwk): number {
  const value = (jwk as { activate_at?: unknown }).activate_at;
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
