import { sign } from 'node:crypto';
import type { InvalidTokenReason } from '../../lib/errors/auth-errors.js';
import { b64url, forge, makeKey, validClaims, validToken, type TestKey } from './keys.js';

export const ISSUER = 'https://issuer.test';
export const OTHER_ISSUER = 'https://other-issuer.test';
export const AUDIENCE = 'orders-api';

/** The keys of a forged-token table: two trusted issuers and an attacker. */
export interface ForgeryKeys {
  readonly rs: TestKey;
  readonly ps: TestKey;
  readonly es: TestKey;
  readonly ed: TestKey;
  /** A key of the other trusted issuer. */
  readonly other: TestKey;
  /** A key nobody trusts. */
  readonly attacker: TestKey;
}

export function makeForgeryKeys(): ForgeryKeys {
  return {
    rs: makeKey('RS256'),
    ps: makeKey('PS256'),
    es: makeKey('ES256'),
    ed: makeKey('EdDSA'),
    other: makeKey('ES256'),
    attacker: makeKey('ES256'),
  };
}

export interface ForgedToken {
  readonly name: string;
  readonly token: string;
  readonly reason: InvalidTokenReason;
}

/**
 * One row per way of forging or breaking a token, each with the reason it must be refused for.
 * `tripwireUrl` is a listener that must never be contacted (`jku`, `x5u`).
 */
