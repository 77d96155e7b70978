import { setImmediate } from 'node:timers';

let pending: Promise<void> | undefined;

/**
 * A promise that resolves once the event loop's current turn has read its I/O (at its check
 * phase), shared by everything that asks during the same turn. Work chained on it runs back to
 * back, after the requests of the turn have been read and before any of them is answered.
 *
 * Imported from `node:timers` rather than read from the global, so that a test's fake timers,
 * which replace the global, do not hold requests back.
 */
export function endOfTurn(): Promise<void> {
  pending ??= new Promise((resolve) =>
    setImmediate(() => {
      pending = undefined;
      resolve();
    }),
  );
  return pending;
}
