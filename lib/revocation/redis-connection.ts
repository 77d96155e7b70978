import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import { AuthConfigError } from '../errors/auth-errors.js';

/** How to reach Redis: a URL, connection options (standalone or Sentinel), a Cluster, or a client. */
export type RedisConnection =
  | string
  | RedisOptions
  | {
      readonly cluster: {
        readonly nodes: readonly ClusterNode[];
        readonly options?: ClusterOptions;
      };
    }
  | Redis
  | Cluster;

/** Settings for connections this library opens: fail fast, reconnect with capped backoff + jitter. */
export const OWN_CONNECTION: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 1000,
  connectTimeout: 2000,
  autoResubscribe: false,
  retryStrategy: (attempt: number) => Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random() / 2),
};

/** The connections a Redis-backed store uses, and whether it must close the main one. */
export interface OpenedConnection {
  readonly client: Redis | Cluster;
  readonly owned: boolean;
}

/**
 * Opens (or adopts) the main client; a client passed in stays the caller's to close. With `lazy`,
 * a client opened here connects only on `connectOnce()` or its first command.
 */
export function openRedis(
  connection: RedisConnection,
  { lazy = false }: { readonly lazy?: boolean } = {},
): OpenedConnection {
  if (connection instanceof Redis || connection instanceof Cluster) {
    return { client: connection, owned: false };
  }
  const waiting = lazy ? { lazyConnect: true } : {};
  if (typeof connection === 'string') {
    return { client: new Redis(connection, { ...OWN_CONNECTION, ...waiting }), owned: true };
  }
  if ('cluster' in connection) {
    const { nodes, options } = connection.cluster;
    return {
      client: new Cluster([...nodes], {
        ...options,
        ...waiting,
        enableOfflineQueue: false,
        redisOptions: { ...OWN_CONNECTION, ...options?.redisOptions },
      }),
      owned: true,
    };
  }
  // Sentinel-managed: on a sentinel's +switch-master the connection is dropped and made again
  // to the new master, a frozen or partitioned old one included, whose socket never closes.
  const follow = connection.sentinels?.length ? { failoverDetector: true } : {};
  return {
    client: new Redis({ ...OWN_CONNECTION, ...follow, ...connection, ...waiting }),
    owned: true,
  };
}

/**
 * A second connection for pub/sub, with the same settings (a Sentinel-managed one follows the
 * master as the first does) and no automatic resubscribe. It connects on `connectOnce()`: its
 * owner decides when.
 */
export function duplicateForSubscriber(client: Redis): Redis {
  return client.duplicate({ ...OWN_CONNECTION, lazyConnect: true });
}

/**
 * Starts connecting a client that was made with `lazyConnect` and has not connected yet; from
 * then on it reconnects on its own. A failure is reported through its `error` event.
 */
export function connectOnce(client: Redis | Cluster): void {
  if (client.status === 'wait') client.connect().catch(() => undefined);
}

/**
 * Waits for the first connection of a client that is still making it (commands fail fast
 * otherwise), starting it if it waits for a first command; a client that was connected before
 * and is now down is not waited for.
 */
export function firstConnection(client: Redis | Cluster, timeoutMs = 2000): Promise<void> {
  if (client.status !== 'connecting' && client.status !== 'wait' && client.status !== 'connect') {
    return Promise.resolve();
  }
  connectOnce(client);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    client.once('ready', done);
  });
}

/**
 * On a Cluster, keys a script writes together must share a slot: `prefix` must start its keys'
 * names with a hash tag, a `{…}` with something inside (Redis reads the first one only).
 */
export function requireHashTag(connection: RedisConnection, prefix: string, what: string): void {
  const cluster =
    connection instanceof Cluster || (isObject(connection) && 'cluster' in connection);
  if (cluster && !/^[^{]*\{[^}]+\}/.test(prefix)) {
    throw new AuthConfigError(
      `${what} keyPrefix "${prefix}" needs a hash tag such as "{tessera}" on a Redis Cluster`,
    );
  }
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
