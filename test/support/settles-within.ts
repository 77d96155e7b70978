/**
 * `promise`, or a failure once `ms` have passed: a guard against hanging for the length of an
 * outage (a minute and more), far above what answering at once takes; not a measure of speed.
 */
export async function settlesWithin<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, hang]);
  } finally {
    clearTimeout(timer);
  }
}
