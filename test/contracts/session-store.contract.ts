import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { KeyRing } from '../../lib/issue/key-ring.js';
import { TokenIssuer } from '../../lib/issue/token-issuer.js';
import { MemoryRevocationStore } from '../../lib/revocation/memory-revocation-store.js';
import { RevocationUnavailableError } from '../../lib/revocation/revocation-store.js';
import {
  hashRefreshToken,
  RefreshRefusedError,
  SessionManager,
  type SessionEvents,
  type TokenPair,
} from '../../lib/session/session-manager.js';
import { principalFromClaims, type Principal } from '../../lib/verify/principal.js';
import type { SessionRecord, SessionStore } from '../../lib/session/session-store.js';

export interface SessionStoreFixture {
  /** Each call opens a new connection to the same sessions (another instance of the issuer). */
  open(): SessionStore;
  now(): number;
  advance(seconds: number): Promise<void>;
  /** What the sessions take up: entries (keys) and, where the backend says, bytes. */
  footprint(): Promise<{ entries: number; bytes?: number }>;
  close(): Promise<void>;
}

/** `<sid>.<generation>.<family secret>.<random>` (the secrets 32 bytes, base64url). */
const REFRESH_TOKEN = /^[0-9a-f-]{36}\.(0|[1-9]\d*)\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/;

const keyRing = KeyRing.ephemeral('EdDSA');
const ISSUER = 'https://auth.test';

