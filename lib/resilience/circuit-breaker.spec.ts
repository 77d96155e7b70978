import { describe, expect, it } from '@jest/globals';
import { BreakerOpenError, CircuitBreaker, type BreakerState } from './circuit-breaker.js';

const fail = () => Promise.reject(new Error('down'));
const succeed = () => Promise.resolve('up');

describe('CircuitBreaker', () => {
  function breaker(random = 0.5) {
    let clock = 0;
    const states: BreakerState[] = [];
    const b = new CircuitBreaker({
      failureThreshold: 3,
      baseDelayMs: 200,
      maxDelayMs: 1000,
      nowMs: () => clock,
      random: () => random,
      onStateChange: (s) => states.push(s),
    });
    return { b, states, advance: (ms: number) => (clock += ms) };
  }

  it('opens after consecutive failures, then fails fast without calling', async () => {
    const { b, states } = breaker();
    for (let i = 0; i < 3; i++) await expect(b.run(fail)).rejects.toThrow('down');
    expect(b.state).toBe('open');
    let called = false;
    await expect(b.run(async () => (called = true))).rejects.toBeInstanceOf(BreakerOpenError);
    expect(called).toBe(false);
    expect(states).toEqual(['open']);
  });

  it('lets one probe through after a jittered backoff, and closes when it succeeds', async () => {
    const { b, states, advance } = breaker(0.5);
    for (let i = 0; i < 3; i++) await b.run(fail).catch(() => undefined);
    advance(149); // the first wait is 100–200 ms; with this jitter 150
    await expect(b.run(succeed)).rejects.toBeInstanceOf(BreakerOpenError);
    advance(1);
    await expect(b.run(succeed)).resolves.toBe('up');
    expect(b.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('doubles the wait after each failed probe, up to the ceiling', async () => {
    const { b, advance } = breaker(0.999);
    for (let i = 0; i < 3; i++) await b.run(fail).catch(() => undefined);
    const waits: number[] = [];
    for (let probe = 0; probe < 5; probe++) {
      let waited = 0;
      while ((await b.run(fail).catch((e: Error) => e.name)) === 'BreakerOpenError') {
        advance(10);
        waited += 10;
      }
      waits.push(waited);
    }
    expect(waits).toEqual([200, 400, 800, 1000, 1000]);
  });

  it('is tripped and reset by connection events', async () => {
    const { b } = breaker();
    b.trip();
    await expect(b.run(succeed)).rejects.toBeInstanceOf(BreakerOpenError);
    b.reset();
    await expect(b.run(succeed)).resolves.toBe('up');
  });
});
