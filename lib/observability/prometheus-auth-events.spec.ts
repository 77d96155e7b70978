import { beforeEach, describe, expect, it } from '@jest/globals';
import { Counter, register, Registry } from 'prom-client';
import { AuthConfigError, InvalidTokenError, MissingTokenError } from '../errors/auth-errors.js';
import { KeyRing } from '../issue/key-ring.js';
import { TokenIssuer } from '../issue/token-issuer.js';
import { resolveAuthOptions } from '../options/resolve-auth-options.js';
import { MemoryRevocationStore } from '../revocation/memory-revocation-store.js';
import { RevocationChecker } from '../revocation/revocation-checker.js';
import { MemorySessionStore } from '../session/memory-session-store.js';
import { SessionManager } from '../session/session-manager.js';
import { createTokenVerifier } from '../options/create-token-verifier.js';
import { makeKey, forge, validClaims } from '../../test/support/keys.js';
import { prometheusAuthEvents, TesseraMetricNames } from './prometheus-auth-events.js';

const NOW = 1_700_000_000;
const ISSUER = 'https://auth.test';
const AUDIENCE = 'orders-api';
const now = () => NOW;

/** `registry.metrics()` as `name{label="value",...}` (labels sorted) → value. */
async function scrape(registry: Registry): Promise<Map<string, number>> {
  const series = new Map<string, number>();
  for (const line of (await registry.metrics()).split('\n')) {
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, name, value]) => `${name}="${value}"`)
      .sort();
    series.set(`${match[1]}{${labels.join(',')}}`, Number(match[3]));
  }
  return series;
}

/** An application's pieces, wired to one set of Prometheus events, as AuthModule wires them. */
function application(registry: Registry) {
  const events = prometheusAuthEvents(registry);
  const keyRing = KeyRing.ephemeral('ES256');
  const issuer = new TokenIssuer({ issuer: ISSUER, audience: AUDIENCE, keyRing, now });
  const revocations = new MemoryRevocationStore({ now });
  const verifier = createTokenVerifier(
    resolveAuthOptions({
      issuers: [{ issuer: ISSUER, keys: keyRing.publicJwks().keys }],
      audience: AUDIENCE,
      now,
      events,
    }),
  );
  const checker = new RevocationChecker(
    revocations,
    { standard: 'fail-open', sensitive: 'fail-closed' },
    events,
  );
  const sessions = new SessionManager({
    issuer,
    sessions: new MemorySessionStore(now),
    revocations,
    refreshTokenTtlSeconds: 3600,
    sessionMaxAgeSeconds: 86_400,
    events,
    now,
  });
  const authenticate = async (token: string) =>
    checker.check(await verifier.verify(token), 'standard');
  return { events, keyRing, sessions, authenticate };
}

const login = { subject: 'alice', scopes: ['orders:read'], clientId: 'sample-app', tenant: 't-1' };

