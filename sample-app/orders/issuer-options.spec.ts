import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../config.js';
import { trustedIssuerOptions } from './issuer-options.js';

describe("an issuers file entry as the library's options", () => {
  it('passes where the keys come from', () => {
    expect(trustedIssuerOptions({ issuer: 'https://a.example', discovery: true }, 0)).toStrictEqual(
      { issuer: 'https://a.example', discovery: true },
    );
    expect(
      trustedIssuerOptions({ issuer: 'https://a.example', jwksUri: 'https://a.example/k' }, 0),
    ).toStrictEqual({ issuer: 'https://a.example', jwksUri: 'https://a.example/k' });
  });

  it.each([
    { field: 'profile', entry: { profile: 'keycloak' as const } },
    { field: 'audience', entry: { audience: 'account' } },
    { field: 'scope_claims', entry: { scopeClaims: ['roles'] } },
    { field: 'tenant_claim', entry: { tenantClaim: 'org_id' } },
  ])(
    'stops orders rather than ignore $field, which the library cannot take yet',
    ({ field, entry }) => {
      const map = () =>
        trustedIssuerOptions({ issuer: 'https://a.example', discovery: true, ...entry }, 3);
      expect(map).toThrow(ConfigError);
      expect(map).toThrow(
        `entry 3 (issuer "https://a.example"): field "${field}" is not supported`,
      );
    },
  );
});
