import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt cost parameters: `N` (CPU/memory cost), `r` (block size), `p` (parallelism). */
export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** A parsed `scrypt$<N>$<r>$<p>$<salt>$<key>` hash. */
export interface PasswordHash extends ScryptParams {
  readonly salt: Buffer;
  readonly key: Buffer;
}

/** Why a stored hash cannot be used. */
export class PasswordHashError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PasswordHashError';
  }
}

/** What new hashes use: scrypt's usual interactive-login cost (16 MiB, some 50 ms). */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = Object.freeze({ N: 16_384, r: 8, p: 1 });

export const KEY_BYTES = 32;
const SALT_BYTES = 16;

// A users file is configuration an attacker might get to edit: bound what one hash may cost, so
// that a hostile `N` or `r` cannot make each login allocate gigabytes or run for minutes.
const LIMITS = {
  maxN: 2 ** 17,
  minN: 2 ** 10,
  maxR: 16,
  maxP: 4,
  maxMemoryBytes: 128 * 1024 * 1024,
};
const SALT_LENGTHS = { min: 8, max: 64 };
/** Longer passwords are refused before any hashing. */
export const MAX_PASSWORD_LENGTH = 1024;

/** Parses and bounds-checks a stored hash; throws `PasswordHashError`. */
export function parsePasswordHash(encoded: unknown): PasswordHash {
  if (typeof encoded !== 'string') throw new PasswordHashError('not a string');
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') {
    throw new PasswordHashError('expected scrypt$<N>$<r>$<p>$<salt>$<key>');
  }
  const [N, r, p] = parts.slice(1, 4).map((part) => (/^\d{1,10}$/.test(part) ? Number(part) : NaN));
  checkParams({ N, r, p });
  const salt = base64url(parts[4], 'salt');
  const key = base64url(parts[5], 'key');
  if (salt.length < SALT_LENGTHS.min || salt.length > SALT_LENGTHS.max) {
    throw new PasswordHashError(`salt must be ${SALT_LENGTHS.min} to ${SALT_LENGTHS.max} bytes`);
  }
  if (key.length !== KEY_BYTES) throw new PasswordHashError(`key must be ${KEY_BYTES} bytes`);
  return { N, r, p, salt, key };
}

/** Hashes a password with a fresh salt, in the stored format. */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
): Promise<string> {
  checkParams(params);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  const { N, r, p } = params;
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Whether `password` matches the hash; compares in constant time. */
export async function verifyPassword(password: string, hash: PasswordHash): Promise<boolean> {
  checkParams(hash);
  const key = await derive(password, hash.salt, hash);
  return key.length === hash.key.length && timingSafeEqual(key, hash.key);
}

/**
 * A hash that matches no password, with the given cost: checking an unknown user's password
 * against it takes as long as checking a known user's, so timing does not tell who exists.
 */
export function unmatchableHash(params: ScryptParams = DEFAULT_SCRYPT_PARAMS): PasswordHash {
  return { ...params, salt: randomBytes(SALT_BYTES), key: randomBytes(KEY_BYTES) };
}

function derive(password: string, salt: Buffer, { N, r, p }: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N, r, p, maxmem: memoryBytes({ N, r, p }) + 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

function checkParams({ N, r, p }: ScryptParams): void {
  if (!Number.isInteger(N) || N < LIMITS.minN || N > LIMITS.maxN || (N & (N - 1)) !== 0) {
    throw new PasswordHashError(`N must be a power of two from ${LIMITS.minN} to ${LIMITS.maxN}`);
  }
  if (!Number.isInteger(r) || r < 1 || r > LIMITS.maxR) {
    throw new PasswordHashError(`r must be an integer from 1 to ${LIMITS.maxR}`);
  }
  if (!Number.isInteger(p) || p < 1 || p > LIMITS.maxP) {
    throw new PasswordHashError(`p must be an integer from 1 to ${LIMITS.maxP}`);
  }
  if (memoryBytes({ N, r, p }) > LIMITS.maxMemoryBytes) {
    throw new PasswordHashError(`N and r need more than ${LIMITS.maxMemoryBytes} bytes`);
  }
}

/** What scrypt allocates: 128·N·r bytes (RFC 7914 §2). */
function memoryBytes({ N, r }: ScryptParams): number {
  return 128 * N * r;
}

function base64url(text: string, what: string): Buffer {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new PasswordHashError(`${what} is not base64url`);
  return Buffer.from(text, 'base64url');
}
