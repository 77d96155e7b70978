import { describe, expect, it } from '@jest/globals';
import { principalFromClaims } from '../verify/principal.js';
import { consumerKey } from './consumer-tracker.js';

const principal = (iss: string, sub: string, clientId = 'spa') =>
  principalFromClaims({
    iss,
    sub,
    aud: 'orders-api',
    exp: 1_700_000_900,
    iat: 1_700_000_000,
    jti: 'j',
    client_id: clientId,
  });

describe('consumerKey', () => {
  it('keys a user by sub and a service client by client_id, the issuer after an @', () => {
    expect(consumerKey(principal('https://a', 'alice'))).toBe('sub:alice@https://a');
    expect(consumerKey(principal('https://a', 'reports', 'reports'))).toBe(
      'client:reports@https://a',
    );
  });

  it("keys one issuer's consumer apart from another's of the same name", () => {
    // Two applications of one issuer each, counting in one Redis: alice of each is someone else.
    expect(consumerKey(principal('https://a', 'alice'))).not.toBe(
      consumerKey(principal('https://b', 'alice')),
    );
  });

  it('never gives two consumers of two issuers one key when a sub and an issuer hold an @', () => {
    // Joined plainly, both were `sub:bob@https://a.test/x@https://b.test`.
    const pairs: [string, string][] = [
      ['https://b.test', 'bob@https://a.test/x'],
      ['https://a.test/x@https://b.test', 'bob'],
      ['https://b.test', 'bob%40https://a.test/x'],
      ['https://b.test', 'bob%2540https://a.test/x'],
    ];
    for (const clientId of ['spa', undefined]) {
      const keys = pairs.map(([iss, sub]) => consumerKey(principal(iss, sub, clientId ?? sub)));
      expect(new Set(keys).size).toBe(pairs.length);
    }
  });
});
