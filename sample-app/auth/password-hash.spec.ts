import { describe, expect, it } from '@jest/globals';
import {
  DEFAULT_SCRYPT_PARAMS,
  hashPassword,
  parsePasswordHash,
  PasswordHashError,
  unmatchableHash,
  verifyPassword,
} from './password-hash.js';

// Cheap parameters keep the spec fast; the stored format and checks are the same.
const FAST = { N: 1024, r: 8, p: 1 };
const SALT = Buffer.alloc(16, 7).toString('base64url');
const KEY = Buffer.alloc(32, 9).toString('base64url');

describe('scrypt password hashes', () => {
  it('hashes in the stored format with the default cost', async () => {
    const hash = await hashPassword('correct horse');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(parsePasswordHash(hash)).toMatchObject(DEFAULT_SCRYPT_PARAMS);
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const hash = parsePasswordHash(await hashPassword('correct horse', FAST));
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('correct horsE', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same', FAST)).not.toBe(await hashPassword('same', FAST));
  });

  it('compares Unicode passwords in one normal form', async () => {
    const hash = parsePasswordHash(await hashPassword('caf\u00e9', FAST));
    expect(await verifyPassword('cafe\u0301', hash)).toBe(true);
  });

  it('verifies the precomputed demo hash of alice', async () => {
    const alice = parsePasswordHash(
      'scrypt$16384$8$1$4ItHr8OV6Si3Nr6g51d43Q$I7BOHfRnhngma-YVRLnSirNKoaagwYQ8_ul7ZOKKY7c',
    );
    expect(await verifyPassword('alice-password', alice)).toBe(true);
  });

  it('makes decoy hashes that match nothing, at the cost asked for', async () => {
    const decoy = unmatchableHash(FAST);
    expect(decoy).toMatchObject(FAST);
    expect(await verifyPassword('', decoy)).toBe(false);
    expect(await verifyPassword('anything', decoy)).toBe(false);
  });

  it.each([
    ['a hostile N (2^30: 128 GiB per login)', `scrypt$1073741824$8$1$${SALT}$${KEY}`, 'N must be'],
    ['N past the bound', `scrypt$262144$8$1$${SALT}$${KEY}`, 'N must be'],
    ['N not a power of two', `scrypt$16000$8$1$${SALT}$${KEY}`, 'N must be a power of two'],
    ['N too small', `scrypt$16$8$1$${SALT}$${KEY}`, 'N must be'],
    ['a hostile r', `scrypt$16384$100000$1$${SALT}$${KEY}`, 'r must be'],
    ['a hostile p', `scrypt$16384$8$1000$${SALT}$${KEY}`, 'p must be'],
    [
      'N and r within bounds but too much memory together',
      `scrypt$131072$16$1$${SALT}$${KEY}`,
      'bytes',
    ],
    ['a huge number', `scrypt$99999999999999999999$8$1$${SALT}$${KEY}`, 'N must be'],
    ['a negative number', `scrypt$-16384$8$1$${SALT}$${KEY}`, 'N must be'],
    ['another algorithm', `bcrypt$16384$8$1$${SALT}$${KEY}`, 'expected scrypt$'],
    ['missing parts', `scrypt$16384$8$1$${SALT}`, 'expected scrypt$'],
    ['a short key', `scrypt$16384$8$1$${SALT}$${KEY.slice(0, 20)}`, 'key must be 32 bytes'],
    ['a short salt', `scrypt$16384$8$1$AAAA$${KEY}`, 'salt must be'],
    ['salt not base64url', `scrypt$16384$8$1$${SALT}+/=$${KEY}`, 'salt is not base64url'],
    ['not a string', 42, 'not a string'],
  ])('refuses %s', (_, encoded, message) => {
    expect(() => parsePasswordHash(encoded)).toThrow(PasswordHashError);
    expect(() => parsePasswordHash(encoded)).toThrow(message);
  });

  it('refuses to run scrypt with unbounded parameters even when handed a parsed hash', async () => {
    const hostile = { N: 2 ** 24, r: 8, p: 1, salt: Buffer.alloc(16), key: Buffer.alloc(32) };
    await expect(verifyPassword('x', hostile)).rejects.toThrow(PasswordHashError);
    await expect(hashPassword('x', { N: 2 ** 24, r: 8, p: 1 })).rejects.toThrow(PasswordHashError);
  });
});
