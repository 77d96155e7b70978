import { querySubjectId, type RevocationEntry, type RevocationQuery } from './revocation-entry.js';

interface Stamp {
  expiresAt: number;
  issuedBefore: number;
}

/**
 * Revocations held in memory: three maps, answered without I/O. Entries leave once the tokens
 * they cover have expired (checked on read, swept on write), so the set never grows unbounded.
 */
export class RevocationSet {
  private readonly maps = {
    token: new Map<string, Stamp>(),
    session: new Map<string, Stamp>(),
    subject: new Map<string, Stamp>(),
  };
  private writesSinceSweep = 0;

  constructor(private readonly now: () => number) {}

  /** Adds an entry; for a subject, the later `issuedBefore` and `expiresAt` win. */
  add(entry: RevocationEntry): void {
    const now = this.now();
    if (entry.expiresAt <= now) return;
    const map = this.maps[entry.kind];
    const previous = map.get(entry.id);
    const issuedBefore = entry.kind === 'subject' ? entry.issuedBefore : 0;
    map.set(entry.id, {
      expiresAt: Math.max(entry.expiresAt, previous?.expiresAt ?? 0),
      issuedBefore: Math.max(issuedBefore, previous?.issuedBefore ?? 0),
    });
    if (++this.writesSinceSweep >= 1024) this.sweep(now);
  }

  has(entry: RevocationEntry): boolean {
    const stamp = this.live(this.maps[entry.kind], entry.id);
    if (stamp === undefined) return false;
    return entry.kind !== 'subject' || stamp.issuedBefore >= entry.issuedBefore;
  }

  /** Whether the query's token is revoked by any live entry. */
  matches(query: RevocationQuery): boolean {
    const { token, session, subject } = this.maps;
    // Every request asks: an empty map is not asked (a look-up reads the key's hash and a bucket,
    // memory that a busy server rarely has in cache), and the clock only for an entry found.
    if (query.jti !== undefined && token.size !== 0 && this.live(token, query.jti)) {
      return true;
    }
    if (query.sid !== undefined && session.size !== 0 && this.live(session, query.sid)) {
      return true;
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
    for (const [id, { expiresAt, issuedBefore }] of this.maps.subject) {
      if (expiresAt > now) yield { kind: 'subject', id, expiresAt, issuedBefore };
    }
  }

  get size(): number {
    return this.maps.token.size + this.maps.session.size + this.maps.subject.size;
  }

  /** Drops expired entries. */
  sweep(now = this.now()): void {
    this.writesSinceSweep = 0;
    for (const map of Object.values(this.maps)) {
      for (const [id, stamp] of map) if (stamp.expiresAt <= now) map.delete(id);
    }
  }

  private live(map: Map<string, Stamp>, id: string): Stamp | undefined {
    const stamp = map.get(id);
    if (stamp === undefined) return undefined;
    if (stamp.expiresAt > this.now()) return stamp;
    map.delete(id);
    return undefined;
  }
}
