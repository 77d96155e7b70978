import { describe, expect, it } from '@jest/globals';
import type { AuthModuleOptions, TrustedIssuerOptions } from '../options/auth-options.js';
import type { TokenRenewer } from '../renewal/token-renewer.js';
import { withIssuer } from './trust-only.js';

const testEntry: TrustedIssuerOptions = {
  issuer: 'https://login.example.com',
  jwksUri: 'http://t/jwks',
};
const renewer: TokenRenewer = { renew: async () => undefined };

describe('withIssuer: the options an overridden AuthModule resolves', () => {
  it("replaces every issuer with the test issuer's entry, keeping every other option", () => {
    const options: AuthModuleOptions = {
      issuers: [
        { issuer: 'https://a.example', jwksUri: 'https://a.example/jwks' },
        { issuer: 'https://b.example', keys: [] },
      ],
      audience: ['orders-api', 'billing-api'],
      revocation: { sensitiveScopes: ['orders:delete'] },
      clockToleranceSeconds: 2,
    };
    expect(withIssuer(options, testEntry)).toEqual({ ...options, issuers: [testEntry] });
  });

  it('takes the reading rules of an entry with the same iss, never where its keys come from', () => {
    const production = {
      issuer: testEntry.issuer,
      discovery: true,
      keys: [{ kty: 'EC', kid: 'prod' }],
      keySource: { ready: true, cachedKey: () => undefined, key: async () => undefined },
      profile: 'keycloak',
      scopeClaims: ['realm_access.roles'],
    } as unknown as TrustedIssuerOptions;
    const options: AuthModuleOptions = { issuers: [production], audience: 'orders-api' };
    expect(withIssuer(options, testEntry).issuers).toEqual([
      { ...testEntry, profile: 'keycloak', scopeClaims: ['realm_access.roles'] },
    ]);
  });

  it('renews the test issuer where renewal named the replaced issuers', () => {
    const options: AuthModuleOptions = {
      issuers: [{ issuer: 'https://a.example', keys: [] }],
      audience: 'orders-api',
      renewal: { renewer, windowSeconds: 60, issuers: ['https://a.example'] },
    };
    expect(withIssuer(options, testEntry).renewal).toEqual({
      renewer,
      windowSeconds: 60,
      issuers: [testEntry.issuer],
    });
    const everyIssuer = { ...options, renewal: { renewer, windowSeconds: 60 } };
    expect(withIssuer(everyIssuer, testEntry).renewal).toBe(everyIssuer.renewal);
  });

  it('leaves options that are no issuer list to start-up validation', () => {
    const options = { issuers: 'x', audience: 'a' } as unknown as AuthModuleOptions;
    expect(withIssuer(options, testEntry).issuers).toEqual([testEntry]);
  });
});
