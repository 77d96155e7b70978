import type { KeyRing } from './key-ring.js';
import { readKeyFile, writeKeyFile } from './key-file.js';
import { pruneKeySet, rotateKeySet, rotationDue, type RotationPolicy } from './key-rotation.js';

/** What the rotator did on a tick. */
export interface KeyRotationEvent {
  readonly action: 'rotated' | 'pruned' | 'reloaded' | 'failed';
  readonly activeKid?: string;
  readonly error?: Error;
}

export interface KeyRotatorOptions {
  readonly keyRing: KeyRing;
  /** The key file the ring was read from. */
  readonly path: string;
  /** Rotation policy; without `rotateEverySeconds` the rotator only reloads (other instances). */
  readonly policy?: RotationPolicy;
  /** @default 60_000 */
  readonly intervalMs?: number;
  readonly onEvent?: (event: KeyRotationEvent) => void;
  /** Epoch seconds. @default () => Date.now() / 1000 */
  readonly now?: () => number;
}

/**
 * Keeps an issuer's keys moving without a restart: on each tick (a timer, or `tick()` from a
 * SIGHUP handler) the one instance configured to rotate adds the next key ahead of use and drops
 * keys past retention, in the key file; every instance reloads the file.
 */
export class KeyRotator {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: KeyRotatorOptions) {}

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.options.intervalMs ?? 60_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One rotation step and a reload; never rejects (a failure is reported and the ring kept). */
  tick(): Promise<void> {
    this.running ??= this.step().finally(() => (this.running = undefined));
    return this.running;
  }

  private async step(): Promise<void> {
    const { keyRing, path, policy, onEvent } = this.options;
    const now = (this.options.now ?? (() => Date.now() / 1000))();
    try {
      let action: KeyRotationEvent['action'] = 'reloaded';
      if (policy?.rotateEverySeconds !== undefined) {
        const jwks = await readKeyFile(path);
        // A pinned ring signs with its pinned key whatever the schedule says: no new keys while
        // the pin holds, and the pinned key is never pruned.
        const pinned = keyRing.pinnedKid;
        if (pinned === undefined && rotationDue(jwks, policy, now)) {
          await writeKeyFile(path, rotateKeySet(jwks, policy, now));
          action = 'rotated';
        } else {
          const pruned = pruneKeySet(jwks, policy.retainSeconds, now, pinned);
          if (pruned.keys.length < jwks.keys.length) {
            await writeKeyFile(path, pruned);
            action = 'pruned';
          }
        }
      }
      await keyRing.reload();
      onEvent?.({ action, activeKid: keyRing.active.kid });
    } catch (error) {
      onEvent?.({ action: 'failed', error: error as Error });
    }
  }
}
