import { describe, expect, it } from '@jest/globals';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthConfigError } from '../errors/auth-errors.js';
import { SIGNING_ALGORITHMS } from '../keys/algorithms.js';
import { resolveAuthOptions } from '../options/resolve-auth-options.js';
import { createTokenVerifier } from '../options/create-token-verifier.js';
import { generateSigningJwk, KeyRing } from './key-ring.js';
import { TokenIssuer } from './token-issuer.js';

const NOW = 1_700_000_000;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

function issuerWith(ring: KeyRing) {
  return new TokenIssuer({
    issuer: 'https://auth.test',
    audience: 'orders-api',
    keyRing: ring,
    now: () => NOW,
  });
}

function verifierFor(ring: KeyRing) {
  return createTokenVerifier(
    resolveAuthOptions({
      issuers: [{ issuer: 'https://auth.test', keys: ring.publicJwks().keys }],
      audience: 'orders-api',
      now: () => NOW,
    }),
  );
}

describe('TokenIssuer and KeyRing', () => {
  it.each(SIGNING_ALGORITHMS)('signs %s access tokens that the verifier accepts', async (alg) => {
    const ring = KeyRing.fromJwks({ keys: [generateSigningJwk(alg)] });
    const { token, expiresIn, claims } = issuerWith(ring).issueAccessToken({
      subject: 'alice',
      scopes: ['orders:read'],
      clientId: 'sample-app',
      tenant: 'seller-a',
      sessionId: 's-1',
    });
    expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString())).toEqual({
      alg,
      kid: ring.active.kid,
      typ: 'at+jwt',
    });
    expect(expiresIn).toBe(900);
    expect(claims).toMatchObject({
      iss: 'https://auth.test',
      aud: 'orders-api',
      iat: NOW,
      exp: NOW + 900,
      sid: 's-1',
    });
    await expect(async () => verifierFor(ring).verify(token)).resolves.toMatchObject({
      subject: 'alice',
      tenant: 'seller-a',
      scopes: ['orders:read'],
      sessionId: 's-1',
      clientId: 'sample-app',
    });
  });

  it('leaves sid and tid out when there are none, and gives each token a new jti', () => {
    const issuer = issuerWith(KeyRing.ephemeral());
    const request = { subject: 'reports-job', scopes: ['orders:read'], clientId: 'reports-job' };
    const a = issuer.issueAccessToken(request).claims;
    const b = issuer.issueAccessToken(request).claims;
    expect(a).not.toHaveProperty('sid');
    expect(a).not.toHaveProperty('tid');
    expect(a.jti).not.toBe(b.jti);
  });

  it('never issues past notAfter (the session limit)', () => {
    const issuer = issuerWith(KeyRing.ephemeral());
    const base = { subject: 'alice', scopes: [], clientId: 'sample-app' };
    expect(issuer.issueAccessToken({ ...base, notAfter: NOW + 60 }).expiresIn).toBe(60);
    expect(() => issuer.issueAccessToken({ ...base, notAfter: NOW })).toThrow(RangeError);
  });

  it('publishes public members only, with kid, alg and use', () => {
    const ring = KeyRing.fromJwks(
      { keys: SIGNING_ALGORITHMS.map((alg) => generateSigningJwk(alg)) },
      undefined,
    );
    const published = ring.publicJwks().keys;
    expect(published).toHaveLength(SIGNING_ALGORITHMS.length);
    for (const jwk of published) {
      expect(jwk).toMatchObject({ use: 'sig' });
      expect(typeof jwk.kid).toBe('string');
      for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
    }
  });

  it('signs with the key AUTH_ACTIVE_KID names', () => {
    const keys = [generateSigningJwk('ES256', 'one'), generateSigningJwk('EdDSA', 'two')];
    expect(KeyRing.fromJwks({ keys }).active.kid).toBe('one');
    expect(KeyRing.fromJwks({ keys }, { activeKid: 'two' }).active).toEqual({
      kid: 'two',
      alg: 'EdDSA',
    });
  });

  it('signs with a key whose key_ops allow "sign", and publishes it without them', () => {
    const ring = KeyRing.fromJwks({
      keys: [{ ...generateSigningJwk('EdDSA', 'ops'), key_ops: ['sign'] }],
    });
    expect(ring.active.kid).toBe('ops');
    expect(ring.publicJwks().keys[0]).not.toHaveProperty('key_ops');
  });

  it.each([
    ['an empty key set', { keys: [] }, undefined, /no keys/],
    [
      'a public key only',
      { keys: [{ ...generateSigningJwk('ES256'), d: undefined }] },
      undefined,
      /private/,
    ],
    [
      'an unknown active kid',
      { keys: [generateSigningJwk('ES256')] },
      'nope',
      /no key with kid nope/,
    ],
    [
      'duplicate kids',
      { keys: [generateSigningJwk('ES256', 'a'), generateSigningJwk('ES256', 'a')] },
      undefined,
      /duplicate/,
    ],
    [
      'an HMAC key',
      { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'h', alg: 'HS256' }] },
      undefined,
      /unsupported/,
    ],
    [
      'a key whose key_ops leave out "sign"',
      { keys: [{ ...generateSigningJwk('ES256'), key_ops: ['verify'] }] },
      undefined,
      /key_ops/,
    ],
  ])('refuses %s with an AuthConfigError', (_name, jwks, active, message) => {
    expect(() => KeyRing.fromJwks(jwks as never, { activeKid: active })).toThrow(AuthConfigError);
    expect(() => KeyRing.fromJwks(jwks as never, { activeKid: active })).toThrow(message);
  });

  it('loads a JWKS file and says which file it cannot read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keys-'));
    const file = join(dir, 'signing-keys.json');
    await writeFile(file, JSON.stringify({ keys: [generateSigningJwk('PS256', 'ps')] }));
    expect((await KeyRing.fromFile(file)).active).toEqual({ kid: 'ps', alg: 'PS256' });
    await writeFile(file, '{not json');
    await expect(KeyRing.fromFile(file)).rejects.toThrow(/signing-keys.json is not valid JSON/);
    await expect(KeyRing.fromFile(join(dir, 'absent.json'))).rejects.toThrow(
      /cannot read .*absent.json/,
    );
  });

  it('never quotes a broken key file in its error: the text around the fault is key material', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keys-'));
    const file = join(dir, 'signing-keys.json');
    const jwk = generateSigningJwk('EdDSA', 'ed');
    const text = JSON.stringify({ keys: [jwk] }, null, 2);
    // The opening quote of "d" dropped: the parser's own message would quote the key around it.
    await writeFile(file, text.replace(`"d": "${jwk.d}"`, `"d": ${jwk.d}"`));
    const error = await KeyRing.fromFile(file).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(AuthConfigError);
    for (let i = 0; i + 6 <= jwk.d!.length; i++) {
      expect(error?.message).not.toContain(jwk.d!.slice(i, i + 6));
    }
  });
});
