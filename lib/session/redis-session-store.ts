import type { Cluster, Redis } from 'ioredis';
import {
  firstConnection,
  openRedis,
  type RedisConnection,
} from '../revocation/redis-connection.js';
import type {
  RotationRequest,
  RotationResult,
  SessionRecord,
  SessionStore,
} from './session-store.js';

export interface RedisSessionStoreOptions {
  /** How to reach Redis; a client passed in is used as is and not closed by the store. */
  readonly connection: RedisConnection;
  /**
   * Prefix of every key; in a Cluster it must contain a hash tag (the scripts touch several keys).
   * @default '{tessera}:session:'
   */
  readonly keyPrefix?: string;
}

// KEYS[1] session hash, KEYS[2] first token.
// ARGV: record, hash, token expiry, session expiry, sid, device ('' for none)
const OPEN = `
redis.call('HSET', KEYS[1], 'record', ARGV[1], 'current', ARGV[2], 'current_exp', ARGV[3],
  'revoked', '0', 'device', ARGV[6])
redis.call('EXPIREAT', KEYS[1], ARGV[4])
redis.call('SET', KEYS[2], ARGV[5], 'EXAT', ARGV[4])
return 1
`;

// KEYS[1] presented token. ARGV: prefix, presented hash, device, next hash, next expiry, now.
// Atomic, so two racing refreshes with one token cannot both rotate: the second sees a retired
// token, which is reuse, and the whole family is revoked.
const ROTATE = `
local sid = redis.call('GET', KEYS[1])
if not sid then return {'invalid'} end
local skey = ARGV[1] .. 's:' .. sid
local s = redis.call('HMGET', skey, 'record', 'current', 'current_exp', 'revoked', 'device')
if not s[1] or s[4] == '1' then return {'invalid'} end
-- The successor is this request's own (fresh, random): the same command run again, as a client
-- resends one whose reply a dropped connection lost. The rotation stands; it is no reuse.
if s[2] == ARGV[4] then return {'rotated', s[1]} end
if s[2] ~= ARGV[2] then
  redis.call('HSET', skey, 'revoked', '1')
  return {'reused', s[1]}
end
if (s[5] or '') ~= ARGV[3] then
  redis.call('HSET', skey, 'revoked', '1')
  return {'device_mismatch', s[1]}
end
if tonumber(s[3]) <= tonumber(ARGV[6]) then return {'invalid'} end
redis.call('HSET', skey, 'current', ARGV[4], 'current_exp', ARGV[5])
local ttl = redis.call('TTL', skey)
redis.call('SET', ARGV[1] .. 'r:' .. ARGV[4], sid, 'EX', math.max(ttl, 1))
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
 * Sessions and refresh-token families in Redis, shared by every instance of the issuer. A
 * session's keys expire with the session, retired token hashes included (reuse is detected
 * for as long as the session could have lived).
 */
export class RedisSessionStore implements SessionStore {
  private readonly client: (Redis | Cluster) & Scripts;
  private readonly owned: boolean;
  private readonly prefix: string;

  constructor(options: RedisSessionStoreOptions) {
    const { client, owned } = openRedis(options.connection);
    client.defineCommand('tesseraSessionOpen', { numberOfKeys: 2, lua: OPEN });
    client.defineCommand('tesseraSessionRotate', { numberOfKeys: 1, lua: ROTATE });
    client.defineCommand('tesseraSessionRevoke', { numberOfKeys: 1, lua: REVOKE });
    client.on('error', () => undefined); // commands fail fast and report their own errors
    this.client = client as (Redis | Cluster) & Scripts;
    this.owned = owned;
    this.prefix = options.keyPrefix ?? '{tessera}:session:';
  }

  async open(session: SessionRecord, refreshHash: string, refreshExpiresAt: number): Promise<void> {
    await firstConnection(this.client);
    await this.client.tesseraSessionOpen(
      this.sessionKey(session.id),
      this.tokenKey(refreshHash),
      JSON.stringify(session),
      refreshHash,
      Math.floor(refreshExpiresAt),
      Math.ceil(session.expiresAt),
      session.id,
      session.deviceId ?? '',
    );
  }

  async rotate(request: RotationRequest): Promise<RotationResult> {
    await firstConnection(this.client);
    const [status, record] = await this.client.tesseraSessionRotate(
      this.tokenKey(request.presentedHash),
      this.prefix,
      request.presentedHash,
      request.deviceId ?? '',
      request.nextHash,
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

  private tokenKey(hash: string): string {
    return `${this.prefix}r:${hash}`;
  }
}
