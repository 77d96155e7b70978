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
  it('keys a user by sub and a service client by client_id, with one issuer', () => {
    expect(consumerKey(principal('https://a', 'alice'), false)).toBe('sub:alice');
    expect(consumerKey(principal('https://a', 'reports', 'reports'), false)).toBe('client:reports');
  });

  it('puts the issuer after an @ with several issuers, unchanged for ids without % or @', () => {
    expect(consumerKey(principal('https://a', 'alice'), true)).toBe('sub:alice@https://a');
    expect(consumerKey(principal('https://a', 'r', 'r'), true)).toBe('client:r@https://a');
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
      const keys = pairs.map(([iss, sub]) =>
        consumerKey(principal(iss, sub, clientId ?? sub), true),
      );
      expect(new Set(keys).size).toBe(pairs.length);
    }
  });
});
