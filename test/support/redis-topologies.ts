import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { RedisConnection } from 'nest-tessera/redis';
import { freePort, hasRedisServerBinary, killRedisProcess, redisAnswers } from './redis-process.js';

// A Redis Cluster (3 masters, 3 replicas) and a Sentinel group (a master, a replica, 3 sentinels)
// of the machine's redis-server, on free loopback ports, keeping nothing but their own state files
// in a temporary directory that `stop()` removes with every process.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Nothing on disk; replicas sync without a file and at once. */
const EPHEMERAL = [
  ...['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  ...['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0'],
];

/** Why topology specs are skipped here, or undefined when they can run. */
export const topologiesUnavailable = hasRedisServerBinary()
  ? undefined
  : 'skipped: no redis-server on this machine to start a Redis Cluster and a Sentinel group';

/** A `host:port` of loopback. */
export interface NodeAddress {
  readonly host: string;
  readonly port: number;
}

/** Processes of one topology and their directory. */
abstract class Topology {
  protected readonly processes = new Map<number, ChildProcess>();
  /** Each server's arguments, to start it again. */
  private readonly argsOf = new Map<number, readonly string[]>();
  protected readonly dir = mkdtempSync(join(tmpdir(), 'tessera-redis-'));
  /** Should the test process end without `stop()` (a crash), its servers end with it. */
  private readonly killAll = () => {
    for (const child of this.processes.values()) child.kill('SIGKILL');
  };

  constructor() {
    process.once('exit', this.killAll);
  }

  /** The connection option a user gives for it. */
  abstract readonly connection: RedisConnection;
  /** The port of the master that holds `key` now. */
  abstract master(key: string): Promise<number>;
  /** The port of a replica of that master. */
  abstract replicaOf(master: number): Promise<number>;
  /** Resolves once a replica has taken over `key` from the master on `from`. */
  async failedOver(key: string, from: number, timeoutMs = 20_000): Promise<void> {
    await until(`failover of ${key} from ${from}`, timeoutMs, async () => {
      const master = await this.master(key);
      return master !== from && this.alive(master);
    });
  }

  /** Freezes a server (SIGSTOP) until `resume()`. */
  pause(port: number): void {
    this.processes.get(port)?.kill('SIGSTOP');
  }

  resume(port: number): void {
    this.processes.get(port)?.kill('SIGCONT');
  }

  /**
   * Starts a killed server again, empty, on its own port and configuration: it comes back as a
   * replica (a Cluster node keeps its identity in its state file; sentinels reconfigure an old
   * master). Resolves once every master has a replica in sync again.
   */
  async restart(port: number): Promise<void> {
    const args = this.argsOf.get(port);
    if (args === undefined) throw new Error(`no server was started on ${port}`);
    await this.spawnServer(port, args);
    await this.settled();
  }

  /** Resolves once the topology serves every key with a replica in sync. */
  abstract settled(timeoutMs?: number): Promise<void>;

  protected async spawnServer(port: number, args: readonly string[]): Promise<void> {
    this.argsOf.set(port, args);
    const child = spawn('redis-server', [...args], { cwd: this.dir, stdio: 'ignore' });
    this.processes.set(port, child);
    await until(`redis-server on ${port}`, 5000, async () => {
      if (!this.alive(port)) throw new Error(`redis-server on ${port} exited`);
      return redisAnswers(port);
    });
  }

  /** Whether the process on `port` runs. */
  protected alive(port: number): boolean {
    const child = this.processes.get(port);
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Kills the process on `port` as a crash would. */
  async kill(port: number): Promise<void> {
    await killRedisProcess(this.processes.get(port));
  }

  /** Kills every process and removes the directory. */
  async stop(): Promise<void> {
    process.off('exit', this.killAll);
    for (const child of this.processes.values()) child.kill('SIGCONT');
    await Promise.all([...this.processes.values()].map((child) => killRedisProcess(child)));
    this.processes.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A 6-node Redis Cluster: 3 masters, each with a replica. */
export class RedisCluster extends Topology {
  private constructor(readonly ports: readonly number[]) {
    super();
  }

  static async start(): Promise<RedisCluster> {
    const ports = await freePorts(6);
    const cluster = new RedisCluster(ports);
    try {
      await Promise.all(
        ports.map((port) =>
          cluster.spawnServer(port, [
            ...['--port', String(port), ...EPHEMERAL],
            ...['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`],
            // A master is failed over about 2 s after it dies.
            ...['--cluster-node-timeout', '1000'],
          ]),
        ),
      );
      const created = spawnSync(
        'redis-cli',
        [
          ...['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`)],
          ...['--cluster-replicas', '1', '--cluster-yes'],
        ],
        { encoding: 'utf8', timeout: 20_000 },
      );
      if (created.status !== 0) throw new Error(`cluster create failed: ${created.stdout}`);
      await cluster.settled();
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** Seed nodes, as `REDIS_CLUSTER_NODES` lists them. */
  get nodes(): NodeAddress[] {
    return this.ports.map((port) => ({ host: '127.0.0.1', port }));
  }

  get connection(): RedisConnection {
    return { cluster: { nodes: this.nodes } };
  }

  async master(key: string): Promise<number> {
    return (await this.shardOf(key))[0]!;
  }

  async replicaOf(master: number): Promise<number> {
    return this.withAny(async (admin) => {
      const ranges = (await admin.cluster('SLOTS')) as unknown as SlotRange[];
      const range = ranges.find((r) => r[2][1] === master && r.length > 3);
      if (range === undefined) throw new Error(`no replica of ${master}`);
      return range[3]![1];
    });
  }

  /** The ports of the master, then the replicas, that serve `key`'s slot now. */
  private async shardOf(key: string): Promise<number[]> {
    return this.withAny(async (admin) => {
      const slot = await admin.cluster('KEYSLOT', key);
      const ranges = (await admin.cluster('SLOTS')) as unknown as SlotRange[];
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      if (range === undefined) throw new Error(`no node serves slot ${slot}`);
      return range.slice(2).map((node) => (node as [string, number])[1]);
    });
  }

  /**
   * Resolves once every live node sees the cluster `ok`, every slot has a master that answers,
   * and each master has a replica in sync: writes are replicated and a failover can happen.
   */
  async settled(timeoutMs = 20_000): Promise<void> {
    await until('cluster state ok with a replica per master', timeoutMs, async () => {
      for (const port of this.livePorts()) {
        const ok = await withAdmin(port, async (admin) => {
          if (!(await admin.cluster('INFO')).includes('cluster_state:ok')) return false;
          const role = await admin.info('replication');
          if (role.includes('role:slave')) return role.includes('master_link_status:up');
          return /connected_slaves:[1-9]/.test(role);
        });
        if (!ok) return false;
      }
      return true;
    });
  }

  private livePorts(): number[] {
    return this.ports.filter((port) => this.alive(port));
  }

  private async withAny<T>(use: (admin: Redis) => Promise<T>): Promise<T> {
    const [port] = this.livePorts();
    if (port === undefined) throw new Error('no cluster node is running');
    return withAdmin(port, use);
  }
}

/** A Sentinel group: a master, its replica, and 3 sentinels with a quorum of 2. */
export class RedisSentinelGroup extends Topology {
  readonly name = 'mymaster';

  private constructor(
    readonly dataPorts: readonly number[],
    readonly sentinelPorts: readonly number[],
  ) {
    super();
  }

  static async start(): Promise<RedisSentinelGroup> {
    const [master, replica, ...sentinels] = await freePorts(5);
    const group = new RedisSentinelGroup([master!, replica!], sentinels);
    try {
      await group.spawnServer(master!, ['--port', String(master), ...EPHEMERAL]);
      await group.spawnServer(replica!, [
        ...['--port', String(replica), ...EPHEMERAL],
        ...['--replicaof', '127.0.0.1', String(master)],
      ]);
      await Promise.all(
        sentinels.map((port) => {
          const file = join(group.dir, `sentinel-${port}.conf`);
          writeFileSync(
            file,
            [
              `port ${port}`,
              'bind 127.0.0.1',
              `sentinel monitor ${group.name} 127.0.0.1 ${master} 2`,
              // A dead master is failed over within about 2 s.
              `sentinel down-after-milliseconds ${group.name} 1000`,
              `sentinel failover-timeout ${group.name} 5000`,
              '',
            ].join('\n'),
          );
          return group.spawnServer(port, [file, '--sentinel']);
        }),
      );
      await group.settled();
      return group;
    } catch (error) {
      await group.stop();
      throw error;
    }
  }

  /** The sentinels, as `REDIS_SENTINELS` lists them. */
  get sentinels(): NodeAddress[] {
    return this.sentinelPorts.map((port) => ({ host: '127.0.0.1', port }));
  }

  get connection(): RedisConnection {
    return { sentinels: this.sentinels, name: this.name };
  }

  async replicaOf(master: number): Promise<number> {
    const replica = this.dataPorts.find((port) => port !== master);
    if (replica === undefined) throw new Error(`no replica of ${master}`);
    return replica;
  }

  /** The port of the master the sentinels name now (every key is there). */
  async master(): Promise<number> {
    return withAdmin(this.sentinelPorts[0]!, async (sentinel) => {
      const [, port] = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name)) as [
        string,
        string,
      ];
      return Number(port);
    });
  }

  /**
   * Resolves once every sentinel names a live master with a replica in sync and knows the other
   * two sentinels (so that they can agree on a failover).
   */
  async settled(timeoutMs = 20_000): Promise<void> {
    await until('sentinels see the master, its replica and each other', timeoutMs, async () => {
      const master = await this.master();
      if (!this.alive(master)) return false;
      for (const port of this.sentinelPorts) {
        const ok = await withAdmin(port, async (sentinel) => {
          const fields = (await sentinel.call('SENTINEL', 'MASTER', this.name)) as string[];
          const info = Object.fromEntries(
            fields.flatMap((value, i) => (i % 2 === 0 ? [[value, fields[i + 1]]] : [])),
          );
          return (
            info.port === String(master) &&
            info.flags === 'master' &&
            Number(info['num-slaves']) >= 1 &&
            Number(info['num-other-sentinels']) === 2
          );
        });
        if (!ok) return false;
      }
      return withAdmin(master, async (admin) =>
        /slave0:.*state=online/.test(await admin.info('replication')),
      );
    });
  }
}

type SlotRange = [number, number, ...[string, number, ...unknown[]][]];

async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

async function withAdmin<T>(port: number, use: (admin: Redis) => Promise<T>): Promise<T> {
  const admin = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 500,
    commandTimeout: 1000,
  });
  admin.on('error', () => undefined);
  try {
    await admin.connect();
    return await use(admin);
  } finally {
    admin.disconnect();
  }
}

/** Polls `check` (a failure counts as not yet) until it holds, or fails after `timeoutMs`. */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${String(last)})` : ''}`);
    }
    await sleep(100);
  }
}