/** Sessions and refresh-token families, whatever store holds them. */
export function describeSessionStore(
  name: string,
  fixture: () => Promise<SessionStoreFixture>,
): void {
  describe(`${name} session store`, () => {
    let f: SessionStoreFixture;
    let revocations: MemoryRevocationStore;
    let events: { reuse: number; mismatch: number; results: string[] };
    const stores: SessionStore[] = [];

    const manager = (store: SessionStore = f.open(), sessionMaxAgeSeconds = 3600) => {
      stores.push(store);
      const on: SessionEvents = {
        refreshed: ({ result }) => events.results.push(result),
        refreshReuseDetected: () => events.reuse++,
        deviceMismatchDetected: () => events.mismatch++,
      };
      return new SessionManager({
        issuer: new TokenIssuer({
          issuer: ISSUER,
          audience: 'orders-api',
          keyRing,
          now: f.now,
        }),
        sessions: store,
        revocations,
        refreshTokenTtlSeconds: 1200,
        sessionMaxAgeSeconds,
        events: on,
        now: f.now,
      });
    };
    const login = {
      subject: 'alice',
      tenant: 'seller-a',
      scopes: ['orders:read'],
      clientId: 'sample-app',
    };
    const refused = (promise: Promise<unknown>) =>
      promise.then(
        () => 'accepted',
        (error: unknown) =>
          error instanceof RefreshRefusedError ? error.reason : `threw ${String(error)}`,
      );

    beforeEach(async () => {
      f = await fixture();
      revocations = new MemoryRevocationStore({ now: f.now });
      events = { reuse: 0, mismatch: 0, results: [] };
    });
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((s) => s.close()));
      await f.close();
    });

    it('rotates the refresh token on every use, within the same session', async () => {
      const m = manager();
      const first = await m.login(login);
      const second = await m.refresh(first.refreshToken, undefined);
      const third = await m.refresh(second.refreshToken, undefined);
      expect(new Set([first.refreshToken, second.refreshToken, third.refreshToken]).size).toBe(3);
      expect(third.session.id).toBe(first.session.id);
      expect(third.access.claims).toMatchObject({
        sub: 'alice',
        tid: 'seller-a',
        sid: first.session.id,
      });
      for (const token of [first, second, third].map((pair) => pair.refreshToken)) {
        expect(token).toMatch(REFRESH_TOKEN);
      }
      expect(events.results).toEqual(['rotated', 'rotated']);
    });

    it('treats a retired token presented again as theft: the whole family is revoked', async () => {
      const m = manager();
      const first = await m.login(login);
      const second = await m.refresh(first.refreshToken, undefined);
      expect(await refused(m.refresh(first.refreshToken, undefined))).toBe('reused');
      expect(await refused(m.refresh(second.refreshToken, undefined))).toBe('invalid');
      expect(revocations.isRevoked({ iss: ISSUER, jti: 'any', sid: first.session.id })).toBe(true);
      expect(events.reuse).toBe(1);
    });

    it('gives no tokens for a reused token when the revocation list cannot take the family end', async () => {
      const m = manager();
      const first = await m.login(login);
      const second = await m.refresh(first.refreshToken, undefined);
      // A list that cannot acknowledge it (Redis down, or no replica confirmed the write).
      revocations.revokeSession = () => Promise.reject(new RevocationUnavailableError('down'));
      expect(await refused(m.refresh(first.refreshToken, undefined))).toBe(
        'threw RevocationUnavailableError: down',
      );
      // The session store ended the family before the list was asked.
      expect(await refused(m.refresh(second.refreshToken, undefined))).toBe('invalid');
    });

    it('refuses a refresh of a session the revocation list names, though the store lost its end', async () => {
      const m = manager();
      const first = await m.login(login);
      // What a failover to a replica that missed the logout leaves: the list has it, the store not.
      await revocations.revokeSession(first.session.id, f.now() + 3600, ISSUER);
      expect(await refused(m.refresh(first.refreshToken, undefined))).toBe('invalid');
      const store = f.open();
      stores.push(store);
      expect(await store.find(first.session.id)).toBeUndefined();
    });

    it('revokes the session when a refresh comes from another device, or from none', async () => {
      const m = manager();
      const a = await m.login({ ...login, deviceId: 'phone-1' });
      const next = await m.refresh(a.refreshToken, 'phone-1');
      expect(await refused(m.refresh(next.refreshToken, 'laptop-9'))).toBe('device_mismatch');
      expect(revocations.isRevoked({ iss: ISSUER, sid: a.session.id })).toBe(true);
      const b = await m.login({ ...login, deviceId: 'phone-1' });
      expect(await refused(m.refresh(b.refreshToken, undefined))).toBe('device_mismatch');
      expect(events.mismatch).toBe(2);
    });

    it('answers the same rotation run twice (a resent command) as rotated, and a second use as reuse', async () => {
      const store = f.open();
      stores.push(store);
      const now = f.now();
      const session: SessionRecord = {
        id: `s-${Math.random()}`,
        subject: 'alice',
        tenant: 'seller-a',
        scopes: ['orders:read'],
        clientId: 'sample-app',
        deviceId: undefined,
        startedAt: now,
        expiresAt: now + 3600,
      };
      const first = `h1-${session.id}`;
      await store.open(session, { familyHash: 'family', hash: first, expiresAt: now + 1200 });
      const rotation = {
        sessionId: session.id,
        familyHash: 'family',
        generation: 0,
        presentedHash: first,
        nextHash: `h2-${session.id}`,
        nextExpiresAt: now + 1200,
        deviceId: undefined,
        now,
      };
      expect((await store.rotate(rotation)).status).toBe('rotated');
      expect((await store.rotate(rotation)).status).toBe('rotated');
      expect(await store.find(session.id)).toMatchObject({ id: session.id });
      // Another family naming the session, or a generation not yet reached: not its token.
      const forged = { ...rotation, familyHash: 'guess', nextHash: `h3-${session.id}` };
      expect((await store.rotate(forged)).status).toBe('invalid');
      const ahead = { ...rotation, generation: 5, nextHash: `h3-${session.id}` };
      expect((await store.rotate(ahead)).status).toBe('invalid');
      expect(await store.find(session.id)).toMatchObject({ id: session.id });
      const again = { ...rotation, nextHash: `h3-${session.id}` };
      expect((await store.rotate(again)).status).toBe('reused');
      expect(await store.find(session.id)).toBeUndefined();
    });

    it('refuses a token that names a live session with another family secret, and revokes nothing', async () => {
      const m = manager();
      const pair = await m.login(login);
      const [sid, generation, , nonce] = pair.refreshToken.split('.');
      // What anyone who saw an access token (its sid) could send: any family, any generation.
      for (const forged of [
        `${sid}.0.${'A'.repeat(43)}.${nonce}`,
        `${sid}.${generation}.${'B'.repeat(43)}.${'C'.repeat(43)}`,
      ]) {
        expect(await refused(m.refresh(forged, undefined))).toBe('invalid');
      }
      expect(events.reuse).toBe(0);
      expect(await refused(m.refresh(pair.refreshToken, undefined))).toBe('accepted');
    });

    it('detects the reuse of any earlier token of a session, the first as much as the last', async () => {
      const m = manager();
      const issued = [await m.login(login)];
      for (let i = 0; i < 30; i++) {
        issued.push(await m.refresh(issued[issued.length - 1].refreshToken, undefined));
      }
      expect(await refused(m.refresh(issued[0].refreshToken, undefined))).toBe('reused');
      expect(await refused(m.refresh(issued[30].refreshToken, undefined))).toBe('invalid');
      const other = [await m.login(login)];
      other.push(await m.refresh(other[0].refreshToken, undefined));
      other.push(await m.refresh(other[1].refreshToken, undefined));
      expect(await refused(m.refresh(other[1].refreshToken, undefined))).toBe('reused');
      expect(events.reuse).toBe(2);
    });

    it('keeps one entry per session however often it refreshes, and still knows its first token (20,000 refreshes)', async () => {
      const store = f.open();
      const m = manager(store);
      const first = await m.login(login);
      const [, , family] = first.refreshToken.split('.');
      // The rotations themselves, without signing an access token for each: what a store holds.
      const rotation = (generation: number, presentedHash: string) => ({
        sessionId: first.session.id,
        familyHash: hashRefreshToken(family),
        generation,
        presentedHash,
        nextHash: `hash-${generation + 1}`,
        nextExpiresAt: f.now() + 1200,
        deviceId: undefined,
        now: f.now(),
      });
      let presented = hashRefreshToken(first.refreshToken);
      let early: { entries: number; bytes?: number } | undefined;
      const statuses = new Set<string>();
      for (let generation = 0; generation < 20_000; generation++) {
        statuses.add((await store.rotate(rotation(generation, presented))).status);
        presented = `hash-${generation + 1}`;
        if (generation === 100) early = await f.footprint();
      }
      expect(statuses).toEqual(new Set(['rotated']));
      const late = await f.footprint();
      expect(early?.entries).toBe(1);
      expect(late.entries).toBe(1);
      // The generation counter's digits are all that grows (from 3 to 5 of them).
      if (early?.bytes !== undefined) expect(late.bytes).toBeLessThanOrEqual(early.bytes + 16);
      // The very first token, 20,000 rotations back, is known for one: reuse.
      expect(await refused(m.refresh(first.refreshToken, undefined))).toBe('reused');
      expect(await store.find(first.session.id)).toBeUndefined();
    }, 120_000);

    it("keeps a bound session's DPoP key through its generations, on every instance: the same key refreshes, another or none revokes it", async () => {
      const KEY = 'thumbprint-of-the-client-key';
      const m = manager();
      let pair = await m.login({ ...login, jkt: KEY });
      expect(pair.session.jkt).toBe(KEY);
      expect(pair.access.claims.cnf).toEqual({ jkt: KEY });
      // Each refresh through another instance (connection) of the store: the binding is the
      // store's, not the memory of one manager.
      for (let i = 0; i < 5; i++) {
        pair = await manager(f.open()).refresh(pair.refreshToken, undefined, KEY);
        expect(pair.session.jkt).toBe(KEY);
        expect(pair.access.claims.cnf).toEqual({ jkt: KEY });
        expect(pair.refreshToken).toMatch(new RegExp(`\\.${i + 1}\\.`));
      }
      expect((await f.open().find(pair.session.id))?.jkt).toBe(KEY);
      // The current refresh token, presented with another key: a thief's; the session ends.
      expect(await refused(manager(f.open()).refresh(pair.refreshToken, undefined, 'other'))).toBe(
        'key_mismatch',
      );
      expect(revocations.isRevoked({ iss: ISSUER, sid: pair.session.id })).toBe(true);
      expect(await f.open().find(pair.session.id)).toBeUndefined();
      expect(await refused(m.refresh(pair.refreshToken, undefined, KEY))).toBe('invalid');
      // Without any proof: the same.
      const again = await m.login({ ...login, jkt: KEY });
      const next = await m.refresh(again.refreshToken, undefined, KEY);
      expect(await refused(m.refresh(next.refreshToken, undefined))).toBe('key_mismatch');
      expect(revocations.isRevoked({ iss: ISSUER, sid: again.session.id })).toBe(true);
      expect(events.results.filter((r) => r === 'key_mismatch')).toHaveLength(2);
    });

    it('keeps an unbound session unbound: no key is stored, and a later proof binds only the access token', async () => {
      const m = manager();
      const pair = await m.login(login);
      expect(pair.session.jkt).toBeUndefined();
      expect(pair.access.claims.cnf).toBeUndefined();
      const bound = await manager(f.open()).refresh(pair.refreshToken, undefined, 'late-key');
      expect(bound.access.claims.cnf).toEqual({ jkt: 'late-key' });
      expect((await f.open().find(pair.session.id))?.jkt).toBeUndefined();
      const plain = await m.refresh(bound.refreshToken, undefined);
      expect(plain.access.claims.cnf).toBeUndefined();
    });

    it("renews a bound session's token bound to its key only", async () => {
      const KEY = 'thumbprint-of-the-client-key';
      const m = manager();
      const pair = await m.login({ ...login, jkt: KEY });
      const renewed = await manager(f.open()).renew(principalOf(pair));
      expect(renewed?.claims.cnf).toEqual({ jkt: KEY });
      // A token of the session that is not bound to its key (forged claims aside): never renewed.
      const unbound = principalFromClaims({ ...pair.access.claims, cnf: undefined });
      expect(await m.renew(unbound)).toBeUndefined();
      const otherKey = principalFromClaims({ ...pair.access.claims, cnf: { jkt: 'other' } });
      expect(await m.renew(otherKey)).toBeUndefined();
    });

    it('lets exactly one of two racing refreshes with the same token win', async () => {
      const first = await manager().login(login);
      const results = await Promise.all([
        refused(manager(f.open()).refresh(first.refreshToken, undefined)),
        refused(manager(f.open()).refresh(first.refreshToken, undefined)),
      ]);
      expect(results.filter((r) => r === 'accepted')).toHaveLength(1);
      expect(results).toContain('reused');
    });

    it('refuses unknown tokens without revoking anything', async () => {
      const m = manager();
      const pair = await m.login(login);
      for (const token of [
        'not-a-token',
        'A'.repeat(43),
        `${pair.session.id}.0`,
        `${pair.refreshToken}x`,
        `${pair.refreshToken}.${pair.refreshToken}`,
        pair.access.token,
        pair.refreshToken.replace(/\.0\./, '.1000000000.'),
        pair.refreshToken.replace(/\.0\./, '.-1.'),
        pair.refreshToken.replace(/\.0\./, '.00.'),
        'x'.repeat(100_000),
        '\u0000\ufffd\ud800',
      ]) {
        expect(await refused(m.refresh(token, undefined))).toBe('invalid');
      }
      expect(events.reuse + events.mismatch).toBe(0);
    });

    it('never extends a session past its absolute limit', async () => {
      const m = manager(f.open(), 3);
      const first = await m.login(login);
      expect(first.access.claims.exp).toBeLessThanOrEqual(first.session.startedAt + 3);
      await f.advance(1.1);
      const second = await m.refresh(first.refreshToken, undefined);
      expect(second.access.claims.exp).toBeLessThanOrEqual(first.session.expiresAt);
      await f.advance(2.5);
      expect(await refused(m.refresh(second.refreshToken, undefined))).toBe('invalid');
    });

    const principalOf = (pair: TokenPair): Principal => principalFromClaims(pair.access.claims);

    it("renews a session token of this issuer only, with the session's own claims", async () => {
      const m = manager();
      const pair = await m.login(login);
      const renewed = await m.renew(principalOf(pair));
      expect(renewed?.claims).toMatchObject({ sub: 'alice', sid: pair.session.id });
      expect(renewed?.claims.jti).not.toBe(pair.access.claims.jti);
      // Another trusted issuer's token naming this session: not ours to renew.
      const foreign = { ...principalOf(pair), issuer: 'https://elsewhere.test' };
      expect(await m.renew(foreign)).toBeUndefined();
      // Claims the presented token carries beyond the session's grant are not carried over.
      const inflated = {
        ...principalOf(pair),
        scopes: ['orders:read', 'admin'],
        tenant: 'seller-b',
        clientId: 'other-app',
      };
      expect((await m.renew(inflated))?.claims).toMatchObject({
        scope: 'orders:read',
        tid: 'seller-a',
        client_id: 'sample-app',
      });
    });

    it('logout revokes the access token and ends the session', async () => {
      const m = manager();
      const pair = await m.login(login);
      await m.logout(principalOf(pair));
      expect(revocations.isRevoked({ iss: ISSUER, jti: pair.access.claims.jti })).toBe(true);
      expect(revocations.isRevoked({ iss: ISSUER, sid: pair.session.id })).toBe(true);
      expect(await refused(m.refresh(pair.refreshToken, undefined))).toBe('invalid');
    });

    it("revokes its own issuer's ids only, and ends no session for another issuer's token", async () => {
      const m = manager();
      const ELSEWHERE = 'https://elsewhere.test';
      const pair = await m.login(login);
      // Another trusted issuer's token that happens to name this session's sid.
      await m.logout({ ...principalOf(pair), issuer: ELSEWHERE });
      expect(await refused(m.refresh(pair.refreshToken, undefined))).toBe('accepted');
      expect(revocations.isRevoked({ iss: ISSUER, sid: pair.session.id, jti: 'x' })).toBe(false);
      // This issuer's logout: its jti and sid, not another issuer's equal ones.
      const again = await m.login(login);
      await m.logout(principalOf(again));
      const { jti } = again.access.claims;
      expect(revocations.isRevoked({ iss: ISSUER, jti, sid: again.session.id })).toBe(true);
      expect(revocations.isRevoked({ iss: ELSEWHERE, jti, sid: again.session.id })).toBe(false);
    });

    it('a logout the session store fails revokes nothing, so the client can retry it', async () => {
      const store = f.open();
      const revoke = store.revoke.bind(store);
      let failures = 1;
      store.revoke = (sessionId) =>
        failures-- > 0 ? Promise.reject(new Error('store unavailable')) : revoke(sessionId);
      const m = manager(store);
      const pair = await m.login(login);
      await expect(m.logout(principalOf(pair))).rejects.toThrow('store unavailable');
      expect(revocations.isRevoked({ iss: ISSUER, jti: pair.access.claims.jti })).toBe(false);
      expect(revocations.isRevoked({ iss: ISSUER, sid: pair.session.id })).toBe(false);
      await m.logout(principalOf(pair));
      expect(revocations.isRevoked({ iss: ISSUER, jti: pair.access.claims.jti })).toBe(true);
      expect(await refused(m.refresh(pair.refreshToken, undefined))).toBe('invalid');
    });
  });
}
