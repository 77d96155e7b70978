import type { Cluster, Redis } from 'ioredis';
import {
  firstConnection,
  openRedis,
  type RedisConnection,
} from '../revocation/redis-connection.js';
import type {
  FirstRefreshToken,
  RotationRequest,
  RotationResult,
  SessionRecord,
  SessionStore,
} from './session-store.js';

export interface RedisSessionStoreOptions {
  /** How to reach Redis; a client passed in is used as is and not closed by the store. */
  readonly connection: RedisConnection;
  /**
   * Prefix of every key. Each script touches one session's one key, so on a Cluster a prefix
   * without a hash tag spreads the sessions over the masters; the default keeps them in one slot.
   * @default '{tessera}:session:'
   */
  readonly keyPrefix?: string;
}

// KEYS[1] session hash. ARGV: record, family hash, first token's hash, its expiry, session
// expiry, device ('' for none).
const OPEN = `
redis.call('HSET', KEYS[1], 'record', ARGV[1], 'family', ARGV[2], 'gen', '0', 'current', ARGV[3],
  'current_exp', ARGV[4], 'revoked', '0', 'device', ARGV[6])
redis.call('EXPIREAT', KEYS[1], ARGV[5])
return 1
`;

// KEYS[1] session hash. ARGV: family hash, generation, presented hash, next hash, device, next
// expiry, now. Atomic, so two racing refreshes with one token cannot both rotate: the second
// presents an earlier generation than the current one, which is reuse, and the whole family is
// revoked. One hash per session, whatever number of rotations: no key per retired token.
const ROTATE = `
local s = redis.call('HMGET', KEYS[1], 'record', 'family', 'gen', 'current', 'current_exp',
  'revoked', 'device')
if not s[1] or s[6] == '1' or s[2] ~= ARGV[1] then return {'invalid'} end
-- The successor is this request's own (fresh, random): the same command run again, as a client
-- resends one whose reply a dropped connection lost. The rotation stands; it is no reuse.
if s[4] == ARGV[4] then return {'rotated', s[1]} end
local gen = tonumber(s[3])
local presented = tonumber(ARGV[2])
if presented < gen then
  redis.call('HSET', KEYS[1], 'revoked', '1')
  return {'reused', s[1]}
end
if presented ~= gen or s[4] ~= ARGV[3] then return {'invalid'} end
if (s[7] or '') ~= ARGV[5] then
  redis.call('HSET', KEYS[1], 'revoked', '1')
  return {'device_mismatch', s[1]}
end
if tonumber(s[5]) <= tonumber(ARGV[7]) then return {'invalid'} end
redis.call('HSET', KEYS[1], 'gen', tostring(gen + 1), 'current', ARGV[4], 'current_exp', ARGV[6])
return {'rotated', s[1]}
`;

// KEYS[1] session hash. Returns the record if the session was live.
const REVOKE = `
local s = redis.call('HMGET', KEYS[1], 'record', 'revoked')
if not s[1] or s[2] == '1' then return false end
redis.call('HSET', KEYS[1], 'revoked', '1')
return s[1]
`;

type Scripts = {
  tesseraSessionOpen(...args: (string | number)[]): Promise<number>;
  tesseraSessionRotate(...args: (string | number)[]): Promise<[string, string?]>;
  tesseraSessionRevoke(key: string): Promise<string | null>;
};

/**
 * Sessions and refresh-token families in Redis, shared by every instance of the issuer: one hash
 * per session, which expires with the session (reuse of any earlier token is detected for as long
 * as the session could have lived, with nothing kept per retired token).
 */
export class RedisSessionStore implements SessionStore {
  private readonly client: (Redis | Cluster) & Scripts;
  private readonly owned: boolean;
  private readonly prefix: string;

  constructor(options: RedisSessionStoreOptions) {
    const prefix = options.keyPrefix ?? '{tessera}:session:';
    const { client, owned } = openRedis(options.connection);
    client.defineCommand('tesseraSessionOpen', { numberOfKeys: 1, lua: OPEN });
    client.defineCommand('tesseraSessionRotate', { numberOfKeys: 1, lua: ROTATE });
    client.defineCommand('tesseraSessionRevoke', { numberOfKeys: 1, lua: REVOKE });
    client.on('error', () => undefined); // commands fail fast and report their own errors
    this.client = client as (Redis | Cluster) & Scripts;
    this.owned = owned;
    this.prefix = prefix;
  }

  async open(session: SessionRecord, first: FirstRefreshToken): Promise<void> {
    await firstConnection(this.client);
    await this.client.tesseraSessionOpen(
      this.sessionKey(session.id),
      JSON.stringify(session),
      first.familyHash,
      first.hash,
      Math.floor(first.expiresAt),
      Math.ceil(session.expiresAt),
      session.deviceId ?? '',
    );
  }

  async rotate(request: RotationRequest): Promise<RotationResult> {
    await firstConnection(this.client);
    const [status, record] = await this.client.tesseraSessionRotate(
      this.sessionKey(request.sessionId),
      request.familyHash,
      request.generation,
      request.presentedHash,
      request.nextHash,
      request.deviceId ?? '',
      Math.floor(request.nextExpiresAt),
      Math.floor(request.now),
    );
    if (status === 'invalid' || record === undefined) return { status: 'invalid' };
    const session = JSON.parse(record) as SessionRecord;
    if (session.expiresAt <= request.now) return { status: 'invalid' };
    return { status: status as 'rotated' | 'reused' | 'device_mismatch', session };
  }

  async find(sessionId: string): Promise<SessionRecord | undefined> {
    await firstConnection(this.client);
    const [record, revoked] = await this.client.hmget(
      this.sessionKey(sessionId),
      'record',
      'revoked',
    );
    if (record === null || revoked === '1') return undefined;
    const session = JSON.parse(record) as SessionRecord;
    return session.expiresAt > Date.now() / 1000 ? session : undefined;
  }

  async revoke(sessionId: string): Promise<SessionRecord | undefined> {
    await firstConnection(this.client);
    const record = await this.client.tesseraSessionRevoke(this.sessionKey(sessionId));
    return record ? (JSON.parse(record) as SessionRecord) : undefined;
  }

  async close(): Promise<void> {
    if (this.owned) this.client.disconnect();
  }

  private sessionKey(id: string): string {
    return `${this.prefix}s:${id}`;
  }
}
