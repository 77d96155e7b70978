import { afterAll, describe, expect, it } from '@jest/globals';
import { deleteKeys, sharedRedisUrl, uniquePrefix } from '../../test/support/redis-server.js';
import {
  MemoryAttemptCounter,
  RedisAttemptCounter,
  type AttemptCounter,
} from './attempt-counter.js';
import { LoginLimiter, TooManyAttemptsError, type AttemptAccount } from './login-limiter.js';

// The guessing limits' counting, on both counters: places taken before the secret is checked, a
// failure keeping its place, a success giving it back, however the checks interleave.

const WINDOW = { failures: 3, perIp: 0, windowSeconds: 60 };
const alice: AttemptAccount = { username: 'alice', ip: '10.0.0.1' };

/** A check of a secret that takes a while, so that many are under way at once. */
async function attempt(limiter: LoginLimiter, account: AttemptAccount, right: boolean) {
  const place = await limiter.admitAccount(account);
  await new Promise((resolve) => setTimeout(resolve, 10));
  await limiter.settle(place, !right);
  return right ? 'in' : 'refused';
}

const outcome = (settled: PromiseSettledResult<string>) =>
  settled.status === 'fulfilled'
    ? settled.value
    : settled.reason instanceof TooManyAttemptsError
      ? 429
      : 'error';

const redisPrefix = uniquePrefix('login-limiter');
let redisCount = 0;
const counters: AttemptCounter[] = [];
afterAll(async () => {
  await Promise.all(counters.map((counter) => counter.close()));
  await deleteKeys(redisPrefix);
});

const KINDS = [
  { kind: 'memory', make: (now?: () => number) => new MemoryAttemptCounter(now) },
  {
    kind: 'Redis',
    make: () => new RedisAttemptCounter(sharedRedisUrl(), `${redisPrefix}${redisCount++}:`),
  },
];

describe.each(KINDS)('LoginLimiter on the $kind counter', ({ make }) => {
  const limiter = (limits = WINDOW) => {
    const counter = make();
    counters.push(counter);
    return new LoginLimiter(counter, limits, 'https://issuer.test');
  };

  it('lets at most LOGIN_LIMIT of many concurrent wrong guesses be checked, then refuses the right one', async () => {
    const subject = limiter();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => attempt(subject, alice, false)),
    );
    const outcomes = results.map(outcome);
    expect(outcomes.filter((o) => o === 'refused')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 429)).toHaveLength(17);
    await expect(attempt(subject, alice, true)).rejects.toBeInstanceOf(TooManyAttemptsError);
    // Another IP for the same user, and another user from the same IP, are not slowed.
    await expect(attempt(subject, { ...alice, ip: '10.0.0.2' }, true)).resolves.toBe('in');
    await expect(attempt(subject, { ...alice, username: 'bob' }, true)).resolves.toBe('in');
  });

  it('never refuses right secrets asked at once, more of them than LOGIN_LIMIT', async () => {
    const subject = limiter();
    const client = { clientId: 'reports-job' };
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () => attempt(subject, client, true)),
    );
    expect(results.map(outcome)).toEqual(Array(12).fill('in'));
    // Nor do they count as failures: LOGIN_LIMIT wrong ones are still checked.
    for (let i = 0; i < 3; i++)
      await expect(attempt(subject, client, false)).resolves.toBe('refused');
    await expect(attempt(subject, client, true)).rejects.toBeInstanceOf(TooManyAttemptsError);
  });

  it('refuses a guess that waits on checks under way once they have failed', async () => {
    const subject = limiter({ failures: 1, perIp: 0, windowSeconds: 60 });
    const [first, second] = await Promise.allSettled([
      attempt(subject, alice, false),
      attempt(subject, alice, true),
    ]);
    expect([outcome(first), outcome(second)]).toEqual(['refused', 429]);
  });

  it('limits attempts of any kind per IP (LOGIN_IP_LIMIT)', async () => {
    const subject = limiter({ failures: 0, perIp: 2, windowSeconds: 60 });
    await subject.admitIp('10.0.0.9');
    await subject.admitIp('10.0.0.9');
    await expect(subject.admitIp('10.0.0.9')).rejects.toMatchObject({ limit: 'ip' });
    await expect(subject.admitIp('10.0.0.10')).resolves.toBeUndefined();
  });
});

describe('LoginLimiter windows (memory counter, a clock of the test)', () => {
  let clock = 1_700_000_000_000;
  const counter = new MemoryAttemptCounter(() => clock);
  const limiter = new LoginLimiter(counter, { failures: 2, perIp: 0, windowSeconds: 60 }, 'iss');

  it('refuses the pair until its window ends, whatever the password, and lets it in after', async () => {
    for (let i = 0; i < 2; i++) await limiter.settle(await limiter.admitAccount(alice), true);
    clock += 59_000;
    await expect(limiter.admitAccount(alice)).rejects.toMatchObject({ retryAfterSeconds: 1 });
    clock += 1_000;
    const place = await limiter.admitAccount(alice);
    await limiter.settle(place, false);
  });

  it('keeps a lock that checks in the same millisecond asked about', async () => {
    const bob = { username: 'bob', ip: '10.0.0.1' };
    const first = await limiter.admitAccount(bob);
    const second = await limiter.admitAccount(bob); // the same millisecond
    await limiter.settle(first, true);
    await limiter.settle(second, true);
    clock += 2;
    await expect(limiter.admitAccount(bob)).rejects.toBeInstanceOf(TooManyAttemptsError);
  });

  it('lets a place given back after its window ended free nothing in the next one', async () => {
    const carol = { username: 'carol', ip: '10.0.0.1' };
    const old = await limiter.admitAccount(carol);
    clock += 60_000;
    for (let i = 0; i < 2; i++) await limiter.settle(await limiter.admitAccount(carol), true);
    await limiter.settle(old, false);
    await expect(limiter.admitAccount(carol)).rejects.toBeInstanceOf(TooManyAttemptsError);
  });
});

describe('RedisAttemptCounter windows', () => {
  it('ends a window LOGIN_WINDOW after its first attempt, and the pair gets in again', async () => {
    const counter = new RedisAttemptCounter(sharedRedisUrl(), `${redisPrefix}w:`);
    counters.push(counter);
    const limiter = new LoginLimiter(counter, { failures: 1, perIp: 0, windowSeconds: 1 }, 'iss');
    await limiter.settle(await limiter.admitAccount(alice), true);
    await expect(limiter.admitAccount(alice)).rejects.toBeInstanceOf(TooManyAttemptsError);
    // Redis keeps its own time: wait for the one-second window to end.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await expect(limiter.admitAccount(alice)).resolves.toBeDefined();
  });
});
