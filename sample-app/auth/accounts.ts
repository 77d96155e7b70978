import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config.js';
import {
  DEFAULT_SCRYPT_PARAMS,
  parsePasswordHash,
  PasswordHashError,
  unmatchableHash,
  verifyPassword,
  type PasswordHash,
} from './password-hash.js';

/** A user who logs in with a password. */
export interface UserAccount {
  readonly username: string;
  readonly tenant: string;
  readonly scopes: readonly string[];
}

/** A service client of the client-credentials grant. */
export interface ClientAccount {
  readonly clientId: string;
  /** The tenant its tokens are bound to; absent for a client acting across tenants. */
  readonly tenant: string | undefined;
  readonly scopes: readonly string[];
}

/**
 * Accounts by name, each with its secret's hash. An unknown name costs one scrypt run like a
 * known one, and both failures look the same, so neither the answer nor its timing tells
 * whether the account exists.
 */
export class AccountDirectory<A> {
  private readonly decoy: PasswordHash;

  constructor(private readonly accounts: Accounts<A>) {
    const first = accounts.values().next().value?.hash ?? DEFAULT_SCRYPT_PARAMS;
    this.decoy = unmatchableHash({ N: first.N, r: first.r, p: first.p });
  }

  /** The account when `secret` is its secret, otherwise `undefined`. */
  async authenticate(name: string, secret: string): Promise<A | undefined> {
    const entry = this.accounts.get(name);
    const matches = await verifyPassword(secret, entry?.hash ?? this.decoy);
    return matches && entry !== undefined ? entry.account : undefined;
  }

  /** Every account, for metadata such as `scopes_supported`. */
  list(): A[] {
    return [...this.accounts.values()].map((entry) => entry.account);
  }
}

/** The users who log in at `POST /auth/login`. */
export class UserDirectory extends AccountDirectory<UserAccount> {}

/** The service clients of `POST /auth/token`. */
export class ClientDirectory extends AccountDirectory<ClientAccount> {}

/** The users of `USERS_FILE`, or the demo users when it is unset. */
export async function loadUsers(path?: string): Promise<UserDirectory> {
  const source = path === undefined ? bundledFile('demo-users.json') : path;
  const what = path === undefined ? 'demo users' : `USERS_FILE ${path}`;
  return parseUsers(await readJson(source, what), what);
}

/** The service clients (the demo client). */
export async function loadClients(): Promise<ClientDirectory> {
  return parseClients(
    await readJson(bundledFile('demo-clients.json'), 'demo clients'),
    'demo clients',
  );
}

/** Validates a users document: `[{username, password_hash, tenant, scopes}]`. */
export function parseUsers(document: unknown, what: string): UserDirectory {
  return parseAccounts<UserAccount, UserDirectory>(
    UserDirectory,
    document,
    what,
    'username',
    (_entry, field) => ({
      hash: field.hash('password_hash'),
      account: {
        username: field.name('username'),
        tenant: field.name('tenant'),
        scopes: field.scopes('scopes'),
      },
    }),
  );
}

/** Validates a clients document: `[{client_id, client_secret_hash, tenant?, scopes}]`. */
export function parseClients(document: unknown, what: string): ClientDirectory {
  return parseAccounts<ClientAccount, ClientDirectory>(
    ClientDirectory,
    document,
    what,
    'client_id',
    (entry, field) => ({
      hash: field.hash('client_secret_hash'),
      account: {
        clientId: field.name('client_id'),
        tenant: entry.tenant === undefined ? undefined : field.name('tenant'),
        scopes: field.scopes('scopes'),
      },
    }),
  );
}

type Entry = Readonly<Record<string, unknown>>;

interface FieldReader {
  name(key: string): string;
  hash(key: string): PasswordHash;
  scopes(key: string): string[];
}

type Accounts<A> = ReadonlyMap<string, { account: A; hash: PasswordHash }>;

function parseAccounts<A, D extends AccountDirectory<A>>(
  Directory: new (accounts: Accounts<A>) => D,
  document: unknown,
  what: string,
  nameKey: string,
  read: (entry: Entry, field: FieldReader) => { hash: PasswordHash; account: A },
): D {
  if (!Array.isArray(document) || document.length === 0) {
    throw new ConfigError(`${what}: expected a non-empty JSON array of accounts`);
  }
  const accounts = new Map<string, { account: A; hash: PasswordHash }>();
  document.forEach((entry: unknown, index) => {
    const where = `${what}: entry ${index}`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new ConfigError(`${where} is not an object`);
    }
    const field = fieldReader(entry as Entry, where);
    const name = field.name(nameKey);
    const { hash, account } = read(entry as Entry, field);
    if (accounts.has(name)) throw new ConfigError(`${where}: ${nameKey} "${name}" appears twice`);
    accounts.set(name, { account: Object.freeze(account), hash });
  });
  return new Directory(accounts);
}

function fieldReader(entry: Entry, where: string): FieldReader {
  const fail = (key: string, problem: string): never => {
    throw new ConfigError(`${where}: ${key} ${problem}`);
  };
  return {
    name(key) {
      const value = entry[key];
      if (typeof value !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(value)) {
        fail(key, 'must be 1 to 256 printable ASCII characters without spaces');
      }
      return value as string;
    },
    hash(key) {
      try {
        return parsePasswordHash(entry[key]);
      } catch (error) {
        if (error instanceof PasswordHashError) fail(key, `is not usable: ${error.message}`);
        throw error;
      }
    },
    scopes(key) {
      const value = entry[key];
      if (
        !Array.isArray(value) ||
        value.some((s) => typeof s !== 'string' || !/^[\x21-\x7e]+$/.test(s))
      ) {
        fail(key, 'must be an array of scope strings without spaces');
      }
      return [...(value as string[])];
    },
  };
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `${what}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ConfigError(`${what}: not valid JSON (${(error as Error).message})`);
  }
}

/**
 * A data file shipped in sample-app/auth. The build compiles TypeScript only, so from
 * dist/sample-app/auth the file is read where it lives in the source tree.
 */
function bundledFile(name: string): string {
  const candidates = [
    new URL(name, import.meta.url),
    new URL(`../../../sample-app/auth/${name}`, import.meta.url),
  ];
  const found = candidates.find((url) => existsSync(url));
  if (found === undefined) throw new ConfigError(`sample-app data file ${name} is missing`);
  return fileURLToPath(found);
}
