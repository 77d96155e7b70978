import { setImmediate } from 'node:timers';

/**
 * The end of the event loop's current turn, once its I/O has been read (its check phase): one
 * promise shared by everything that asks this instance during the same turn, so that work chained
 * on it runs back to back, after the requests of the turn have been read and before any of them
 * is answered. One per owner: nothing is shared between module instances.
 *
 * `setImmediate` comes from `node:timers` rather than the global, so that a test's fake timers,
 * which replace the global, do not hold requests back.
 */
export class EndOfTurn {
  private pending: Promise<void> | undefined;

  /** Resolves at the end of the current turn. */
  next(): Promise<void> {
    this.pending ??= new Promise((resolve) =>
      setImmediate(() => {
        this.pending = undefined;
        resolve();
      }),
    );
    return this.pending;
  }
}
