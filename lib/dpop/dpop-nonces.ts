import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Options of `DpopNonces`. */
export interface DpopNonceOptions {
  /**
   * The secret nonces are made with (at least 32 bytes): every instance behind one address
   * needs the same one. Unset: a random one per process (one instance only).
   */
  readonly secret?: string | Buffer;
  /**
   * How long a nonce is accepted, in seconds: a nonce is current for this long and accepted for
   * as long again after the next one.
   * @default 300
   */
  readonly lifetimeSeconds?: number;
  /** Epoch seconds. @default () => Date.now() / 1000 */
  readonly now?: () => number;
}

/**
 * Server-provided nonces (RFC 9449 §9) without shared state: a nonce is its time window and an
 * HMAC of it, so any instance with the secret can check one, and a proof made before the window
 * it names cannot be pre-computed for later.
 */
export class DpopNonces {
  private readonly secret: Buffer;
  private readonly lifetimeSeconds: number;
  private readonly now: () => number;

  constructor(options: DpopNonceOptions = {}) {
    this.secret =
      options.secret === undefined ? randomBytes(32) : Buffer.from(options.secret as string);
    if (this.secret.length < 32) throw new RangeError('the DPoP nonce secret needs 32 bytes');
    this.lifetimeSeconds = options.lifetimeSeconds ?? 300;
    this.now = options.now ?? (() => Date.now() / 1000);
  }

  /** The nonce a client should use now. */
  current(): string {
    return this.nonceFor(this.window());
  }

  /** Whether `nonce` is the current one or the one before it. */
  accepts(nonce: unknown): boolean {
    if (typeof nonce !== 'string' || nonce.length > 64) return false;
    const window = this.window();
    return same(nonce, this.nonceFor(window)) || same(nonce, this.nonceFor(window - 1));
  }

  private window(): number {
    return Math.floor(this.now() / this.lifetimeSeconds);
  }

  private nonceFor(window: number): string {
    const label = window.toString(36);
    const mac = createHmac('sha256', this.secret).update(label).digest('base64url').slice(0, 32);
    return `${label}.${mac}`;
  }
}

function same(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
