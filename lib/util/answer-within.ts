/** A call that gave no answer in the time it was allowed. */
export class NoAnswerError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'NoAnswerError';
  }
}

/**
 * `promise`, or a `NoAnswerError` once `ms` have passed without its answer. The call itself goes
 * on (nothing here can cancel it); its late outcome is dropped, a late rejection included.
 */
export function answerWithin<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NoAnswerError(ms)), ms);
    timer.unref?.();
  });
  promise.catch(() => undefined); // a late rejection is not an unhandled one
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
