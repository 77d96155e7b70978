import { Inject, Injectable, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InvalidTokenError } from '../errors/auth-errors.js';
import { TooManyRequestsError } from '../errors/too-many-requests.error.js';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import { consumerKey, type ConsumerThrottle } from '../throttling/consumer-throttle.js';
import { extractToken, type CredentialCarrier } from '../verify/extract-token.js';
import { TokenVerifier } from '../verify/token-verifier.js';
import { AUTH_OPTIONS } from './auth.module-definition.js';
import { perRoute, type RouteTargets } from './per-route.js';
import { principalOf, setRejectedToken, setVerified } from './request-state.js';
import { RouteThrottle, SkipThrottleRoute } from './throttle.decorator.js';

/** Injection token of the module's `ConsumerThrottle` (`null` when throttling is off). */
export const CONSUMER_THROTTLE = Symbol('ConsumerThrottle');

/**
 * Counts a request against its consumer before it is authenticated: the verified `sub` (or
 * `client_id` of a service client) when the request carries a valid token, else the client IP, so
 * that floods of bad tokens are limited too. Over the limit: `TooManyRequestsError` (429).
 */
@Injectable()
export class RequestThrottler {
  /** A route's throttling metadata, read once per route. */
  private readonly routeOf = perRoute((targets) => ({
    skip: this.reflector.getAllAndOverride(SkipThrottleRoute, targets) === true,
    limit: this.reflector.getAllAndOverride(RouteThrottle, targets),
    id: targets.map((t) => (t as { name?: string }).name).join('.'),
  }));

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
    @Optional() @Inject(CONSUMER_THROTTLE) private readonly throttle: ConsumerThrottle | null,
  ) {}

  /** Whether throttling is configured at all (the guard skips the call when it is not). */
  get enabled(): boolean {
    return this.throttle !== null && this.throttle !== undefined;
  }

  async check(request: CredentialCarrier & { ip?: string }, targets: RouteTargets): Promise<void> {
    if (!this.throttle) return;
    const rules = this.routeOf(targets);
    if (rules.skip) return;
    const consumer = await this.consumerOf(request);
    const route = rules.limit && { id: rules.id, limit: rules.limit };
    let decision;
    try {
      decision = await this.throttle.hit(consumer, route);
    } catch {
      return; // the counters are unreachable: serving beats refusing everyone
    }
    if (decision.allowed) return;
    this.options.events.requestThrottled?.({
      tracker: consumer.startsWith('ip:') ? 'ip' : 'principal',
    });
    throw new TooManyRequestsError(decision.retryAfterSeconds);
  }

  private async consumerOf(request: CredentialCarrier & { ip?: string }): Promise<string> {
    const known = principalOf(request);
    if (known !== undefined) return consumerKey(known);
    const ip = `ip:${request.ip ?? 'unknown'}`;
    let token: string | undefined;
    try {
      token = extractToken(request, this.options.tokenSources);
    } catch {
      return ip; // a malformed request counts against its IP; the bearer guard answers it
    }
    if (token === undefined) return ip;
    try {
      const principal = await this.verifier.verify(token);
      setVerified(request, token, principal);
      return consumerKey(principal);
    } catch (error) {
      // Not a valid token: it counts against the IP, and the bearer guard answers it with the
      // same error, without verifying the token again.
      if (error instanceof InvalidTokenError) setRejectedToken(request, token, error);
      return ip;
    }
  }
}
