import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import type { RedisConnection } from 'nest-tessera/redis';
import { IssuersFileError, parseIssuersFile, type TrustedIssuer } from './orders/issuers-file.js';

/** Which Nest HTTP adapter serves the sample app. */
export type HttpAdapterName = 'express' | 'fastify';

export type { TrustedIssuer } from './orders/issuers-file.js';

/** What the auth service is configured with. */
export interface AuthServiceConfig {
  readonly port: number;
  readonly issuer: string;
  readonly audience: string;
  /** Path of a JWKS file of private JWKs; unset: an ephemeral key (refused in production). */
  readonly signingKeysPath: string | undefined;
  readonly activeKid: string | undefined;
  /** Seconds between two reads of the key file (0: only on SIGHUP). */
  readonly keysReloadSeconds: number;
  /** Age at which the service rotates its signing key itself; unset: rotation by the CLI only. */
  readonly keyRotationSeconds: number | undefined;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  readonly sessionMaxAgeSeconds: number;
  /** Path of a users JSON file; unset: the demo users. */
  readonly usersFile: string | undefined;
  /** Guessing limits of login, client credentials and refresh (`LoginLimiter`). */
  readonly login: LoginLimits;
}

/**
 * CONTRACT.md's `LOGIN_LIMIT`, `LOGIN_WINDOW` and `LOGIN_IP_LIMIT`: failed attempts per username
 * and client IP (and per `client_id`), and attempts of any kind per client IP, in one window.
 */
export interface LoginLimits {
  /** Failed attempts allowed per username and IP, and per `client_id`; 0: no such limit. */
  readonly failures: number;
  /** Attempts of any kind allowed per client IP; 0: no such limit. */
  readonly perIp: number;
  readonly windowSeconds: number;
}

/** What the orders service is configured with. */
export interface OrdersServiceConfig {
  readonly port: number;
  readonly audience: string;
  readonly trustedIssuers: readonly TrustedIssuer[];
  readonly renewUrl: string;
  readonly renewWindowSeconds: number;
  readonly jwksCooldownSeconds: number;
  readonly clockToleranceSeconds: number;
  readonly throttle: { readonly limit: number; readonly ttlSeconds: number };
  /**
   * `NODE_ENV=production`: JWKS, renewal and token endpoint URLs must be https, or http to a
   * loopback host (the library's `requireHttps`).
   */
  readonly requireHttps: boolean;
  /** `DPOP_REQUIRED=true`: only DPoP-bound tokens, each with its proof. */
  readonly dpopRequired: boolean;
  /** The scheduled report job: how often, and the client it runs as. */
  readonly reports: {
    readonly intervalSeconds: number;
    readonly tokenEndpoint: string;
    readonly clientId: string;
    /** Unset: the job runs as a locally declared principal with the client's scopes instead. */
    readonly clientSecret: string | undefined;
  };
}

/** The sample app's whole configuration, read once at start-up. */
export interface SampleConfig {
  /** The address both services listen on. */
  readonly host: string;
  readonly httpAdapter: HttpAdapterName;
  /** `NODE_ENV=production`: no ephemeral signing key. */
  readonly production: boolean;
  /**
   * The Redis every instance shares (`REDIS_URL`, `REDIS_CLUSTER_NODES`, or `REDIS_SENTINELS` with
   * `REDIS_SENTINEL_NAME`); unset: in-memory stores, one instance.
   */
  readonly redis: RedisConnection | undefined;
  /**
   * Prefix of every Redis key (`REDIS_KEY_PREFIX`); revocations live under `…revocation:`,
   * sessions under `…session:`, throttle counters under `…throttle:`, the counters of the guessing
   * limits under `…login:`. The default gives the
   * library's own key names.
   */
  readonly redisKeyPrefix: string;
  readonly auth: AuthServiceConfig;
  readonly orders: OrdersServiceConfig;
}

/** A configuration the sample app cannot start with; the message is one line for the operator. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Reads the configuration from the environment and from `.env` in `cwd` (when there is one);
 * a variable set in the environment wins over `.env`.
 */
