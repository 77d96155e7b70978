import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidTokenError } from '../../lib/errors/auth-errors.js';
import type { JwksFetchEvent } from '../../lib/keys/jwks-client.js';
import { resolveAuthOptions } from '../../lib/options/resolve-auth-options.js';
import { createTokenVerifier } from '../../lib/options/create-token-verifier.js';
import type { TokenVerifier } from '../../lib/verify/token-verifier.js';
import { AUDIENCE, ISSUER } from '../support/forged-tokens.js';
import type { Jwk } from '../../lib/keys/jwk.js';
import { JwksServer } from '../support/jwks-server.js';
import { makeKey, validToken } from '../support/keys.js';

const START = 1_700_000_000;
const COOLDOWN = 5;

describe('JWKS retrieval against a local JWKS endpoint', () => {
  let server: JwksServer;
  let clock: number;
  let fetches: JwksFetchEvent[];
  let verifier: TokenVerifier;
  const first = makeKey('ES256');

  const verifierWith = (timeoutMs: number) => {
    const events: JwksFetchEvent[] = [];
    fetches = events;
    return createTokenVerifier(
      resolveAuthOptions({
        issuers: [{ issuer: ISSUER, jwksUri: server.uri }],
        audience: AUDIENCE,
        now: () => clock,
        verifiedTokenCacheSize: 0,
        jwks: { cacheTtlSeconds: 600, cooldownSeconds: COOLDOWN, timeoutMs },
        events: { jwksFetched: (event) => events.push(event) },
      }),
    );
  };

  beforeEach(async () => {
    server = await new JwksServer().start();
    server.keys = [first.publicJwk];
    clock = START;
    verifier = verifierWith(3000);
  });
  afterEach(() => server.stop());

  const reasonOf = (token: string) =>
    Promise.resolve()
      .then(() => verifier.verify(token))
      .then(
        () => 'accepted',
        (error: InvalidTokenError) => error.reason,
      );

  it('fetches once, then verifies from the cache', async () => {
    for (let i = 0; i < 5; i++) await verifier.verify(validToken(first, clock));
    expect(server.fetches).toBe(1);
    expect(fetches).toMatchObject([{ ok: true, cause: 'initial', keyCount: 1, issuer: ISSUER }]);
  });

  it('answers with a promise while it fetches a key, synchronously once the key is cached', async () => {
    const fetching = verifier.verify(validToken(first, clock));
    expect(fetching).toBeInstanceOf(Promise);
    expect((await fetching).subject).toBe('alice');
    expect(verifier.verify(validToken(first, clock))).not.toBeInstanceOf(Promise);
  });

  it('picks up a rotated key when a token names an unknown kid', async () => {
    await verifier.verify(validToken(first, clock));
    const next = makeKey('EdDSA');
    server.keys = [first.publicJwk, next.publicJwk];
    clock += COOLDOWN;
    await expect(async () => verifier.verify(validToken(next, clock))).resolves.toMatchObject({
      subject: 'alice',
    });
    expect(server.fetches).toBe(2);
    expect(fetches[1]).toMatchObject({ ok: true, cause: 'unknown_kid', keyCount: 2 });
  });

  it('lets a flood of 200 random kids cause at most one fetch per cooldown', async () => {
    await verifier.verify(validToken(first, clock));
    const flood = () =>
      Promise.all(
        Array.from({ length: 200 }, () =>
          reasonOf(validToken({ ...first, kid: randomBytes(8).toString('hex') }, clock)),
        ),
      );
    clock += COOLDOWN;
    expect(new Set(await flood())).toEqual(new Set(['unknown_kid']));
    expect(server.fetches).toBe(2);
    clock += 1;
    await flood();
    expect(server.fetches).toBe(2);
    clock += COOLDOWN;
    await flood();
    expect(server.fetches).toBe(3);
  });

  it('keeps serving cached keys while the endpoint is down, and recovers when it is back', async () => {
    await verifier.verify(validToken(first, clock));
    await server.stop();
    clock += 700; // past the cache TTL: a refresh is attempted and fails
    await expect(async () => verifier.verify(validToken(first, clock))).resolves.toMatchObject({
      subject: 'alice',
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fetches.at(-1)).toMatchObject({ ok: false, cause: 'expired' });
    await expect(async () => verifier.verify(validToken(first, clock))).resolves.toMatchObject({
      subject: 'alice',
    });

    const next = makeKey('RS256');
    server.keys = [next.publicJwk];
    await server.restart();
    clock += COOLDOWN;
    expect(await reasonOf(validToken(next, clock))).toBe('accepted');
    expect(fetches.at(-1)).toMatchObject({ ok: true, keyCount: 1 });
  });

  it('refuses with keys_unavailable while no key set was ever fetched', async () => {
    await server.stop();
    expect(await reasonOf(validToken(first, clock))).toBe('keys_unavailable');
    expect(fetches).toMatchObject([{ ok: false, cause: 'initial' }]);
  });

  it('abandons a fetch that takes longer than the time-out', async () => {
    verifier = verifierWith(300);
    server.delayMs = 5_000;
    const started = Date.now();
    expect(await reasonOf(validToken(first, clock))).toBe('keys_unavailable');
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(fetches[0].error?.name).toMatch(/TimeoutError|AbortError/);
  });

  it('honours a shorter Cache-Control max-age', async () => {
    server.cacheControl = 'public, max-age=30';
    await verifier.verify(validToken(first, clock));
    clock += 29;
    await verifier.verify(validToken(first, clock));
    expect(server.fetches).toBe(1);
    clock += 2;
    await verifier.verify(validToken(first, clock));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.fetches).toBe(2);
    expect(fetches[1]).toMatchObject({ ok: true, cause: 'expired' });
  });

  it('skips keys it must not use and reports them', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      format: 'jwk',
    });
    server.keys = [
      first.publicJwk,
      { ...weak, kid: 'weak', alg: 'RS256' },
      { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac', alg: 'HS256' },
      { ...makeKey('ES256').publicJwk, kid: 'enc', use: 'enc' },
      { ...makeKey('ES256').publicJwk, kid: 'liar', alg: 'RS256' },
      { ...makeKey('ES256').publicJwk, kid: 'wrap', key_ops: ['wrapKey'] },
      { ...makeKey('ES256').publicJwk, kid: 'ops', key_ops: ['verify'] },
      null as unknown as Jwk,
      'a string' as unknown as Jwk,
    ];
    await verifier.verify(validToken(first, clock));
    expect(fetches[0].keyCount).toBe(2);
    expect(fetches[0].skipped).toHaveLength(7);
    expect(fetches[0].skipped?.join('\n')).toContain('key wrap is not for "verify" (key_ops)');
  });

  it('stops reading a JWKS document past its size limit, without waiting for its end', async () => {
    // An endpoint that never stops sending.
    const endless = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"keys":[');
      const chunk = `"${'x'.repeat(64 * 1024)}",`;
      const timer = setInterval(() => res.write(chunk), 1);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    const { port } = endless.address() as AddressInfo;
    const events: JwksFetchEvent[] = [];
    const v = createTokenVerifier(
      resolveAuthOptions({
        issuers: [{ issuer: ISSUER, jwksUri: `http://127.0.0.1:${port}/jwks.json` }],
        audience: AUDIENCE,
        now: () => clock,
        jwks: { timeoutMs: 20_000 },
        events: { jwksFetched: (event) => events.push(event) },
      }),
    );
    try {
      await expect(async () => v.verify(validToken(first, clock))).rejects.toMatchObject({
        reason: 'keys_unavailable',
      });
      expect(events[0]).toMatchObject({ ok: false });
      // Not the time-out's error: the size limit ended the read.
      expect(events[0].error?.message).toBe('JWKS document too large');
    } finally {
      endless.closeAllConnections();
      await new Promise((resolve) => endless.close(resolve));
    }
  });
});
