import { Inject, Injectable, Optional } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { KeySourceHealth } from '../keys/key-source.js';
import { RevocationStore, revocationStoreHealth } from '../revocation/revocation-store.js';
import { TokenVerifier } from '../verify/token-verifier.js';

/** What `AuthHealthIndicator.checkKeys()` reports under its key, beside `status`. */
export interface KeysCheckData {
  /** Each trusted issuer's keys, by issuer (`iss`), in the order of the options. */
  readonly issuers: Readonly<Record<string, KeySourceHealth>>;
  /** When down: which issuers have no usable keys. */
  readonly message?: string;
}

/** What `AuthHealthIndicator.checkRevocationStore()` reports under its key, beside `status`. */
export type RevocationCheckData =
  | {
      /** Revocation checks are on. */
      readonly enabled: true;
      /** Whether the store's backend answered just now (always true in memory). */
      readonly reachable: boolean;
      /** Whether the store's local view holds every revocation. */
      readonly current: boolean;
      /** When down: why. */
      readonly message?: string;
    }
  | {
      /** Revocation is off (no `revocation` option): nothing to be down. */
      readonly enabled: false;
    };

/**
 * `@nestjs/terminus` checks of what `AuthModule` verifies tokens with: the trusted issuers' keys
 * and the revocation store. Provide it in a module that imports `TerminusModule` (and
 * `AuthModule`, unless that is global), and call its checks from `HealthCheckService.check()`.
 * Neither check throws: anything that goes wrong is a `down` with a `message`.
 * @example
 * health.check([() => auth.checkKeys('jwks'), () => auth.checkRevocationStore('revocation')])
 */
@Injectable()
export class AuthHealthIndicator {
  /** @internal */
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly verifier: TokenVerifier,
    // Optional: with revocation off the check reports `enabled: false` rather than stop start-up.
    @Optional()
    @Inject(RevocationStore)
    private readonly revocations: RevocationStore | null = null,
  ) {}

  /**
   * Up when every trusted issuer has usable keys: configured ones, or a JWKS fetched at least
   * once (keys kept through a later outage of the endpoint count; `lastError` says it failed).
   * A JWKS without a usable key (never fetched yet, or down so far) is fetched now, as the first
   * token would, at most once per `jwks.cooldownSeconds` and within `jwks.timeoutMs`; so the
   * check also warms the key cache.
   * @param key the result's key. @default 'jwks'
   */
  async checkKeys<const Key extends string = 'jwks'>(
    key: Key = 'jwks' as Key,
  ): Promise<HealthIndicatorResult<Key, 'up' | 'down', KeysCheckData>> {
    const indicator = this.indicators.check(key);
    // Never rejects: each key source's failure is part of its own health.
    const health = await this.verifier.keysHealth();
    const issuers = Object.fromEntries(health.map(({ issuer, ...keys }) => [issuer, keys]));
    const missing = health.filter((h) => !h.available).map((h) => h.issuer);
    if (missing.length === 0) return indicator.up({ issuers });
    return indicator.down({ issuers, message: `no usable keys for ${missing.join(', ')}` });
  }

  /**
   * Up when the revocation store's backend answers (a Redis PING, within a second) and its local
   * view is current, or when the store has no backend (in memory); up with `enabled: false` when
   * revocation is off (no `revocation` option). Down means revocations made elsewhere may not be
   * seen: the routes' `revocation.onOutage` policy decides what they answer meanwhile.
   * @param key the result's key. @default 'revocation'
   */
  async checkRevocationStore<const Key extends string = 'revocation'>(
    key: Key = 'revocation' as Key,
  ): Promise<HealthIndicatorResult<Key, 'up' | 'down', RevocationCheckData>> {
    const indicator = this.indicators.check(key);
    if (this.revocations == null) return indicator.up({ enabled: false as const });
    const { reachable, current, error } = await revocationStoreHealth(this.revocations);
    if (reachable && current) return indicator.up({ enabled: true as const, reachable, current });
    const message = error ?? (reachable ? 'local view not current' : 'backend unreachable');
    return indicator.down({ enabled: true as const, reachable, current, message });
  }
}
