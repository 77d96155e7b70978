import { describe, expect, it } from '@jest/globals';
import { AuthConfigError } from '../errors/auth-errors.js';
import type { AuthModuleOptions } from './auth-options.js';
import { resolveAuthOptions } from './resolve-auth-options.js';

const key = { kty: 'OKP', crv: 'Ed25519', kid: 'k1', alg: 'EdDSA', x: 'x' };
const base = { issuers: [{ issuer: 'https://issuer.test', keys: [key] }], audience: 'api' };
const resolve = (dpop: unknown) =>
  resolveAuthOptions({ ...base, dpop } as unknown as AuthModuleOptions);

describe('the dpop options', () => {
  it('are off when left out, and on with their defaults with {}', () => {
    expect(resolveAuthOptions(base as AuthModuleOptions).dpop).toBe(false);
    expect(resolve({})).toMatchObject({
      dpop: {
        required: false,
        algorithms: ['ES256', 'EdDSA', 'RS256', 'PS256'],
        proofMaxAgeSeconds: 60,
        maxProofBytes: 8192,
        origins: [],
        nonce: undefined,
        keyPrefix: '{tessera}:dpop:',
      },
    });
  });

  it('take required per issuer, and normalize origins', () => {
    const dpop = resolve({
      required: ['https://issuer.test'],
      origins: ['HTTPS://API.Example.com:443/'],
    }).dpop;
    expect(dpop && [...(dpop.required as Set<string>)]).toEqual(['https://issuer.test']);
    expect(dpop && dpop.origins).toEqual(['https://api.example.com']);
  });

  it('take only https or loopback http origins under requireHttps', () => {
    const withOrigins = (origins: string[]) =>
      resolveAuthOptions({ ...base, requireHttps: true, dpop: { origins } } as AuthModuleOptions);
    expect(() => withOrigins(['http://api.example.com'])).toThrow(AuthConfigError);
    expect(() => withOrigins(['http://api.example.com'])).toThrow(
      /must be https under requireHttps/,
    );
    expect(withOrigins(['https://api.example.com', 'http://127.0.0.1:3001']).dpop).toMatchObject({
      origins: ['https://api.example.com', 'http://127.0.0.1:3001'],
    });
    expect(resolve({ origins: ['http://api.example.com'] }).dpop).toMatchObject({
      origins: ['http://api.example.com'],
    });
  });

  it.each([
    { dpop: 'on', message: /dpop must be an object/ },
    { dpop: { algorithms: ['none'] }, message: /dpop\.algorithms: "none" is not one of/ },
    { dpop: { algorithms: ['HS256'] }, message: /dpop\.algorithms: "HS256" is not one of/ },
    { dpop: { algorithms: [] }, message: /dpop\.algorithms must not be empty/ },
    { dpop: { required: 'true' }, message: /dpop\.required must be an array of strings/ },
    { dpop: { required: ['https://other.test'] }, message: /not a trusted issuer/ },
    { dpop: { proofMaxAgeSeconds: 0 }, message: /dpop\.proofMaxAgeSeconds must be a number/ },
    { dpop: { maxProofBytes: 10 }, message: /dpop\.maxProofBytes must be a number/ },
    { dpop: { origins: ['api.example.com'] }, message: /dpop\.origins: .* is not a URL/ },
    { dpop: { origins: ['https://api.example.com/v1'] }, message: /without a path/ },
    { dpop: { nonce: { secret: 'short' } }, message: /at least 32 bytes/ },
    { dpop: { replayCache: {} }, message: /dpop\.replayCache is not a DpopReplayCache/ },
    { dpop: { ath: false }, message: /unknown option: dpop\.ath/ },
    { dpop: { nonce: { ttl: 5 } }, message: /unknown option: dpop\.nonce\.ttl/ },
  ])('refuse $dpop', ({ dpop, message }) => {
    expect(() => resolve(dpop)).toThrow(AuthConfigError);
    expect(() => resolve(dpop)).toThrow(message);
  });
});
