import { Cluster, Redis } from 'ioredis';
import { connectOnce, duplicateForSubscriber, OWN_CONNECTION } from './redis-connection.js';

/** What a channel tells its store. */
export interface ChannelListener {
  /** A message published on the channel. */
  message(message: string): void;
  /** Subscribed (again): messages from now on arrive; what came before must be read from Redis. */
  subscribed(): void;
  /** The subscription is lost: messages may be missed until `subscribed` again. */
  lost(): void;
}

/**
 * The pub/sub channel that tells every instance of a revocation, on a connection of its own.
 * Nothing connects before `start()`; from then on a lost subscription is made again on its own.
 */
export interface RevocationChannel {
  /** Whether it is subscribed now. */
  readonly subscribed: boolean;
  readonly started: boolean;
  start(): void;
  close(): void;
  /** The command that publishes on it, from a script: `PUBLISH` or `SPUBLISH`. */
  readonly publishCommand: 'PUBLISH' | 'SPUBLISH';
}

/**
 * The channel for `client`: classic pub/sub on a standalone or Sentinel-managed Redis (a duplicate
 * connection, which follows the master through a failover), sharded pub/sub on a Cluster.
 */
export function revocationChannel(
  client: Redis | Cluster,
  name: string,
  listener: ChannelListener,
): RevocationChannel {
  return client instanceof Cluster
    ? new ShardChannel(client, name, listener)
    : new PlainChannel(client, name, listener);
}

/** SUBSCRIBE on a second connection to the same Redis. */
class PlainChannel implements RevocationChannel {
  readonly publishCommand = 'PUBLISH';
  private readonly connection: Redis;
  private isSubscribed = false;
  private closed = false;

  constructor(
    client: Redis,
    private readonly name: string,
    private readonly listener: ChannelListener,
  ) {
    this.connection = duplicateForSubscriber(client) as Redis;
    this.connection.on('error', () => undefined);
    this.connection.on('message', (channel: string, message: string) => {
      if (channel === this.name) listener.message(message);
    });
    this.connection.on('close', () => this.setLost());
    this.connection.on('ready', () => void this.subscribe());
  }

  get subscribed(): boolean {
    return this.isSubscribed && this.connection.status === 'ready';
  }

  get started(): boolean {
    return this.connection.status !== 'wait';
  }

  start(): void {
    if (!this.closed) connectOnce(this.connection);
  }

  close(): void {
    this.closed = true;
    this.connection.disconnect();
  }

  private async subscribe(): Promise<void> {
    try {
      await this.connection.subscribe(this.name);
    } catch {
      return; // the connection dropped again: its next 'ready' subscribes
    }
    if (this.closed || this.connection.status !== 'ready') return;
    this.isSubscribed = true;
    this.listener.subscribed();
  }

  private setLost(): void {
    if (!this.isSubscribed) return;
    this.isSubscribed = false;
    this.listener.lost();
  }
}

/** Delay before looking for the channel's shard again, after a lost or failed subscription. */
const RESUBSCRIBE_MS = { first: 100, max: 2000 } as const;

/**
 * SSUBSCRIBE on a connection of its own to the master that serves the channel's slot. A PUBLISH on
 * a Cluster is sent to every node over the cluster bus; a shard channel's messages stay in the
 * shard that holds its slot (the revocation keys' own, by their hash tag). When that connection
 * drops (the master died) or Redis moves the slot (it unsubscribes us), the channel's master is
 * looked up again, after the Cluster has failed over.
 */
class ShardChannel implements RevocationChannel {
  readonly publishCommand = 'SPUBLISH';
  private connection: Redis | undefined;
  private isSubscribed = false;
  private isStarted = false;
  private closed = false;
  private attempts = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly name: string,
    private readonly listener: ChannelListener,
  ) {}

  get subscribed(): boolean {
    return this.isSubscribed;
  }

  get started(): boolean {
    return this.isStarted;
  }

  start(): void {
    if (this.isStarted || this.closed) return;
    this.isStarted = true;
    void this.connect();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.connection?.disconnect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    try {
      const { host, port } = await this.shardMaster();
      const connection = new Redis({
        ...this.cluster.options.redisOptions,
        ...OWN_CONNECTION,
        host,
        port,
        lazyConnect: true,
        retryStrategy: () => null, // a new one is made, for the shard's master then
      });
      this.connection = connection;
      connection.on('error', () => undefined);
      connection.on('smessage', (channel: string, message: string) => {
        if (channel === this.name) this.listener.message(message);
      });
      connection.on('close', () => this.drop(connection));
      connection.on('moved', () => this.drop(connection)); // the slot went to another shard
      await connection.connect();
      await connection.ssubscribe(this.name);
      if (this.closed || this.connection !== connection) return;
      this.attempts = 0;
      this.isSubscribed = true;
      this.listener.subscribed();
    } catch {
      if (this.connection !== undefined) this.drop(this.connection);
      else this.later();
    }
  }

  /** Where the channel's slot is served now, as the Cluster says. */
  private async shardMaster(): Promise<{ host: string; port: number }> {
    const slot = (await this.cluster.cluster('KEYSLOT', this.name)) as number;
    const ranges = (await this.cluster.cluster('SLOTS')) as unknown as [
      number,
      number,
      [string, number],
    ][];
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    if (range === undefined) throw new Error(`no node serves slot ${slot}`);
    const [host, port] = range[2];
    return { host, port };
  }

  private drop(connection: Redis): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    connection.removeAllListeners('close');
    connection.disconnect();
    if (this.isSubscribed) {
      this.isSubscribed = false;
      this.listener.lost();
    }
    this.later();
  }

  private later(): void {
    if (this.closed || this.timer !== undefined) return;
    const delay = Math.min(RESUBSCRIBE_MS.max, RESUBSCRIBE_MS.first * 2 ** this.attempts++);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, delay);
    this.timer.unref();
  }
}
