import { ThrottlerException } from '@nestjs/throttler';

/**
 * A request over its limit, as `ConsumerThrottlerGuard` refuses it: a `ThrottlerException` (so
 * 429 with the message of the `errorMessage` option, and filters catching that still apply) that
 * says whom it counted against.
 */
export class ThrottledRequestError extends ThrottlerException {
  /** The reason the access log and `rejectionOf()` give. */
  readonly reason = 'throttled';

  constructor(
    message: string,
    /** Whole seconds until the consumer may call again (the `Retry-After` header). */
    readonly retryAfterSeconds: number,
    /** Whether it counted against a verified consumer or against the client IP. */
    readonly tracker: 'principal' | 'ip',
  ) {
    super(message);
    this.name = 'ThrottledRequestError';
  }
}
