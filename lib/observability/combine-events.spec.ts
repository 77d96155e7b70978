import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { makeKey, validToken } from '../../test/support/keys.js';
import type { AuthEvents } from '../events.js';
import { resolveAuthOptions } from '../options/resolve-auth-options.js';
import { createTokenVerifier } from '../options/create-token-verifier.js';
import { combineAuthEvents } from './combine-events.js';

const NOW = 1_700_000_000;
const key = makeKey('EdDSA');

function verifierWith(events: AuthEvents) {
  return createTokenVerifier(
    resolveAuthOptions({
      issuers: [{ issuer: 'https://issuer.test', keys: [key.publicJwk] }],
      audience: 'orders-api',
      now: () => NOW,
      events,
    }),
  );
}

describe('combineAuthEvents', () => {
  let warnings: string[];
  beforeEach(() => {
    warnings = [];
    jest
      .spyOn(process, 'emitWarning')
      .mockImplementation((warning: string | Error) => void warnings.push(String(warning)));
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('passes every event to each listener that has the hook, in order, methods of classes too', async () => {
    const calls: string[] = [];
    class AccessLog implements AuthEvents {
      readonly name = 'log';
      tokenVerified(): void {
        calls.push(`${this.name}:verified`);
      }
    }
    const metrics: AuthEvents = {
      tokenVerified: ({ cached }) => calls.push(`metrics:verified:${cached}`),
      tokenRejected: ({ error }) => calls.push(`metrics:rejected:${error.reason}`),
    };
    const verifier = verifierWith(combineAuthEvents(metrics, new AccessLog()));

    await verifier.verify(validToken(key, NOW));
    await expect(async () => verifier.verify(validToken(key, NOW - 3600))).rejects.toMatchObject({
      reason: 'expired',
    });
    expect(calls).toEqual(['metrics:verified:false', 'log:verified', 'metrics:rejected:expired']);
  });

  it('keeps a throwing or rejecting listener from breaking verification or the other listeners', async () => {
    const seen: boolean[] = [];
    const broken: AuthEvents = {
      tokenVerified: () => {
        throw new Error('exporter down');
      },
    };
    const rejecting = { tokenVerified: async () => Promise.reject(new Error('queue full')) };
    const working: AuthEvents = { tokenVerified: ({ cached }) => seen.push(cached) };
    const verifier = verifierWith(combineAuthEvents(broken, rejecting, working));

    const token = validToken(key, NOW);
    await expect(async () => verifier.verify(token)).resolves.toMatchObject({ subject: 'alice' });
    await expect(async () => verifier.verify(token)).resolves.toMatchObject({ subject: 'alice' });
    await nextTurn();

    expect(seen).toEqual([false, true]);
    // One warning per listener and hook, however often it fails.
    expect(warnings).toEqual([
      expect.stringContaining('tokenVerified (further errors'),
      expect.stringContaining('tokenVerified (further errors'),
    ]);
    expect(warnings.join()).toMatch(/exporter down.*queue full/);
  });

  it('makes an empty listener of no listeners', () => {
    expect(combineAuthEvents()).toEqual({});
  });
});
