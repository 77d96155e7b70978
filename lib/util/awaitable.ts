/**
 * A value at hand, or a promise of it. What the per-request path returns: it answers
 * synchronously whenever it can (a cached token, a local revocation check), so a request pays for
 * no promise it does not need. `await` it either way.
 */
export type Awaitable<T> = T | Promise<T>;

/** `next(value)`: at once when `value` is at hand, once it resolves when it is a promise. */
export function thenApply<T, U>(
  value: Awaitable<T>,
  next: (value: T) => Awaitable<U>,
): Awaitable<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}
