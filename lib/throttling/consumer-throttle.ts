import type { Principal } from '../verify/principal.js';
import type { ThrottleStorage } from './throttle-storage.js';

/** A limit: at most `limit` requests per fixed window of `ttlSeconds`. */
export interface ThrottleLimit {
  readonly limit: number;
  readonly ttlSeconds: number;
}

/**
 * The consumer a principal counts as: its service client when the token is the client's own
 * (`sub` names the client, RFC 9068 §2.2, as client-credentials tokens do), else its user. Not
 * every issuer puts `sid` in a user's token, so its absence does not make a client token.
 */
export function consumerKey(principal: Principal): string {
  return principal.clientId !== undefined && principal.subject === principal.clientId
    ? `client:${principal.clientId}`
    : `sub:${principal.subject}`;
}

/** What a hit came to. */
export type ThrottleDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

/**
 * Per-consumer fixed-window limits: `consumer` is a `consumerKey()` or `ip:<address>`; a route
 * with its own limit counts apart from the consumer's overall one.
 */
export class ConsumerThrottle {
  constructor(
    private readonly storage: ThrottleStorage,
    private readonly defaults: ThrottleLimit,
    private readonly perConsumer: Readonly<Record<string, number>> = {},
  ) {}

  async hit(
    consumer: string,
    route?: { id: string; limit: ThrottleLimit },
  ): Promise<ThrottleDecision> {
    const { limit, ttlSeconds } = route?.limit ?? {
      limit: this.perConsumer[consumer] ?? this.defaults.limit,
      ttlSeconds: this.defaults.ttlSeconds,
    };
    const key = route ? `${consumer}|${route.id}` : consumer;
    const { totalHits, secondsLeft } = await this.storage.increment(key, ttlSeconds * 1000, limit);
    return totalHits > limit
      ? { allowed: false, retryAfterSeconds: secondsLeft }
      : { allowed: true };
  }
}
