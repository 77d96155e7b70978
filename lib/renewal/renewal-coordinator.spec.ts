import { describe, expect, it } from '@jest/globals';
import type { Principal } from '../verify/principal.js';
import { RenewalCoordinator } from './renewal-coordinator.js';
import type { TokenRenewer } from './token-renewer.js';

const NOW = 1_700_000_000;

function principal(issuer: string, tokenId: string): Principal {
  return { issuer, tokenId, subject: 'alice', expiresAt: NOW + 30 } as Principal;
}

describe('RenewalCoordinator', () => {
  const coordinator = () => {
    const calls: string[] = [];
    const renewer: TokenRenewer = {
      renew: async (_token, p) => {
        calls.push(p.issuer);
        return `renewed by ${p.issuer}`;
      },
    };
    return {
      calls,
      coordinator: new RenewalCoordinator(
        renewer,
        60,
        () => true,
        () => NOW,
      ),
    };
  };

  it('renews a token once for every request that carries it', async () => {
    const { calls, coordinator: c } = coordinator();
    const p = principal('https://a.test', 'j-1');
    const answers = await Promise.all([c.renew('t', p), c.renew('t', p), c.renew('t', p)]);
    expect(answers).toEqual(Array(3).fill('renewed by https://a.test'));
    expect(calls).toEqual(['https://a.test']);
  });

  it("never hands one issuer's token the renewal of another's with the same jti", async () => {
    const { calls, coordinator: c } = coordinator();
    expect(await c.renew('ta', principal('https://a.test', 'j-1'))).toBe(
      'renewed by https://a.test',
    );
    expect(await c.renew('tb', principal('https://b.test', 'j-1'))).toBe(
      'renewed by https://b.test',
    );
    expect(calls).toEqual(['https://a.test', 'https://b.test']);
  });
});
