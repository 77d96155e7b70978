import { windowRecord, type ThrottleStorage, type WindowRecord } from './throttle-storage.js';

interface Window {
  hits: number;
  endsAt: number;
}

/** Fixed-window counters in memory, for one instance: a map entry per key, O(1) per request. */
export class MemoryThrottleStorage implements ThrottleStorage {
  private readonly windows = new Map<string, Window>();
  private lastSweep = 0;

  constructor(private readonly nowMs: () => number = Date.now) {}

  async increment(key: string, windowMs: number): Promise<WindowRecord> {
    const now = this.nowMs();
    this.sweep(now, windowMs);
    let window = this.windows.get(key);
    if (window === undefined || window.endsAt <= now) {
      window = { hits: 0, endsAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.hits++;
    return windowRecord(window.hits, window.endsAt - now);
  }

  /** Drops ended windows at most once per window length, so memory follows active consumers. */
  private sweep(now: number, windowMs: number): void {
    if (now - this.lastSweep < windowMs) return;
    this.lastSweep = now;
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
  }
}
