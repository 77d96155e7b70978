import { describe, expect, it } from '@jest/globals';
import type { AuthModuleOptions, TrustedIssuerOptions } from '../options/auth-options.js';
import type { TokenRenewer } from '../renewal/token-renewer.js';
import { AUTH_MODULE_OPTIONS, AUTH_OPTIONS } from '../nest/auth.module-definition.js';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import { trustOnly, withIssuer, type ProviderOverridable } from './trust-only.js';

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

describe('trustOnly: the override of the resolved options', () => {
  /** A builder that records what it was asked to override, as TestingModuleBuilder would. */
  function recordingBuilder() {
    const calls: { token: string | symbol; factory: (o: AuthModuleOptions) => unknown }[] = [];
    const builder: ProviderOverridable<'builder'> = {
      overrideProvider: (token) => ({
        useFactory: ({ factory, inject }) => {
          expect(inject).toEqual([AUTH_MODULE_OPTIONS]);
          calls.push({ token, factory });
          return 'builder';
        },
      }),
    };
    return { builder, calls };
  }

  it("replaces AUTH_OPTIONS, resolved from the app's options with the overrides laid over", () => {
    const { builder, calls } = recordingBuilder();
    expect(trustOnly(builder, testEntry, { clockToleranceSeconds: 1 })).toBe('builder');
    expect(calls.map((c) => c.token)).toEqual([AUTH_OPTIONS]);
    const resolved = calls[0].factory({
      issuers: [{ issuer: 'https://a.example', keys: [] }],
      audience: 'orders-api',
      clockToleranceSeconds: 3,
      maxTokenBytes: 4096,
    }) as ResolvedAuthOptions;
    expect(resolved.clockToleranceSeconds).toBe(1);
    expect(resolved.maxTokenBytes).toBe(4096);
    expect(resolved.issuers.map((i) => i.issuer)).toEqual([testEntry.issuer]);
  });

  it('refuses options the app could not start with, as start-up would', () => {
    const { builder, calls } = recordingBuilder();
    trustOnly(builder, testEntry);
    expect(() => calls[0].factory({ issuers: [], audience: [] })).toThrow(/audience/);
  });
});
