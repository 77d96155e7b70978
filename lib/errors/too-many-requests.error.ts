/** A consumer went over its limit: 429 with `Retry-After` in whole seconds. */
export class TooManyRequestsError extends Error {
  readonly status = 429;
  readonly reason = 'throttled';

  constructor(readonly retryAfterSeconds: number) {
    super(`too many requests: retry after ${retryAfterSeconds} s`);
    this.name = 'TooManyRequestsError';
  }
}
