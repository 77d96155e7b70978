import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import type { VerificationKey } from '../keys/jwk.js';
import { StaticKeySource } from '../keys/key-source.js';
import type { Principal } from './principal.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

const principal = (subject: string) => ({ subject }) as Principal;
const KEYS = new StaticKeySource([]);
const K1: VerificationKey = {
  kid: 'k1',
  alg: 'EdDSA',
  key: generateKeyPairSync('ed25519').publicKey,
};

describe('VerifiedTokenCache', () => {
  it('answers only the exact token it holds', () => {
    const cache = new VerifiedTokenCache(10);
    cache.set('header.payload.signature', principal('alice'), KEYS, K1);
    expect(cache.get('header.payload.signature')).toMatchObject({
      principal: { subject: 'alice' },
      keys: KEYS,
      kid: 'k1',
      key: K1.key,
    });
    expect(cache.get('header.payload.signaturf')).toBeUndefined();
  });

  it('never answers a token of the same length and tail (the same key) with another', () => {
    const cache = new VerifiedTokenCache(10);
    cache.set('aaaaaa.payload.signature', principal('alice'), KEYS, K1);
    expect(cache.get('bbbbbb.payload.signature')).toBeUndefined();
    cache.delete('bbbbbb.payload.signature');
    expect(cache.size).toBe(1);
    // The later token, once verified, takes the entry.
    cache.set('bbbbbb.payload.signature', principal('bob'), KEYS, K1);
    expect(cache.get('bbbbbb.payload.signature')?.principal.subject).toBe('bob');
    expect(cache.get('aaaaaa.payload.signature')).toBeUndefined();
  });

  it('holds at most its size, dropping the oldest entry first', () => {
    const cache = new VerifiedTokenCache(2);
    for (const name of ['one', 'two', 'three']) cache.set(`${name}.p.s`, principal(name), KEYS, K1);
    expect(cache.size).toBe(2);
    expect(cache.get('one.p.s')).toBeUndefined();
    expect(cache.get('three.p.s')?.principal.subject).toBe('three');
  });

  it('replaces an entry under the same key without dropping another, and counts it as newest', () => {
    const cache = new VerifiedTokenCache(2);
    cache.set('one.p.s', principal('one'), KEYS, K1);
    cache.set('aaaaaa.payload.signature', principal('alice'), KEYS, K1);
    cache.set('bbbbbb.payload.signature', principal('bob'), KEYS, K1);
    expect(cache.size).toBe(2);
    expect(cache.get('one.p.s')?.principal.subject).toBe('one');
    cache.set('three.p.s', principal('three'), KEYS, K1);
    expect(cache.get('one.p.s')).toBeUndefined();
    expect(cache.get('bbbbbb.payload.signature')?.principal.subject).toBe('bob');
  });

  it('holds nothing with size 0', () => {
    const cache = new VerifiedTokenCache(0);
    cache.set('one.p.s', principal('one'), KEYS, K1);
    expect(cache.size).toBe(0);
  });
});
