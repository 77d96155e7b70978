import {
  querySubjectId,
  subjectId,
  type RevocationEntry,
  type RevocationQuery,
} from './revocation-entry.js';

interface Stamp {
  expiresAt: number;
  issuedBefore: number;
  /** For an entry of one issuer: that issuer and the id it names (the map's key joins them). */
  readonly issuer?: string;
  readonly id?: string;
}

const SWEEP_EVERY_WRITES = 1024;

type MapName = 'token' | 'session' | 'subject' | 'issuerToken' | 'issuerSession';

/**
 * Revocations held in memory: five maps, answered without I/O. A token or session of one issuer
 * is kept apart from one of every issuer, under its issuer and id joined (`subjectId`), so one
 * issuer's `jti` or `sid` never stands for another's. Entries leave once the tokens they cover
 * have expired (checked on read, swept on write), so the set never grows unbounded.
 */
export class RevocationSet {
  private readonly maps: Record<MapName, Map<string, Stamp>> = {
    token: new Map(),
    session: new Map(),
    subject: new Map(),
    issuerToken: new Map(),
    issuerSession: new Map(),
  };
  private writesSinceSweep = 0;

  constructor(private readonly now: () => number) {}

  /** Adds an entry; for a subject, the later `issuedBefore` and `expiresAt` win. */
  add(entry: RevocationEntry): void {
    const now = this.now();
    if (entry.expiresAt <= now) return;
    const [map, key] = this.place(entry);
    const previous = map.get(key);
    const issuedBefore = entry.kind === 'subject' ? entry.issuedBefore : 0;
    const issuer = entry.kind === 'subject' ? undefined : entry.issuer;
    map.set(key, {
      expiresAt: Math.max(entry.expiresAt, previous?.expiresAt ?? 0),
      issuedBefore: Math.max(issuedBefore, previous?.issuedBefore ?? 0),
      ...(issuer !== undefined && { issuer, id: entry.id }),
    });
    // A sweep reads every entry: run after as many writes as the set holds (at least 1,024), it
    // costs each write O(1) however large the set, where a fixed interval makes loading N
    // entries O(N²). Expired entries are refused on read meanwhile; at most as many linger.
    if (++this.writesSinceSweep >= Math.max(SWEEP_EVERY_WRITES, this.size)) this.sweep(now);
  }

  has(entry: RevocationEntry): boolean {
    const [map, key] = this.place(entry);
    const stamp = this.live(map, key);
    if (stamp === undefined) return false;
    return entry.kind !== 'subject' || stamp.issuedBefore >= entry.issuedBefore;
  }

  /** Whether the query's token is revoked by any live entry. */
  matches(query: RevocationQuery): boolean {
    const { token, session, subject, issuerToken, issuerSession } = this.maps;
    // Every request asks: an empty map is not asked (a look-up reads the key's hash and a bucket,
    // memory that a busy server rarely has in cache), and the clock only for an entry found.
    if (query.jti !== undefined) {
      if (token.size !== 0 && this.live(token, query.jti)) return true;
      if (issuerToken.size !== 0 && query.iss !== undefined) {
        if (this.live(issuerToken, subjectId(query.iss, query.jti))) return true;
      }
    }
    if (query.sid !== undefined) {
      if (session.size !== 0 && this.live(session, query.sid)) return true;
      if (issuerSession.size !== 0 && query.iss !== undefined) {
        if (this.live(issuerSession, subjectId(query.iss, query.sid))) return true;
      }
    }
    if (query.iat !== undefined && subject.size !== 0) {
      const id = querySubjectId(query);
      const stamp = id === undefined ? undefined : this.live(subject, id);
      if (stamp !== undefined && query.iat < stamp.issuedBefore) return true;
    }
    return false;
  }

  /** Every live entry. */
  *entries(): IterableIterator<RevocationEntry> {
    const now = this.now();
    for (const kind of ['token', 'session'] as const) {
      for (const [id, { expiresAt }] of this.maps[kind]) {
        if (expiresAt > now) yield { kind, id, expiresAt };
      }
    }
    for (const [kind, name] of [
      ['token', 'issuerToken'],
      ['session', 'issuerSession'],
    ] as const) {
      for (const { expiresAt, issuer, id } of this.maps[name].values()) {
        if (expiresAt > now) yield { kind, id: id!, issuer, expiresAt };
      }
    }
    for (const [id, { expiresAt, issuedBefore }] of this.maps.subject) {
      if (expiresAt > now) yield { kind: 'subject', id, expiresAt, issuedBefore };
    }
  }

  get size(): number {
    return Object.values(this.maps).reduce((sum, map) => sum + map.size, 0);
  }

  /** Drops expired entries. */
  sweep(now = this.now()): void {
    this.writesSinceSweep = 0;
    for (const map of Object.values(this.maps)) {
      for (const [id, stamp] of map) if (stamp.expiresAt <= now) map.delete(id);
    }
  }

  /** The map an entry lives in, and its key there. */
  private place(entry: RevocationEntry): [Map<string, Stamp>, string] {
    if (entry.kind === 'subject' || entry.issuer === undefined) {
      return [this.maps[entry.kind], entry.id];
    }
    const name = entry.kind === 'token' ? 'issuerToken' : 'issuerSession';
    return [this.maps[name], subjectId(entry.issuer, entry.id)];
  }

  private live(map: Map<string, Stamp>, id: string): Stamp | undefined {
    const stamp = map.get(id);
    if (stamp === undefined) return undefined;
    if (stamp.expiresAt > this.now()) return stamp;
    map.delete(id);
    return undefined;
  }
}
