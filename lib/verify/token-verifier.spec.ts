import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { InvalidTokenError } from '../errors/auth-errors.js';
import type { AuthModuleOptions } from '../options/auth-options.js';
import { resolveAuthOptions } from '../options/resolve-auth-options.js';
import { tripwire } from '../../test/support/jwks-server.js';
import {
  AUDIENCE,
  forgedTokens,
  ISSUER,
  makeForgeryKeys,
  OTHER_ISSUER,
  type ForgeryKeys,
} from '../../test/support/forged-tokens.js';
import { b64url, forge, makeKey, validClaims, validToken } from '../../test/support/keys.js';
import { importVerificationKey } from '../keys/jwk.js';
import type { KeySource } from '../keys/key-source.js';
import { createTokenVerifier } from '../options/create-token-verifier.js';
import type { TokenVerifier } from './token-verifier.js';

const NOW = 1_700_000_000;
let clock = NOW;
const keys: ForgeryKeys = makeForgeryKeys();

function verifier(
  overrides: Pick<AuthModuleOptions, 'verifiedTokenCacheSize' | 'events'> = {},
): TokenVerifier {
  return createTokenVerifier(
    resolveAuthOptions({
      issuers: [
        {
          issuer: ISSUER,
          keys: [keys.rs.publicJwk, keys.ps.publicJwk, keys.es.publicJwk, keys.ed.publicJwk],
        },
        { issuer: OTHER_ISSUER, keys: [keys.other.publicJwk] },
      ],
      audience: AUDIENCE,
      now: () => clock,
      ...overrides,
    }),
  );
}

async function reasonOf(v: TokenVerifier, token: string): Promise<string> {
  try {
    await v.verify(token);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTokenError);
    return (error as InvalidTokenError).reason;
  }
  return 'accepted';
}

