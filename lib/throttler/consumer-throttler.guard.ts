import {
  type ExecutionContext,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { ApplicationConfig, Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { AUTH_OPTIONS } from '../nest/auth.module-definition.js';
import { principalOf, setRejection } from '../nest/request-state.js';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import { RevocationStore } from '../revocation/revocation-store.js';
import type { CredentialCarrier } from '../verify/extract-token.js';
import { TokenVerifier } from '../verify/token-verifier.js';
import { ConsumerTracker } from './consumer-tracker.js';
import { runsAfterGlobalBearerGuard, warnThrottledAfterAuthentication } from './guard-order.js';
import { ThrottledRequestError } from './throttled-request.error.js';

/**
 * `@nestjs/throttler`'s guard, counting each HTTP request against its verified consumer:
 * `sub:<sub>@<issuer>`, or `client:<client_id>@<issuer>` for a service client's own token (`sub`
 * equal to `client_id`), a `%` or `@` of the id written `%25` or `%40`. A request without a valid token (none, forged, expired, revoked...) counts
 * against its client IP (`ip:<address>`), never against the subject its token names. `@Throttle()`, `@SkipThrottle()`, the `ThrottlerModule` options and storage
 * work as they do with `ThrottlerGuard`; a refusal is a `ThrottledRequestError` (429 with
 * `Retry-After`) and is reported to `AuthModule`'s `events.requestThrottled`.
 *
 * Register it as an `APP_GUARD` of the module that imports `AuthModule` (the application's root
 * module), so that it runs before the bearer guard: requests the bearer guard refuses are counted
 * too. Where it runs after that guard (an `APP_GUARD` of a module imported after `AuthModule`,
 * or `@UseGuards()`), it says so once through Nest's `Logger`: at start-up when the order of the
 * global guards shows it, else at the first request it finds authenticated already. The token is
 * verified once per request whichever runs first. Only HTTP requests are throttled; message
 * handlers and gateways are left alone.
 * @example providers: [{ provide: APP_GUARD, useClass: ConsumerThrottlerGuard }]
 */
@Injectable()
export class ConsumerThrottlerGuard extends ThrottlerGuard implements OnApplicationBootstrap {
  private readonly consumers: ConsumerTracker;

  /** @internal */
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    @Inject(AUTH_OPTIONS) private readonly authOptions: ResolvedAuthOptions,
    verifier: TokenVerifier,
    @Optional() @Inject(RevocationStore) revocations: RevocationStore | null,
    private readonly application: ApplicationConfig,
  ) {
    super(options, storage, reflector);
    this.consumers = new ConsumerTracker(
      verifier,
      revocations ?? undefined,
      authOptions.tokenSources,
    );
  }

  /** Warns when the global guards' order puts it after the bearer guard (`runsAfterGlobalBearerGuard`). */
  onApplicationBootstrap(): void {
    if (runsAfterGlobalBearerGuard(this.application.getGlobalGuards(), this)) {
      warnThrottledAfterAuthentication(this.application);
    }
  }

  /** Leaves anything but HTTP requests alone (this tracker reads HTTP tokens only). */
  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    return context.getType() === 'http' ? super.shouldSkip(context) : Promise.resolve(true);
  }

  /** The verified consumer's key, else `ip:` and the client address, read as throttler reads it. */
  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    // Authenticated already: this runs after the guard that refuses bad tokens, which it then
    // never counts.
    if (principalOf(request) !== undefined) warnThrottledAfterAuthentication(this.application);
    const consumer = await this.consumers.consumerOf(request as unknown as CredentialCarrier);
    return consumer ?? `ip:${await super.getTracker(request)}`;
  }

  /**
   * Refuses with a `ThrottledRequestError`, recorded for the access log and reported, and with
   * `Retry-After`: throttler's `setHeaders: false` drops its X-RateLimit-* headers, but a 429 still
   * says when to come back (RFC 6585 §4).
   */
  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const tracker = detail.tracker.startsWith('ip:') ? 'ip' : 'principal';
    const message = await this.getErrorMessage(context, detail);
    const error = new ThrottledRequestError(message, detail.timeToBlockExpire, tracker);
    const { req, res } = this.getRequestResponse(context);
    this.setResponseHeader(res, 'Retry-After', error.retryAfterSeconds);
    setRejection(req, error);
    this.authOptions.events.requestThrottled?.({ tracker });
    throw error;
  }
}