export async function readConfig(
  env: Environment = process.env,
  cwd: string = process.cwd(),
): Promise<SampleConfig> {
  return loadConfig(env, await readDotenv(join(cwd, '.env')));
}

/** The text of a `.env` file, or `undefined` when there is none. */
export async function readDotenv(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Parses and validates the configuration; `dotenv` is the text of a `.env` file. */
export function loadConfig(env: Environment, dotenv?: string): SampleConfig {
  const vars = new Variables({ ...(dotenv === undefined ? {} : parseEnv(dotenv)), ...env });
  // `localhost` may resolve to ::1 before 127.0.0.1, where the services listen by default; Node's
  // fetch tries each address in turn (autoSelectFamily, on by default since Node 20), so the
  // JWKS URL derived from this default reaches the auth service either way.
  const issuer = vars.url('AUTH_ISSUER', 'http://localhost:3000');
  const audience = vars.string('AUTH_AUDIENCE', 'orders-api');
  const accessTokenTtlSeconds = vars.integer('ACCESS_TOKEN_TTL', 900, 1, 86_400);
  const production = vars.optional('NODE_ENV') === 'production';
  const redis = redisConnection(vars);
  // On a Cluster the revocation list's keys must share a slot: a hash tag first.
  const onCluster = typeof redis === 'object' && 'cluster' in redis;
  const redisKeyPrefix = onCluster
    ? vars.pattern(
        'REDIS_KEY_PREFIX',
        /^(?=\S{1,100}$)[^{]*\{[^}]+\}/,
        'up to 100 characters, no spaces, with a hash tag such as {tessera} on a Cluster',
        '{tessera}:',
      )
    : vars.pattern(
        'REDIS_KEY_PREFIX',
        /^\S{1,100}$/,
        'up to 100 characters, no spaces',
        '{tessera}:',
      );
  return Object.freeze({
    host: vars.string('HOST', '127.0.0.1'),
    httpAdapter: vars.oneOf('HTTP_ADAPTER', ['express', 'fastify'] as const, 'express'),
    production,
    redis,
    redisKeyPrefix,
    auth: Object.freeze({
      port: vars.integer('AUTH_PORT', 3000, 0, 65_535),
      issuer,
      audience,
      signingKeysPath: vars.optional('AUTH_SIGNING_KEYS'),
      activeKid: vars.optional('AUTH_ACTIVE_KID'),
      keysReloadSeconds: vars.integer('AUTH_KEYS_RELOAD', 60, 0, 86_400),
      keyRotationSeconds:
        vars.optional('AUTH_KEY_ROTATION') === undefined
          ? undefined
          : vars.integer('AUTH_KEY_ROTATION', 86_400, 900, 31_536_000),
      accessTokenTtlSeconds,
      refreshTokenTtlSeconds: vars.integer('REFRESH_TOKEN_TTL', 1_209_600, 1, 31_536_000),
      sessionMaxAgeSeconds: vars.integer('SESSION_MAX_AGE', 86_400, 1, 31_536_000),
      usersFile: vars.optional('USERS_FILE'),
      login: Object.freeze({
        failures: vars.integer('LOGIN_LIMIT', 5, 0, 1_000_000),
        perIp: vars.integer('LOGIN_IP_LIMIT', 50, 0, 1_000_000),
        windowSeconds: vars.integer('LOGIN_WINDOW', 60, 1, 86_400),
      }),
    }),
    orders: Object.freeze({
      port: vars.integer('ORDERS_PORT', 3001, 0, 65_535),
      audience,
      trustedIssuers: trustedIssuers(vars, issuer),
      renewUrl: vars.url('ORDERS_RENEW_URL', `${withoutTrailingSlash(issuer)}/auth/renew`),
      renewWindowSeconds: vars.integer(
        'RENEW_WINDOW',
        Math.floor(accessTokenTtlSeconds / 3),
        0,
        accessTokenTtlSeconds,
      ),
      jwksCooldownSeconds: vars.number('JWKS_COOLDOWN', 5, 0, 3_600),
      clockToleranceSeconds: vars.number('CLOCK_TOLERANCE', 5, 0, 300),
      throttle: Object.freeze({
        limit: vars.integer('THROTTLE_LIMIT', 100, 0, 1_000_000),
        ttlSeconds: vars.integer('THROTTLE_TTL', 1, 1, 86_400),
      }),
      requireHttps: production,
      dpopRequired: vars.oneOf('DPOP_REQUIRED', ['true', 'false'] as const, 'false') === 'true',
      reports: Object.freeze({
        intervalSeconds: vars.integer('REPORTS_INTERVAL', 60, 1, 86_400),
        tokenEndpoint: vars.url('REPORTS_TOKEN_URL', `${withoutTrailingSlash(issuer)}/auth/token`),
        clientId: vars.string('REPORTS_CLIENT_ID', 'reports-job'),
        clientSecret: vars.optional('REPORTS_CLIENT_SECRET'),
      }),
    }),
  });
}

/**
 * The Redis key prefixes of the revocation list, the sessions, the orders service's throttle
 * counters and the auth service's guessing limits. The counters' prefixes drop the hash tag's
 * braces: each counter's own tag then picks its Cluster slot, spreading them over the masters,
 * while the list's and the sessions' keys share theirs.
 */
export function redisKeyPrefixes(config: SampleConfig): {
  revocation: string;
  session: string;
  throttle: string;
  login: string;
  dpop: string;
} {
  const counters = config.redisKeyPrefix.replace(/[{}]/g, '');
  return {
    revocation: `${config.redisKeyPrefix}revocation:`,
    session: `${config.redisKeyPrefix}session:`,
    throttle: `${counters}throttle:`,
    login: `${counters}login:`,
    // One key per proof, each command on one key: spread like the counters.
    dpop: `${counters}dpop:`,
  };
}

/** The JWKS location an issuer publishes by default (the auth service serves it there). */
export function defaultJwksUri(issuer: string): string {
  return `${withoutTrailingSlash(issuer)}/.well-known/jwks.json`;
}

function trustedIssuers(vars: Variables, authIssuer: string): TrustedIssuer[] {
  const file = vars.optional('ORDERS_ISSUERS_FILE');
  // The file replaces ORDERS_TRUSTED_ISSUERS and ORDERS_JWKS_URLS.
  if (file !== undefined) return issuersFromFile(file);
  const issuers = vars.list('ORDERS_TRUSTED_ISSUERS') ?? [authIssuer];
  issuers.forEach((issuer) => vars.checkUrl('ORDERS_TRUSTED_ISSUERS', issuer));
  if (new Set(issuers).size !== issuers.length) {
    throw new ConfigError('ORDERS_TRUSTED_ISSUERS lists an issuer twice');
  }
  const jwksUris = vars.list('ORDERS_JWKS_URLS') ?? issuers.map(defaultJwksUri);
  if (jwksUris.length !== issuers.length) {
    throw new ConfigError(
      `ORDERS_JWKS_URLS has ${jwksUris.length} URLs for ${issuers.length} trusted issuers; give one per issuer, in the same order`,
    );
  }
  jwksUris.forEach((uri) => vars.checkUrl('ORDERS_JWKS_URLS', uri));
  return issuers.map((issuer, i) => Object.freeze({ issuer, jwksUri: jwksUris[i] }));
}

/** The one Redis variable set, as a connection; none: undefined. */
function redisConnection(vars: Variables): RedisConnection | undefined {
  const set = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'].filter(
    (name) => vars.optional(name) !== undefined,
  );
  if (set.length > 1) {
    throw new ConfigError(`${set.join(' and ')} are set: set one of them, for one Redis`);
  }
  if (vars.optional('REDIS_SENTINEL_NAME') !== undefined && set[0] !== 'REDIS_SENTINELS') {
    throw new ConfigError('REDIS_SENTINEL_NAME is set without REDIS_SENTINELS');
  }
  switch (set[0]) {
    case 'REDIS_URL':
      return vars.optionalUrl('REDIS_URL', ['redis:', 'rediss:']);
    case 'REDIS_CLUSTER_NODES':
      return { cluster: { nodes: vars.addresses('REDIS_CLUSTER_NODES') } };
    case 'REDIS_SENTINELS':
      return {
        sentinels: vars.addresses('REDIS_SENTINELS'),
        name: vars.pattern('REDIS_SENTINEL_NAME', /^[\w.-]{1,100}$/, 'a master name', 'mymaster'),
      };
    default:
      return undefined;
  }
}

