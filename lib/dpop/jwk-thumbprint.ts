import { createHash } from 'node:crypto';

// RFC 7638 §3.2: the required members of each key type, in lexicographic order.
const REQUIRED_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
};

/**
 * The RFC 7638 thumbprint of a public JWK: base64url SHA-256 of its required members as JSON, in
 * lexicographic order and without whitespace. What `cnf.jkt` (RFC 9449 §6.1) holds. Throws a
 * `TypeError` for a key type without one or a required member that is not a string.
 */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string {
  const kty = jwk.kty;
  const members =
    typeof kty === 'string' && Object.hasOwn(REQUIRED_MEMBERS, kty)
      ? REQUIRED_MEMBERS[kty]
      : undefined;
  if (members === undefined) throw new TypeError(`no thumbprint for key type ${String(kty)}`);
  const canonical: Record<string, string> = {};
  for (const name of members) {
    const value = jwk[name];
    if (typeof value !== 'string' || value === '')
      throw new TypeError(`JWK member ${name} is missing`);
    canonical[name] = value;
  }
  // JSON.stringify keeps insertion order, which is the lexicographic order above; the values are
  // base64url strings and curve names, which it writes exactly as RFC 7638 §3.3 asks.
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}