describe('TokenVerifier', () => {
  let wire: Awaited<ReturnType<typeof tripwire>>;
  beforeAll(async () => (wire = await tripwire()));
  afterAll(() => wire.close());

  it.each(['rs', 'ps', 'es', 'ed'] as const)(
    'accepts a valid %s token and reads the principal',
    async (name) => {
      const key = keys[name];
      const principal = await verifier().verify(validToken(key, NOW, { jti: 'j-1' }));
      expect(principal).toMatchObject({
        subject: 'alice',
        tenant: 'seller-a',
        scopes: ['orders:read', 'orders:create'],
        sessionId: 'session-1',
        clientId: 'sample-app',
        tokenId: 'j-1',
        issuer: ISSUER,
        issuedAt: NOW,
        expiresAt: NOW + 300,
      });
      expect(principal.claims.aud).toBe(AUDIENCE);
    },
  );

  it('gives tokens with the same scope claim one shared, frozen list of scopes', async () => {
    const v = verifier();
    const scopesOf = async (jti: string, scope: string) =>
      (await v.verify(validToken(keys.ed, NOW, { jti, scope }))).scopes;
    const first = await scopesOf('j-1', 'orders:read  orders:create');
    const second = await scopesOf('j-2', 'orders:read  orders:create');
    const other = await scopesOf('j-3', 'orders:read');
    expect(first).toEqual(['orders:read', 'orders:create']);
    expect(second).toBe(first);
    expect(other).toEqual(['orders:read']);
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => (first as string[]).push('admin:write')).toThrow(TypeError);
    expect(await scopesOf('j-4', 'orders:read  orders:create')).toEqual([
      'orders:read',
      'orders:create',
    ]);
  });

  it('accepts the tokens of the other trusted issuer with its own key', async () => {
    const token = validToken(keys.other, NOW, { iss: OTHER_ISSUER });
    expect((await verifier().verify(token)).issuer).toBe(OTHER_ISSUER);
  });

  it.each([
    ['typ application/at+jwt', { typ: 'application/at+jwt' }, {}],
    ['typ in upper case', { typ: 'AT+JWT' }, {}],
    ['aud as an array that contains ours', {}, { aud: ['billing-api', AUDIENCE] }],
    ['exp passed but within the clock tolerance', {}, { exp: NOW - 4 }],
    ['nbf ahead but within the clock tolerance', {}, { nbf: NOW + 4 }],
    ['no tid, scope or sid', {}, { tid: undefined, scope: undefined, sid: undefined }],
  ])('accepts %s', async (_name, header, claims) => {
    const k = keys.es;
    const token = forge(
      { alg: k.alg, kid: k.kid, typ: 'at+jwt', ...header },
      validClaims(NOW, claims),
      { key: k },
    );
    await expect(async () => verifier().verify(token)).resolves.toMatchObject({ subject: 'alice' });
  });

  describe('refuses forged and broken tokens, each for its reason', () => {
    const rows = () => forgedTokens(keys, NOW, wire.url);
    it('covers every row of the table', () => {
      expect(rows().length).toBeGreaterThan(40);
    });
    it.each(
      forgedTokens(keys, NOW, 'http://127.0.0.1:9/unused').map((r) => [r.name, r.reason] as const),
    )('%s → %s', async (name, reason) => {
      const row = rows().find((r) => r.name === name)!;
      expect(await reasonOf(verifier(), row.token)).toBe(reason);
    });
    it('never contacts a jku or x5u location', async () => {
      for (const row of rows()) await reasonOf(verifier(), row.token);
      expect(wire.hits()).toBe(0);
    });
  });

  it('refuses a value that is not a string as malformed, not with a crash', async () => {
    expect(await reasonOf(verifier(), 42 as unknown as string)).toBe('malformed');
    expect(await reasonOf(verifier(), '')).toBe('malformed');
    expect(await reasonOf(verifier(), 'ä.ö.ü')).toBe('malformed');
  });

  it('refuses characters that base64 decoding would skip or misread, though the bytes verify', async () => {
    const token = validToken(keys.rs, NOW);
    const at = token.lastIndexOf('.') + 1;
    const respell = (replacement: string) =>
      `${token.slice(0, at)}${replacement}${token.slice(at + 1)}`;
    // Node's decoder reads a character beyond Latin-1 by its low byte (U+0141 as 'A') and skips
    // whitespace: both spellings decode to the signature's own bytes.
    const wide = String.fromCharCode(0x100 + token.charCodeAt(at));
    expect(Buffer.from(respell(wide).slice(at), 'base64url')).toEqual(
      Buffer.from(token.slice(at), 'base64url'),
    );
    expect(await reasonOf(verifier(), respell(wide))).toBe('malformed');
    expect(await reasonOf(verifier(), respell(`\n${token[at]}`))).toBe('malformed');
    expect(await verifier().verify(token)).toMatchObject({ issuer: ISSUER });
  });

  describe('verified-token cache', () => {
    it('answers a repeated token without a second signature check, as the same principal', async () => {
      const v = verifier();
      const token = validToken(keys.rs, NOW);
      const first = await v.verify(token);
      expect(await v.verify(token)).toBe(first);
    });

    it('never serves a cached token past its exp', async () => {
      const v = verifier();
      const token = validToken(keys.es, NOW, { exp: NOW + 60 });
      await v.verify(token);
      clock = NOW + 66;
      try {
        expect(await reasonOf(v, token)).toBe('expired');
      } finally {
        clock = NOW;
      }
    });

    it('is bounded, dropping the oldest entry first', async () => {
      const v = verifier({ verifiedTokenCacheSize: 2 });
      const tokens = [1, 2, 3].map(() => validToken(keys.ed, NOW));
      const principals = [];
      for (const t of tokens) principals.push(await v.verify(t));
      expect(await v.verify(tokens[2])).toBe(principals[2]);
      expect(await v.verify(tokens[0])).not.toBe(principals[0]);
    });

    it('verifies a cached token anew once its kid names other key material, and keeps it over an equal key', async () => {
      const compromised = makeKey('ES256', 'k1');
      let published = compromised.publicJwk;
      // A key source as a JWKS refresh leaves it: new key objects every time it is read.
      const keySource: KeySource = {
        ready: true,
        cachedKey: (kid) => (kid === 'k1' ? importVerificationKey(published) : undefined),
        key: async (kid) => keySource.cachedKey(kid),
      };
      const checks: boolean[] = [];
      const v = createTokenVerifier(
        resolveAuthOptions({
          issuers: [{ issuer: ISSUER, keySource }],
          audience: AUDIENCE,
          now: () => clock,
          events: { tokenVerified: ({ cached }) => checks.push(cached) },
        }),
      );
      const stolen = validToken(compromised, NOW);
      const first = await v.verify(stolen);
      expect(await v.verify(stolen)).toBe(first);
      expect(checks).toEqual([false, true]);
      // The issuer answers the compromise with new material under the same kid.
      published = makeKey('ES256', 'k1').publicJwk;
      expect(await reasonOf(v, stolen)).toBe('bad_signature');
    });

    it('caches nothing when turned off', async () => {
      const v = verifier({ verifiedTokenCacheSize: 0 });
      const token = validToken(keys.es, NOW);
      expect(await v.verify(token)).not.toBe(await v.verify(token));
    });
  });
});

describe('verified-token cache keys', () => {
  it('never answers a token with another token of the same length and signature', async () => {
    const v = verifier();
    const token = validToken(keys.es, NOW, { scope: 'orders:read' });
    await v.verify(token);
    const [, , signature] = token.split('.');
    // Same length and same tail as the cached token, so the same cache key: only the exact
    // comparison tells them apart.
    const twin = `${b64url({ alg: 'ES256', kid: keys.es.kid, typ: 'at+jwt' })}.${b64url(
      validClaims(NOW, { scope: 'admin:write' }),
    )}.${signature}`;
    expect(twin).toHaveLength(token.length);
    expect(twin).not.toBe(token);
    expect(() => v.verify(twin)).toThrow(expect.objectContaining({ reason: 'bad_signature' }));
    expect((await v.verify(token)).scopes).toEqual(['orders:read']);
  });
});

describe('synchronous answers', () => {
  it('verifies and refuses without a promise when the key is at hand', () => {
    const v = verifier();
    const token = validToken(keys.ed, NOW);
    const first = v.verify(token);
    expect(first).not.toBeInstanceOf(Promise);
    expect(v.verify(token)).toBe(first);
    expect(() => v.verify(validToken(keys.ed, NOW - 3600))).toThrow(
      expect.objectContaining({ reason: 'expired' }),
    );
  });
});

describe('event listeners', () => {
  it('cannot turn a valid token into a refusal by throwing', async () => {
    const v = verifier({
      events: {
        tokenVerified: () => {
          throw new Error('a broken metrics sink');
        },
      },
    });
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      await expect(async () => v.verify(validToken(keys.es, NOW))).resolves.toMatchObject({
        subject: 'alice',
      });
    } finally {
      warn.mockRestore();
    }
  });
});
