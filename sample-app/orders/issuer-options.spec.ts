import { describe, expect, it } from '@jest/globals';
import { resolveAuthOptions } from '../../lib/options/resolve-auth-options.js';
import { trustedIssuerOptions } from './issuer-options.js';

describe("an issuers file entry as the library's options", () => {
  it('passes where the keys come from', () => {
    expect(trustedIssuerOptions({ issuer: 'https://a.example', discovery: true })).toStrictEqual({
      issuer: 'https://a.example',
      discovery: true,
    });
    expect(
      trustedIssuerOptions({ issuer: 'https://a.example', jwksUri: 'https://a.example/k' }),
    ).toStrictEqual({ issuer: 'https://a.example', jwksUri: 'https://a.example/k' });
  });

  it('passes the profile and its overrides, which the library accepts', () => {
    const options = trustedIssuerOptions({
      issuer: 'https://kc.example/realms/shop',
      discovery: true,
      profile: 'keycloak',
      audience: ['orders-api', 'account'],
      scopeClaims: ['scope', 'realm_access.roles'],
      tenantClaim: 'org.id',
    });
    expect(options).toStrictEqual({
      issuer: 'https://kc.example/realms/shop',
      discovery: true,
      profile: 'keycloak',
      audience: ['orders-api', 'account'],
      scopeClaims: ['scope', 'realm_access.roles'],
      tenantClaim: 'org.id',
    });
    expect(() => resolveAuthOptions({ issuers: [options] })).not.toThrow();
  });
});
