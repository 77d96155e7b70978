import { describe, expect, it } from '@jest/globals';
import { AuthConfigError } from '../errors/auth-errors.js';
import { RemoteTokenRenewer } from '../renewal/remote-token-renewer.js';
import { MemoryRevocationStore } from '../revocation/memory-revocation-store.js';
import type { AuthModuleOptions } from './auth-options.js';
import { resolveAuthOptions } from './resolve-auth-options.js';

const key = { kty: 'OKP', crv: 'Ed25519', kid: 'k1', alg: 'EdDSA', x: 'x' };
const base = { issuers: [{ issuer: 'https://issuer.test', keys: [key] }], audience: 'api' };
const resolve = (extra: Record<string, unknown>) =>
  resolveAuthOptions({ ...base, ...extra } as unknown as AuthModuleOptions);

// Options often come from configuration files: a value of the wrong type must stop start-up,
// never weaken a check (a string 'false' is truthy, a string is read letter by letter).
describe('resolveAuthOptions refuses values of the wrong type', () => {
  it.each([
    { extra: { globalGuard: 0 }, message: /globalGuard must be a boolean, got 0/ },
    { extra: { globalGuard: 'false' }, message: /globalGuard must be a boolean, got "false"/ },
    { extra: { publicMetadataKey: 42 }, message: /publicMetadataKey must be a string, got 42/ },
    { extra: { publicMetadataKey: '' }, message: /publicMetadataKey must not be empty/ },
    // A fraction of a millisecond would make the fetch timer throw on every attempt.
    { extra: { jwks: { timeoutMs: 1500.5 } }, message: /jwks\.timeoutMs must be a whole number/ },
    { extra: { principalContext: 'true' }, message: /principalContext must be a boolean/ },
    {
      extra: { revocation: { sensitiveScopes: 'orders:delete' } },
      message: /revocation\.sensitiveScopes must be an array of strings, got "orders:delete"/,
    },
    { extra: { revocation: { keyPrefix: 5 } }, message: /revocation\.keyPrefix must be a string/ },
    {
      extra: { revocation: { store: {} } },
      message: /revocation\.store is not a RevocationStore: no isRevoked, isRevokedStrong/,
    },
    {
      extra: { revocation: { store: null } },
      message: /revocation\.store is not a RevocationStore/,
    },
    {
      extra: {
        serviceIdentities: {
          job: { principal: { subject: 'job', scopes: ['a'] }, crossTenant: 'false' },
        },
      },
      message: /serviceIdentities\.job\.crossTenant must be a boolean, got "false"/,
    },
    {
      extra: { serviceIdentities: { job: { principal: { subject: 'job', scopes: 'a b' } } } },
      message: /serviceIdentities\.job\.principal\.scopes must be an array of strings/,
    },
    {
      extra: { serviceIdentities: { job: null } },
      message: /serviceIdentities\.job must be an object/,
    },
    {
      extra: { tokenSources: { forbiddenQueryParameters: 'access_token' } },
      message: /tokenSources\.forbiddenQueryParameters must be an array of strings/,
    },
    {
      extra: { tokenSources: { bodyField: 5 } },
      message: /tokenSources\.bodyField must be a string/,
    },
    {
      extra: { tokenSources: { headers: 'x-token' } },
      message: /tokenSources\.headers must be an array/,
    },
    { extra: { now: 5 }, message: /now must be a function/ },
    { extra: { fetch: 'fetch' }, message: /fetch must be a function/ },
    { extra: { events: 'metrics' }, message: /events must be an object/ },
    { extra: { renewal: null }, message: /renewal must be an object/ },
    {
      extra: {
        issuers: [{ issuer: 'https://issuer.test', jwksUri: 'https://svc:s3cret@idp.test/jwks' }],
      },
      message: /issuers\[0\]\.jwksUri must not carry credentials/,
    },
    ...[
      { issuer: { profile: 'okta2' }, message: /issuers\[0\]\.profile: "okta2" is not one of/ },
      { issuer: { profile: 'toString' }, message: /issuers\[0\]\.profile: "toString"/ },
      { issuer: { audience: 5 }, message: /issuers\[0\]\.audience: at least one value/ },
      { issuer: { audience: [''] }, message: /issuers\[0\]\.audience: "" is not a value/ },
      {
        issuer: { scopeClaims: 'scope' },
        message: /issuers\[0\]\.scopeClaims must be an array of strings, got "scope"/,
      },
      { issuer: { scopeClaims: ['a..b'] }, message: /issuers\[0\]\.scopeClaims: "a\.\.b" is not/ },
      { issuer: { tenantClaim: 5 }, message: /issuers\[0\]\.tenantClaim must be a string, got 5/ },
      { issuer: { tenantClaim: false }, message: /issuers\[0\]\.tenantClaim must be a string/ },
      { issuer: { tokenTypes: 'JWT' }, message: /issuers\[0\]\.tokenTypes must be a non-empty/ },
      { issuer: { tokenTypes: [] }, message: /issuers\[0\]\.tokenTypes must be a non-empty/ },
      { issuer: { tokenTypes: [''] }, message: /issuers\[0\]\.tokenTypes must be a non-empty/ },
      {
        issuer: { requiredClaims: ['iat', 1] },
        message: /issuers\[0\]\.requiredClaims must be an array of strings/,
      },
      { issuer: { requiredClaims: [''] }, message: /issuers\[0\]\.requiredClaims: "" is not/ },
      {
        issuer: { scope_claims: ['scp'] },
        message: /unknown option: issuers\[0\]\.scope_claims \(issuers\[\]\.scopeClaims\)/,
      },
    ].map(({ issuer, message }) => ({
      extra: { issuers: [{ ...base.issuers[0], ...issuer }] },
      message,
    })),
    {
      extra: { tokenTypes: ['JWT'] },
      message:
        /unknown option: tokenTypes \(accepted types are per issuer: issuers\[\]\.tokenTypes/,
    },
    {
      extra: { audience: undefined },
      message: /issuers\[0\]: give it an audience, or the module an audience/,
    },
  ])('$message', ({ extra, message }) => {
    expect(() => resolve(extra)).toThrow(AuthConfigError);
    expect(() => resolve(extra)).toThrow(message);
  });

  it('takes values of the right type as they are', () => {
    const store = new MemoryRevocationStore();
    const options = resolve({
      globalGuard: false,
      principalContext: true,
      revocation: { store, sensitiveScopes: ['orders:delete'], keyPrefix: 'p:' },
      serviceIdentities: {
        job: { principal: { subject: 'job', scopes: ['a'], tenant: 't' }, crossTenant: true },
      },
      tokenSources: { headers: ['X-Token'], bodyField: 'token', forbiddenQueryParameters: [] },
    });
    expect(options.globalGuard).toBe(false);
    expect(options.principalContext).toBe(true);
    expect(options.revocation && [...options.revocation.sensitiveScopes]).toEqual([
      'orders:delete',
    ]);
    expect(options.revocation && options.revocation.store).toBe(store);
    expect(options.tokenSources).toEqual({
      headers: ['x-token'],
      bodyField: 'token',
      forbiddenQueryParameters: [],
    });
  });
});

// Keys fetched, and client secrets sent, over plain HTTP across a network can be swapped or read
// on the way: under requireHttps (what production sets) only https or loopback http is taken.
describe('requireHttps', () => {
  const withJwks = (jwksUri: string, requireHttps?: boolean) =>
    resolve({ issuers: [{ issuer: 'https://issuer.test', jwksUri }], requireHttps });
  const withTokenEndpoint = (tokenEndpoint: string) =>
    resolve({
      requireHttps: true,
      serviceIdentities: {
        job: { clientCredentials: { tokenEndpoint, clientId: 'job', clientSecret: 's' } },
      },
    });

  it.each([
    { url: 'http://auth.example.com/.well-known/jwks.json' },
    { url: 'http://10.0.0.5:3000/jwks' },
    { url: 'http://127.0.0.1.nip.io/jwks' },
    { url: 'http://localhost.example.com/jwks' },
    { url: 'http://[::ffff:10.0.0.1]/jwks' },
    { url: 'http://0.0.0.0:3000/jwks' },
  ])('refuses $url as a JWKS URL or token endpoint', ({ url }) => {
    expect(() => withJwks(url, true)).toThrow(/issuers\[0\]\.jwksUri must be https/);
    expect(() => withTokenEndpoint(url)).toThrow(
      /serviceIdentities\.job: tokenEndpoint must be https/,
    );
    expect(() => new RemoteTokenRenewer({ url, requireHttps: true })).toThrow(AuthConfigError);
  });

  it.each([
    { url: 'https://auth.example.com/jwks' },
    { url: 'http://localhost:3000/jwks' },
    { url: 'http://127.0.0.1:3000/jwks' },
    { url: 'http://127.1.2.3/jwks' },
    { url: 'http://[::1]:3000/jwks' },
  ])('takes $url', ({ url }) => {
    expect(withJwks(url, true).issuers[0]).toMatchObject({ jwksUri: url });
    expect(() => withTokenEndpoint(url)).not.toThrow();
    expect(() => new RemoteTokenRenewer({ url, requireHttps: true })).not.toThrow();
  });

  it('takes plain http anywhere when it is off (the default), and refuses a non-boolean', () => {
    expect(withJwks('http://auth.example.com/jwks').requireHttps).toBe(false);
    expect(() => withJwks('http://auth.example.com/jwks', 'true' as never)).toThrow(
      /requireHttps must be a boolean/,
    );
  });
});

describe('resolveAuthOptions, per issuer', () => {
  it("needs no module audience when every issuer has its own, and gives the others the module's", () => {
    const own = resolveAuthOptions({ issuers: [{ ...base.issuers[0], audience: ['own'] }] });
    expect([...own.issuers[0].policy.audiences]).toEqual(['own']);
    const both = resolve({
      issuers: [
        { ...base.issuers[0], profile: 'cognito', audience: 'client-1' },
        { issuer: 'https://other.test', keys: [key] },
      ],
    });
    expect([...both.issuers[0].policy.audiences]).toEqual(['client-1']);
    expect(both.issuers[0].policy.audienceClaim).toBe('client_id');
    expect([...both.issuers[1].policy.audiences]).toEqual(['api']);
    expect(both.issuers[1].policy.profile).toBe('rfc9068');
  });
});
