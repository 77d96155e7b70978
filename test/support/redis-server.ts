import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { freePort, killRedisProcess, startRedisProcess } from './redis-process.js';

/** A redis-server of the test's own, on a free loopback port, that the test stops and starts. */
export class RedisServer {
  private process: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(port?: number): Promise<RedisServer> {
    const server = new RedisServer(port ?? (await freePort()));
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.process = await startRedisProcess(this.port);
  }

  /**
   * Freezes the server (SIGSTOP): its connections stay open and take commands, which get no
   * answer until `resume()`, as through a network partition that drops packets silently.
   */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  /** Lets a paused server go on: it answers what it was sent meanwhile. */
  resume(): void {
    this.process?.kill('SIGCONT');
  }

  /** Kills the server as a crash would (paused or not); with nothing on disk, its data is gone. */
  async stop(): Promise<void> {
    await killRedisProcess(this.process);
    this.process = undefined;
  }
}

/** The Redis the test run shares (see the global setup). */
export function sharedRedisUrl(): string {
  const url = process.env.TESSERA_TEST_REDIS_URL;
  if (!url) throw new Error('TESSERA_TEST_REDIS_URL is not set: run the tests through `npm test`');
  return url;
}

/** A key prefix no other suite uses, with a hash tag (one Cluster slot). */
export function uniquePrefix(suite: string): string {
  return `{tessera-test-${suite}-${randomBytes(4).toString('hex')}}:`;
}

/** Deletes every key under `prefix` on the shared Redis. */
export async function deleteKeys(prefix: string, url = sharedRedisUrl()): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(
        cursor,
        'MATCH',
        `${prefix.replace(/[[\]*?]/g, '\\$&')}*`,
        'COUNT',
        500,
      );
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