describe('prometheusAuthEvents', () => {
  let registry: Registry;
  let app: ReturnType<typeof application>;
  beforeEach(() => {
    registry = new Registry();
    app = application(registry);
  });

  it('starts the contract counters at zero', async () => {
    const series = await scrape(registry);
    for (const name of [
      'tessera_token_verifications_total{reason="none",result="success"}',
      'tessera_revocation_hits_total{}',
      'tessera_token_renewals_total{result="renewed"}',
      'tessera_token_renewals_total{result="timeout"}',
      'tessera_throttled_requests_total{}',
      'tessera_refresh_total{result="rotated"}',
      'tessera_refresh_total{result="reused"}',
      'tessera_refresh_reuse_detected_total{}',
    ]) {
      expect([name, series.get(name)]).toEqual([name, 0]);
    }
  });

  it('counts a verified token, a forged one, a revoked one, a refresh reuse, a renewal and a throttled request', async () => {
    const pair = await app.sessions.login(login);
    await app.authenticate(pair.access.token);
    await app.authenticate(pair.access.token); // answered from the verified-token cache

    const attacker = makeKey('ES256', app.keyRing.active.kid);
    const claims = validClaims(NOW, { iss: ISSUER });
    const forged = forge({ alg: 'ES256', kid: attacker.kid, typ: 'at+jwt' }, claims, {
      key: attacker,
    });
    await expect(app.authenticate(forged)).rejects.toMatchObject({ reason: 'bad_signature' });

    const other = await app.sessions.login(login);
    await app.sessions.refresh(other.refreshToken, undefined);
    await expect(app.sessions.refresh(other.refreshToken, undefined)).rejects.toMatchObject({
      reason: 'reused',
    });
    // The reuse revoked the session: its access token is refused from then on.
    await expect(app.authenticate(other.access.token)).rejects.toMatchObject({
      reason: 'revoked',
    });

    // What the renewal interceptor and the throttler report.
    app.events.tokenRenewed?.({ result: 'renewed' });
    app.events.tokenRenewed?.({ result: 'failed', reason: 'issuer answered 503' });
    app.events.requestThrottled?.({ tracker: 'principal' });

    const series = await scrape(registry);
    expect(Object.fromEntries([...series].filter(([name]) => name.startsWith('tessera_')))).toEqual(
      expect.objectContaining({
        'tessera_token_verifications_total{reason="none",result="success"}': 3,
        'tessera_token_verifications_total{reason="bad_signature",result="failure"}': 1,
        'tessera_token_verification_duration_seconds_count{cached="false"}': 2,
        'tessera_token_verification_duration_seconds_count{cached="true"}': 1,
        'tessera_revocation_hits_total{}': 1,
        'tessera_refresh_total{result="rotated"}': 1,
        'tessera_refresh_total{result="reused"}': 1,
        'tessera_refresh_reuse_detected_total{}': 1,
        'tessera_token_renewals_total{result="renewed"}': 1,
        'tessera_token_renewals_total{result="failed"}': 1,
        'tessera_token_renewals_total{result="timeout"}': 0,
        'tessera_throttled_requests_total{}': 1,
      }),
    );
    const text = await registry.metrics();
    for (const token of [pair.access.token, forged, other.access.token, other.refreshToken]) {
      expect(text.includes(token)).toBe(false);
    }
    expect(text).not.toContain('alice');
  });

  it('counts device mismatches, refused requests, denied calls, JWKS fetches and the revocation backend', async () => {
    const pair = await app.sessions.login({ ...login, deviceId: 'laptop' });
    await expect(app.sessions.refresh(pair.refreshToken, 'phone')).rejects.toMatchObject({
      reason: 'device_mismatch',
    });
    const { events } = app;
    events.requestRejected?.({ error: new InvalidTokenError('expired') });
    events.requestRejected?.({ error: new MissingTokenError() });
    events.accessDenied?.({
      method: 'OrdersService.delete',
      error: new MissingTokenError('no_principal'),
    });
    const fetched = { uri: 'https://auth.test/jwks', cause: 'initial', durationMs: 3 } as const;
    events.jwksFetched?.({ ...fetched, ok: true, issuer: ISSUER });
    events.jwksFetched?.({ ...fetched, ok: false, issuer: ISSUER, error: new Error('503') });
    const read = { issuer: ISSUER, cause: 'start', metadataUri: 'https://auth.test/md' } as const;
    events.issuerDiscovered?.({ ...read, ok: false, durationMs: 1, error: new Error('down') });
    events.issuerDiscovered?.({ ...read, ok: true, durationMs: 1, jwksUri: 'https://auth.test/k' });
    events.breakerStateChanged?.({ state: 'open' });
    events.viewStateChanged?.({ current: false, entries: 3 });

    const series = await scrape(registry);
    expect(Object.fromEntries(series)).toEqual(
      expect.objectContaining({
        'tessera_refresh_total{result="device_mismatch"}': 1,
        'tessera_refresh_device_mismatch_detected_total{}': 1,
        'tessera_requests_rejected_total{reason="expired",status="401"}': 1,
        'tessera_requests_rejected_total{reason="missing_token",status="401"}': 1,
        'tessera_access_denied_total{reason="no_principal"}': 1,
        'tessera_jwks_fetches_total{issuer="https://auth.test",result="success"}': 1,
        'tessera_jwks_fetches_total{issuer="https://auth.test",result="failure"}': 1,
        'tessera_issuer_discoveries_total{issuer="https://auth.test",result="success"}': 1,
        'tessera_issuer_discoveries_total{issuer="https://auth.test",result="failure"}': 1,
        'tessera_revocation_breaker_state{state="open"}': 1,
        'tessera_revocation_breaker_state{state="closed"}': 0,
        'tessera_revocation_breaker_state{state="half-open"}': 0,
        'tessera_revocation_view_current{}': 0,
      }),
    );
  });

  it('reuses the metrics already in a registry, so a second call counts into the same series', async () => {
    const again = prometheusAuthEvents(registry);
    again.requestThrottled?.({ tracker: 'ip' });
    app.events.requestThrottled?.({ tracker: 'principal' });
    expect((await scrape(registry)).get('tessera_throttled_requests_total{}')).toBe(2);
  });

  it('refuses a registry that holds one of its names as another kind of metric', () => {
    const taken = new Registry();
    new Counter({
      name: TesseraMetricNames.revocationViewCurrent,
      help: 'not a gauge',
      registers: [taken],
    });
    expect(() => prometheusAuthEvents(taken)).toThrow(AuthConfigError);
  });

  it("uses prom-client's default registry when given none", async () => {
    prometheusAuthEvents().requestThrottled?.({ tracker: 'ip' });
    expect((await scrape(register)).get('tessera_throttled_requests_total{}')).toBe(1);
  });
});
