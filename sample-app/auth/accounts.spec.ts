import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigError } from '../config.js';
import { loadClients, loadUsers, parseClients, parseUsers } from './accounts.js';

// 'pw' at a cheap cost, so the spec stays fast.
const HASH = 'scrypt$1024$8$1$K8kwkNtfgkzqcCEE3-qjXw$UTH1wS0S0KxDDhoy2TnbVelBygTbGnFVGD3FtZw9HSs';

describe('accounts', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-users-'));
  });
  afterAll(() => rm(dir, { recursive: true }));

  const user = (over: Record<string, unknown> = {}) => ({
    username: 'erin',
    password_hash: HASH,
    tenant: 't1',
    scopes: ['orders:read'],
    ...over,
  });

  it('loads the demo users and the demo client of the contract', async () => {
    const users = await loadUsers();
    expect(users.list()).toEqual([
      {
        username: 'alice',
        tenant: 'seller-a',
        scopes: ['orders:read', 'orders:create', 'orders:delete'],
      },
      { username: 'bob', tenant: 'seller-b', scopes: ['orders:read', 'orders:create'] },
      { username: 'carol', tenant: 'seller-a', scopes: ['orders:read'] },
      {
        username: 'dave',
        tenant: 'seller-b',
        scopes: ['orders:read', 'orders:create', 'orders:delete'],
      },
    ]);
    expect(await users.authenticate('bob', 'bob-password')).toMatchObject({ username: 'bob' });
    expect(await users.authenticate('bob', 'alice-password')).toBeUndefined();
    const clients = await loadClients();
    expect(await clients.authenticate('reports-job', 'reports-job-secret')).toEqual({
      clientId: 'reports-job',
      tenant: 'seller-a',
      scopes: ['orders:read'],
    });
  });

  it('answers an unknown name like a wrong secret', async () => {
    const users = parseUsers([user()], 'test');
    expect(await users.authenticate('nobody', 'pw')).toBeUndefined();
    expect(await users.authenticate('__proto__', 'pw')).toBeUndefined();
    expect(await users.authenticate('erin', 'pw')).toEqual({
      username: 'erin',
      tenant: 't1',
      scopes: ['orders:read'],
    });
  });

  it('reads USERS_FILE instead of the demo users', async () => {
    const path = join(dir, 'users.json');
    await writeFile(path, JSON.stringify([user()]));
    const users = await loadUsers(path);
    expect(users.list().map((u) => u.username)).toEqual(['erin']);
    expect(await users.authenticate('alice', 'alice-password')).toBeUndefined();
  });

  it.each([
    ['not an array', { users: [] }, 'expected a non-empty JSON array'],
    ['an empty array', [], 'expected a non-empty JSON array'],
    ['a non-object entry', ['erin'], 'entry 0 is not an object'],
    ['no username', [{ ...user(), username: undefined }], 'entry 0: username must be'],
    ['a username with spaces', [user({ username: 'e rin' })], 'username must be'],
    ['no tenant', [user({ tenant: '' })], 'tenant must be'],
    ['scopes as a string', [user({ scopes: 'orders:read' })], 'scopes must be an array'],
    ['a scope with a space', [user({ scopes: ['orders:read orders:create'] })], 'scopes must be'],
    ['a plaintext password', [user({ password_hash: 'pw' })], 'password_hash is not usable'],
    [
      'a hostile hash',
      [user({ password_hash: HASH.replace('$1024$', '$1073741824$') })],
      'N must be',
    ],
    ['a duplicate', [user(), user()], 'entry 1: username "erin" appears twice'],
  ])('refuses a users file with %s', (_, document, message) => {
    expect(() => parseUsers(document, 'USERS_FILE users.json')).toThrow(ConfigError);
    expect(() => parseUsers(document, 'USERS_FILE users.json')).toThrow(message);
    expect(() => parseUsers(document, 'USERS_FILE users.json')).toThrow(
      /^USERS_FILE users\.json: /,
    );
  });

  it('refuses an unreadable or malformed USERS_FILE with a clear message', async () => {
    await expect(loadUsers(join(dir, 'missing.json'))).rejects.toThrow(
      /USERS_FILE .*missing\.json: cannot read the file \(ENOENT\)/,
    );
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '[{"username": ');
    await expect(loadUsers(broken)).rejects.toThrow(/broken\.json: not valid JSON/);
  });

  it('keeps a client without tenant unbound', async () => {
    const clients = parseClients(
      [{ client_id: 'ops', client_secret_hash: HASH, scopes: ['orders:read'] }],
      'clients',
    );
    expect(await clients.authenticate('ops', 'pw')).toEqual({
      clientId: 'ops',
      tenant: undefined,
      scopes: ['orders:read'],
    });
  });
});