/** The issuers of an `ORDERS_ISSUERS_FILE`; a file orders cannot use is a `ConfigError`. */
function issuersFromFile(path: string): TrustedIssuer[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`ORDERS_ISSUERS_FILE: cannot read ${path} (${(error as Error).message})`);
  }
  try {
    return parseIssuersFile(text).map((issuer) => Object.freeze(issuer));
  } catch (error) {
    if (!(error instanceof IssuersFileError)) throw error;
    throw new ConfigError(`ORDERS_ISSUERS_FILE ${path}: ${error.message}`);
  }
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Typed, validated access to the variables; an empty value counts as unset. */
class Variables {
  constructor(private readonly values: Environment) {}

  optional(name: string): string | undefined {
    const value = this.values[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.optional(name) ?? fallback;
  }

  list(name: string): string[] | undefined {
    const value = this.optional(name);
    if (value === undefined) return undefined;
    const items = value.split(',').map((item) => item.trim());
    if (items.some((item) => item === '')) throw new ConfigError(`${name} has an empty entry`);
    return items;
  }

  /** A comma-separated list of `host:port` (an IPv6 host in brackets). */
  addresses(name: string): { host: string; port: number }[] {
    return (this.list(name) ?? []).map((item) => {
      const match = /^(?:\[([^\]\s]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(item);
      const port = Number(match?.[3]);
      if (match === null || !(port >= 1 && port <= 65_535)) {
        throw new ConfigError(`${name} must be comma-separated host:port, got "${item}"`);
      }
      return { host: match[1] ?? match[2]!, port };
    });
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    return this.numeric(name, fallback, min, max, /^\d+$/, 'an integer');
  }

  number(name: string, fallback: number, min: number, max: number): number {
    return this.numeric(name, fallback, min, max, /^\d+(?:\.\d+)?$/, 'a number');
  }

  pattern(name: string, shape: RegExp, what: string, fallback: string): string {
    const value = this.optional(name) ?? fallback;
    if (!shape.test(value)) throw new ConfigError(`${name} must be ${what}, got "${value}"`);
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.optional(name) ?? fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
    }
    return value as T;
  }

  url(name: string, fallback: string): string {
    return this.checkUrl(name, this.optional(name) ?? fallback);
  }

  optionalUrl(name: string, protocols: readonly string[]): string | undefined {
    const value = this.optional(name);
    if (value === undefined) return undefined;
    // The value may hold a password: the message names the variable, never the value.
    if (!URL.canParse(value) || !protocols.includes(new URL(value).protocol)) {
      throw new ConfigError(`${name} must be a ${protocols.join(' or ')} URL`);
    }
    return value;
  }

  checkUrl(name: string, value: string): string {
    if (!URL.canParse(value) || !['http:', 'https:'].includes(new URL(value).protocol)) {
      throw new ConfigError(`${name} must be an http(s) URL, got "${value}"`);
    }
    return value;
  }

  private numeric(
    name: string,
    fallback: number,
    min: number,
    max: number,
    shape: RegExp,
    what: string,
  ): number {
    const raw = this.optional(name);
    const value = raw === undefined ? fallback : shape.test(raw) ? Number(raw) : Number.NaN;
    if (!(value >= min && value <= max)) {
      throw new ConfigError(`${name} must be ${what} from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  }
}