export function forgedTokens(k: ForgeryKeys, now: number, tripwireUrl: string): ForgedToken[] {
  const claims = validClaims(now);
  const header = (key: TestKey, extra: object = {}) => ({
    alg: key.alg,
    kid: key.kid,
    typ: 'at+jwt',
    ...extra,
  });
  const signed = (key: TestKey, extraHeader: object = {}, payload: object = claims) =>
    forge(header(key, extraHeader), payload, { key });
  const without = (name: string) => {
    const copy: Record<string, unknown> = { ...claims };
    delete copy[name];
    return copy;
  };
  const good = validToken(k.es, now);
  // `text` with the lowest bit of its last character's base64url value flipped.
  const withUnusedBitSet = (text: string) => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    return `${text.slice(0, -1)}${alphabet[alphabet.indexOf(text.at(-1)!) ^ 1]}`;
  };
  // A valid RS256 token whose signature segment has a '-' or '_', re-spelled with '+' and '/'.
  const respelledSignature = () => {
    for (let i = 0; ; i++) {
      const token = signed(k.rs, {}, { ...claims, jti: `${String(claims.jti)}-${i}` });
      const [input, signature] = [token.slice(0, token.lastIndexOf('.')), token.split('.')[2]];
      if (/[-_]/.test(signature)) {
        return `${input}.${signature.replaceAll('-', '+').replaceAll('_', '/')}`;
      }
    }
  };
  const [goodHeader, , goodSignature] = good.split('.');
  const pem = k.rs.publicKey.export({ format: 'pem', type: 'spki' }) as string;

  const rows: ForgedToken[] = [
    ...['none', 'None', 'NONE', 'nOnE'].map((alg) => ({
      name: `alg "${alg}" with a signature`,
      token: forge({ alg, kid: k.es.kid, typ: 'at+jwt' }, claims, { hmacSecret: 'x' }),
      reason: 'alg_not_allowed' as const,
    })),
    {
      name: 'alg "none" with an empty signature',
      token: forge({ alg: 'none', typ: 'at+jwt' }, claims, { none: true }),
      reason: 'malformed',
    },
    {
      name: 'HS256 keyed with the RSA public key as PEM',
      token: forge({ alg: 'HS256', kid: k.rs.kid, typ: 'at+jwt' }, claims, { hmacSecret: pem }),
      reason: 'alg_not_allowed',
    },
    {
      name: 'HS256 keyed with the public JWK',
      token: forge({ alg: 'HS256', kid: k.rs.kid, typ: 'at+jwt' }, claims, {
        hmacSecret: JSON.stringify(k.rs.publicJwk),
      }),
      reason: 'alg_not_allowed',
    },
    {
      name: 'embedded jwk header with the attacker key',
      token: signed(k.attacker, { jwk: k.attacker.publicJwk }),
      reason: 'unknown_kid',
    },
    {
      name: 'embedded jwk header under a trusted kid',
      token: forge(header(k.es, { jwk: k.attacker.publicJwk }), claims, { key: k.attacker }),
      reason: 'bad_signature',
    },
    {
      name: 'jku pointing elsewhere',
      token: signed(k.attacker, { jku: tripwireUrl }),
      reason: 'unknown_kid',
    },
    {
      name: 'x5u pointing elsewhere',
      token: signed(k.attacker, { x5u: tripwireUrl }),
      reason: 'unknown_kid',
    },
    {
      name: 'jku under a trusted kid',
      token: forge(header(k.es, { jku: tripwireUrl }), claims, { key: k.attacker }),
      reason: 'bad_signature',
    },
    {
      name: 'unknown kid',
      token: forge(header(k.es, { kid: 'no-such-kid' }), claims, { key: k.es }),
      reason: 'unknown_kid',
    },
    {
      name: 'no kid',
      token: forge({ alg: 'ES256', typ: 'at+jwt' }, claims, { key: k.es }),
      reason: 'unknown_kid',
    },
    {
      name: 'kid of an RSA key with alg ES256',
      token: forge({ alg: 'ES256', kid: k.rs.kid, typ: 'at+jwt' }, claims, { key: k.es }),
      reason: 'alg_not_allowed',
    },
    {
      name: 'kid of an RS256 key with alg PS256',
      token: forge({ alg: 'PS256', kid: k.rs.kid, typ: 'at+jwt' }, claims, {
        key: k.rs,
        as: 'PS256',
      }),
      reason: 'alg_not_allowed',
    },
    {
      name: 'kid of an EdDSA key with alg ES256',
      token: forge({ alg: 'ES256', kid: k.ed.kid, typ: 'at+jwt' }, claims, { key: k.es }),
      reason: 'alg_not_allowed',
    },
    { name: 'key of the other trusted issuer', token: signed(k.other), reason: 'unknown_kid' },
    {
      name: "other issuer named, this issuer's key",
      token: signed(k.es, {}, { ...claims, iss: OTHER_ISSUER }),
      reason: 'unknown_kid',
    },
    {
      name: 'signed by the attacker under a trusted kid',
      token: forge(header(k.es), claims, { key: k.attacker }),
      reason: 'bad_signature',
    },
    {
      name: 'tampered payload',
      token: `${goodHeader}.${b64url({ ...claims, scope: 'orders:delete admin' })}.${goodSignature}`,
      reason: 'bad_signature',
    },
    {
      name: 'ES256 signature in DER instead of r||s',
      token: (() => {
        const input = `${b64url(header(k.es))}.${b64url(claims)}`;
        return `${input}.${sign('sha256', Buffer.from(input), k.es.privateKey).toString('base64url')}`;
      })(),
      reason: 'bad_signature',
    },
    { name: 'expired', token: signed(k.es, {}, { ...claims, exp: now - 6 }), reason: 'expired' },
    {
      name: 'nbf in the future',
      token: signed(k.es, {}, { ...claims, nbf: now + 60 }),
      reason: 'not_yet_valid',
    },
    {
      name: 'iat in the future',
      token: signed(k.es, {}, { ...claims, iat: now + 60 }),
      reason: 'not_yet_valid',
    },
    {
      name: 'wrong iss',
      token: signed(k.es, {}, { ...claims, iss: 'https://evil.test' }),
      reason: 'issuer_mismatch',
    },
    {
      name: 'wrong aud',
      token: signed(k.es, {}, { ...claims, aud: 'billing-api' }),
      reason: 'audience_mismatch',
    },
    {
      name: 'aud array without ours',
      token: signed(k.es, {}, { ...claims, aud: ['billing-api', 'x'] }),
      reason: 'audience_mismatch',
    },
    ...['iss', 'sub', 'aud', 'exp', 'iat', 'jti'].map((name) => ({
      name: `missing ${name}`,
      token: signed(k.es, {}, without(name)),
      reason: 'missing_claim' as const,
    })),
    {
      name: 'exp as a string',
      token: signed(k.es, {}, { ...claims, exp: String(now + 300) }),
      reason: 'missing_claim',
    },
    { name: 'typ JWT', token: signed(k.es, { typ: 'JWT' }), reason: 'typ_mismatch' },
    {
      name: 'no typ',
      token: forge({ alg: 'ES256', kid: k.es.kid }, claims, { key: k.es }),
      reason: 'typ_mismatch',
    },
    {
      name: 'unknown crit',
      token: signed(k.es, { crit: ['exp'], exp: 1 }),
      reason: 'crit_unsupported',
    },
    {
      name: 'oversized',
      token: signed(k.es, {}, { ...claims, pad: 'x'.repeat(9000) }),
      reason: 'oversized',
    },
    { name: 'one segment', token: 'abcdef', reason: 'malformed' },
    { name: 'two segments', token: `${goodHeader}.${b64url(claims)}`, reason: 'malformed' },
    { name: 'four segments', token: `${good}.${goodSignature}`, reason: 'malformed' },
    {
      // Node's base64url decoder also reads '+' and '/': the same signature bytes, another token.
      name: 'signature in the standard base64 alphabet',
      token: respelledSignature(),
      reason: 'malformed',
    },
    {
      // Decoders ignore the last character's unused low bits: the same signature, spelled anew.
      name: 'signature with the unused bits of its last character set',
      token: withUnusedBitSet(good),
      reason: 'malformed',
    },
    {
      name: 'payload with the unused bits of its last character set',
      token: `${goodHeader}.${withUnusedBitSet(good.split('.')[1])}.${goodSignature}`,
      reason: 'malformed',
    },
    {
      name: 'a character outside base64url in the signature',
      token: `${good.slice(0, -1)}*`,
      reason: 'malformed',
    },
    {
      name: 'a non-ASCII character in the payload',
      token: `${goodHeader}.${b64url(claims).slice(0, -1)}é.${goodSignature}`,
      reason: 'malformed',
    },
    {
      name: 'padded base64',
      token: `${goodHeader}==.${b64url(claims)}.${goodSignature}`,
      reason: 'malformed',
    },
    {
      name: 'impossible base64 length',
      token: `${goodHeader}.${b64url(claims)}x.${goodSignature}`,
      reason: 'malformed',
    },
    {
      name: 'header not JSON',
      token: `${b64url('not json')}.${b64url(claims)}.${goodSignature}`,
      reason: 'malformed',
    },
    {
      name: 'header a JSON array',
      token: `${b64url([1])}.${b64url(claims)}.${goodSignature}`,
      reason: 'malformed',
    },
    {
      name: 'payload not JSON',
      token: `${goodHeader}.${b64url('{"iss":')}.${goodSignature}`,
      reason: 'malformed',
    },
  ];
  return rows;
}
